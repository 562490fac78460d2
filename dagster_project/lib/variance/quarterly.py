"""One quarter's variance: read the inputs, decompose, store, log (``compute_quarterly_variance``).

The plan is the quarter's locked forecast snapshot (``forecast.forecast_locks``), which
forecasting creates; this module only reads it. Budgets come from ``marts.fct_budgets`` and
whether a quarter is complete from ``marts.dim_calendar`` (both dbt models).
"""

from __future__ import annotations

import decimal
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import duckdb

from dagster_project.lib import forecast as fc
from dagster_project.lib.warehouse import table_exists

from . import persistence as store
from .decomposition import (
    CTX,
    EFFECTS,
    LEVEL_KEYS,
    decompose,
    rollups,
    segment_row,
    segments_from_rows,
    variance_row,
)

# The plan the actuals are compared with: the locked snapshot's base case (docs/forecasting.md).
PLAN_SCENARIO = "base"


@dataclass
class VarianceResult:
    status: str  # ok | partial | skipped
    quarter: str
    snapshot_id: str | None = None
    reason: str | None = None
    run_id: str | None = None
    totals: dict[str, Decimal | None] = field(default_factory=dict)


def compute_quarterly_variance(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    *,
    snapshot_id: str | None = None,
    scenario: str = PLAN_SCENARIO,
) -> VarianceResult:
    """Compute and store the variance of ``quarter`` (e.g. ``'2026Q2'``).

    The plan is the ``base`` scenario of the quarter's locked forecast unless ``snapshot_id``
    is given (a snapshot written before scenarios existed has only ``baseline``, which ``base``
    equals without a scenarios file, and is read instead). Replaces earlier
    rows of the quarter in ``variance.quarterly_variance`` / ``variance.variance_decomposition``.
    Never raises for data conditions: an incomplete quarter or a missing forecast or lock gives
    status ``skipped``; a missing budget gives ``partial`` (forecast variance only). Both are
    logged with a reason in ``variance.variance_runs``.
    """
    months = fc.parse_quarter(quarter)
    t0 = time.perf_counter()
    run_id = uuid.uuid4().hex
    started = fc.utcnow()
    store.ensure_schema(con)

    def log(result: VarianceResult) -> VarianceResult:
        result.run_id = run_id
        store.log_run(con, run_id, quarter, started, result.status, result.snapshot_id,
                      result.reason, int((time.perf_counter() - t0) * 1000))
        return result

    with decimal.localcontext(CTX):  # exact Decimal sums (the default context has 28 digits)
        result = _compute(con, quarter, months, snapshot_id, scenario, run_id)
    return log(result)


def _plan_snapshot(
    con: duckdb.DuckDBPyConnection, quarter: str, snapshot_id: str | None
) -> tuple[str | None, str | None]:
    """(snapshot id, skip reason): the given snapshot if it exists, else the quarter's lock."""
    if snapshot_id is not None:
        if table_exists(con, "forecast", "forecast_snapshots") and store.snapshot_exists(
            con, snapshot_id
        ):
            return snapshot_id, None
        return None, f"forecast snapshot {snapshot_id} not found"
    locked = fc.locked_snapshot(con, quarter)
    if locked is None:
        why = store.lock_skip_reason(con, quarter)
        return None, "no locked forecast" + (f": {why}" if why else "")
    return locked, None


def _compute(
    con: duckdb.DuckDBPyConnection, quarter: str, months: tuple, snapshot_id: str | None,
    scenario: str, run_id: str,
) -> VarianceResult:
    start, end = months[0], fc.add_months(months[0], 3)
    if not table_exists(con, "marts", "fct_costs_monthly"):
        return VarianceResult("skipped", quarter, reason="marts.fct_costs_monthly not found")
    reason = store.incomplete_reason(con, quarter, months)
    if reason:
        return VarianceResult("skipped", quarter, reason=reason)
    given = snapshot_id
    snapshot_id, reason = _plan_snapshot(con, quarter, snapshot_id)
    if snapshot_id is None:
        return VarianceResult("skipped", quarter, given, reason=reason)
    if scenario == PLAN_SCENARIO and store.plan_months(con, snapshot_id, scenario, start, end) == 0:
        scenario = fc.BASELINE  # a snapshot from before scenarios: base = baseline
    if store.plan_months(con, snapshot_id, scenario, start, end) < 3:
        return VarianceResult(
            "skipped", quarter, snapshot_id,
            reason=f"snapshot {snapshot_id} does not cover all months of {quarter}")

    # The commitment effect's reference discount rates: the three months up to and including
    # the plan's as-of month (the last month of actuals the locked forecast saw).
    as_of = store.snapshot_as_of(con, snapshot_id)
    ref_start, ref_end = (fc.add_months(as_of, -2), fc.add_months(as_of, 1)) if as_of else (
        None, None)
    segments = segments_from_rows(store.read_segments(
        con, snapshot_id, scenario, start, end, ref_start, ref_end).iter_rows(named=True))
    decompose(segments)
    segs = [s for s in segments if s.status != "zero"]

    currencies = store.billing_currencies(con, start, end)
    currency = currencies[0] if len(currencies) == 1 else ("MIXED" if currencies else None)
    budgets, budget_currencies, notes = store.budgets_for_quarter(con, quarter)
    if len(currencies) > 1:
        notes.append("actuals are in several billing currencies: " + ", ".join(currencies))
    if budget_currencies and currency and budget_currencies != [currency]:
        notes.append(
            f"budget currency {','.join(budget_currencies)} differs from billing currency "
            f"{currency}"
        )
    status = "ok"
    if not budgets:
        status = "partial"
        notes.insert(0, f"no budget for {quarter}: budget comparison skipped")

    outside = store.months_outside_band(con, snapshot_id, scenario, start, end, LEVEL_KEYS)
    total_budget = sum(budgets.values(), Decimal(0)) if budgets else None
    computed_at = fc.utcnow()
    common = {"quarter": quarter, "snapshot_id": snapshot_id, "run_id": run_id}
    var_rows = []
    for level, key, sums in rollups(segs, budgets):
        budget = total_budget if level == "total" else (
            budgets.get(key["team"]) if level == "team" and budgets else None)
        var_rows.append({
            **common, "currency": currency, **variance_row(level, key, sums, budget),
            "months_outside_80": outside.get((level, tuple(key.values()))),
            "computed_at": computed_at,
        })
    seg_rows = [{**common, **segment_row(s)} for s in segs]
    store.write_quarter(con, quarter, store.frame(con, "quarterly_variance", var_rows),
                        store.frame(con, "variance_decomposition", seg_rows))
    total = next(r for r in var_rows if r["level"] == "total")
    return VarianceResult(
        status, quarter, snapshot_id, "; ".join(notes) or None,
        totals={k: total[k] for k in ("actual_cost", "forecast_cost", "budget_amount",
                                       "variance_vs_forecast", *EFFECTS)},
    )
