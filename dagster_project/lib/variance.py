"""Quarterly variance: actual vs locked forecast vs budget, with price/volume/mix effects.

For a calendar fiscal quarter ``YYYYQn`` the actual effective cost of every *segment*
(team x workload x ml_model x provider x service x pricing unit) is compared with the plan of
the quarter's locked forecast snapshot (``forecast.forecast_locks``; segment rows of the
``baseline`` scenario). The difference is split, per segment, into

* ``volume_effect = C_vol - C_plan``   where ``C_vol = C_plan * r_g``
* ``mix_effect    = C_mix - C_vol``    where ``C_mix = C_plan * r_s = P_plan * Q_actual``
* ``price_effect  = C_act - C_mix``    ( = (P_act - P_plan) * Q_actual )

with ``r_s = Q_act / Q_plan`` the segment's quantity ratio and ``r_g = sum Q_act / sum Q_plan``
over the quantified segments of its *mix group* (team x workload x pricing unit: quantities
in the same unit that can be added up). New / discontinued segments go to
``new_discontinued_effect`` and segments without a usable quantity to
``unquantified_effect``. The chain telescopes, so the effects sum exactly to
``actual - plan`` for every segment and therefore for every roll-up (team, team x workload,
team x ml_model, total) -- the intermediate costs are rounded once, never the effects.
See docs/variance-and-report.md for the worked example.

Tables (schema ``variance``): ``quarterly_variance`` (roll-ups incl. budget),
``variance_decomposition`` (segments) and ``variance_runs`` (log incl. skip reasons).
"""

from __future__ import annotations

import decimal
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa

from dagster_project.lib import forecast as fc
from dagster_project.lib.warehouse import arrow_views, transaction

MONEY = pa.decimal128(38, 24)
QTY = pa.decimal128(38, 12)
PCT = pa.decimal128(18, 6)
_Q24 = Decimal(1).scaleb(-24)
_Q12 = Decimal(1).scaleb(-12)
_Q6 = Decimal(1).scaleb(-6)
_CTX = decimal.Context(prec=80, rounding=decimal.ROUND_HALF_EVEN)
EFFECTS = (
    "volume_effect",
    "mix_effect",
    "price_effect",
    "new_discontinued_effect",
    "unquantified_effect",
)
_SEG_KEYS = ("team", "workload", "ml_model", "provider", "service_name", "pricing_unit")
_LEVEL_KEYS = {
    "total": (),
    "team": ("team",),
    "team_workload": ("team", "workload"),
    "team_model": ("team", "ml_model"),
}

_DDL = (
    "CREATE SCHEMA IF NOT EXISTS variance",
    """
    CREATE TABLE IF NOT EXISTS variance.quarterly_variance (
        quarter                   VARCHAR NOT NULL,
        level                     VARCHAR NOT NULL,
        team                      VARCHAR,
        workload                  VARCHAR,
        ml_model                  VARCHAR,
        snapshot_id               VARCHAR NOT NULL,
        currency                  VARCHAR,
        actual_cost               DECIMAL(38,24) NOT NULL,
        forecast_cost             DECIMAL(38,24) NOT NULL,
        budget_amount             DECIMAL(38,24),
        variance_vs_forecast      DECIMAL(38,24) NOT NULL,
        variance_vs_forecast_pct  DECIMAL(18,6),
        variance_vs_budget        DECIMAL(38,24),
        variance_vs_budget_pct    DECIMAL(18,6),
        volume_effect             DECIMAL(38,24) NOT NULL,
        mix_effect                DECIMAL(38,24) NOT NULL,
        price_effect              DECIMAL(38,24) NOT NULL,
        new_discontinued_effect   DECIMAL(38,24) NOT NULL,
        unquantified_effect       DECIMAL(38,24) NOT NULL,
        months_outside_80         INTEGER,
        run_id                    VARCHAR NOT NULL,
        computed_at               TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS variance.variance_decomposition (
        quarter                   VARCHAR NOT NULL,
        snapshot_id               VARCHAR NOT NULL,
        team                      VARCHAR,
        workload                  VARCHAR,
        ml_model                  VARCHAR,
        provider                  VARCHAR,
        service_name              VARCHAR,
        pricing_unit              VARCHAR,
        segment_status            VARCHAR NOT NULL,
        actual_cost               DECIMAL(38,24) NOT NULL,
        plan_cost                 DECIMAL(38,24) NOT NULL,
        actual_quantity           DECIMAL(38,12),
        plan_quantity             DECIMAL(38,12),
        actual_unit_price         DECIMAL(38,12),
        plan_unit_price           DECIMAL(38,12),
        group_volume_ratio        DECIMAL(38,12),
        volume_cost               DECIMAL(38,24),
        mix_cost                  DECIMAL(38,24),
        volume_effect             DECIMAL(38,24) NOT NULL,
        mix_effect                DECIMAL(38,24) NOT NULL,
        price_effect              DECIMAL(38,24) NOT NULL,
        new_discontinued_effect   DECIMAL(38,24) NOT NULL,
        unquantified_effect       DECIMAL(38,24) NOT NULL,
        total_variance            DECIMAL(38,24) NOT NULL,
        run_id                    VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS variance.variance_runs (
        run_id       VARCHAR PRIMARY KEY,
        quarter      VARCHAR NOT NULL,
        started_at   TIMESTAMP NOT NULL,
        status       VARCHAR NOT NULL,
        snapshot_id  VARCHAR,
        reason       VARCHAR,
        duration_ms  INTEGER
    )
    """,
)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in _DDL:
        con.execute(ddl)


# --------------------------------------------------------------------------------------------
# The decomposition itself (pure; unit-tested by hand)
# --------------------------------------------------------------------------------------------


@dataclass
class Segment:
    """Quarter totals of one segment: plan (locked forecast) and actual."""

    key: dict[str, Any]
    actual_cost: Decimal = Decimal(0)
    plan_cost: Decimal = Decimal(0)
    actual_quantity: Decimal | None = None
    plan_quantity: Decimal | None = None
    status: str = ""
    effects: dict[str, Decimal] = field(default_factory=dict)
    volume_cost: Decimal | None = None
    mix_cost: Decimal | None = None
    group_ratio: Decimal | None = None

    @property
    def total_variance(self) -> Decimal:
        return _CTX.subtract(self.actual_cost, self.plan_cost)


def _q(x: Decimal) -> Decimal:
    return x.quantize(_Q24, context=_CTX)


def decompose(segments: Sequence[Segment]) -> list[Segment]:
    """Fill status, intermediate costs and the five effects of every segment (in place).

    Effects per segment sum exactly to ``actual_cost - plan_cost`` (Decimal arithmetic, the
    two intermediate costs are rounded to 24 places once and the effects are differences).
    """
    with decimal.localcontext(_CTX):  # 80 digits: sums of DECIMAL(38,24) never round
        return _decompose(segments)


def _decompose(segments: Sequence[Segment]) -> list[Segment]:
    groups: dict[tuple, list[Segment]] = {}
    for s in segments:
        zero = dict.fromkeys(EFFECTS, Decimal(0))
        s.effects = zero
        if s.plan_cost == 0 and s.actual_cost == 0:
            s.status = "zero"
        elif s.plan_cost == 0:
            s.status = "new"
            zero["new_discontinued_effect"] = s.actual_cost
        elif s.actual_cost == 0:
            s.status = "discontinued"
            zero["new_discontinued_effect"] = -s.plan_cost
        elif (
            s.key.get("pricing_unit") is None
            or not s.plan_quantity
            or not s.actual_quantity
            or s.plan_quantity <= 0
            or s.actual_quantity <= 0
        ):
            s.status = "unquantified"
            zero["unquantified_effect"] = s.actual_cost - s.plan_cost
        else:
            s.status = "continuing"
            gkey = (s.key.get("team"), s.key.get("workload"), s.key.get("pricing_unit"))
            groups.setdefault(gkey, []).append(s)
    for members in groups.values():
        qa = sum((m.actual_quantity for m in members), Decimal(0))  # type: ignore[misc]
        qp = sum((m.plan_quantity for m in members), Decimal(0))  # type: ignore[misc]
        r_g = _CTX.divide(qa, qp)
        for m in members:
            r_s = _CTX.divide(m.actual_quantity, m.plan_quantity)  # type: ignore[arg-type]
            m.group_ratio = r_g
            m.volume_cost = _q(_CTX.multiply(m.plan_cost, r_g))
            m.mix_cost = _q(_CTX.multiply(m.plan_cost, r_s))
            m.effects["volume_effect"] = m.volume_cost - m.plan_cost
            m.effects["mix_effect"] = m.mix_cost - m.volume_cost
            m.effects["price_effect"] = m.actual_cost - m.mix_cost
    return list(segments)


# --------------------------------------------------------------------------------------------
# Data access
# --------------------------------------------------------------------------------------------

_ACTUAL_SQL = """
    SELECT team, workload, ml_model, provider, service_name, pricing_unit,
           SUM(effective_cost) AS cost,
           SUM(pricing_quantity) FILTER (WHERE pricing_unit IS NOT NULL) AS qty
    FROM marts.fct_costs_monthly
    WHERE billing_month >= ? AND billing_month < ?
    GROUP BY ALL
"""
_PLAN_SQL = """
    SELECT team, workload, ml_model, provider, service_name, pricing_unit,
           SUM(point) AS cost, SUM(pricing_quantity) AS qty
    FROM forecast.forecast_values
    WHERE snapshot_id = ? AND scenario = ? AND level = 'segment' AND month >= ? AND month < ?
    GROUP BY ALL
"""
_ACTUAL_MONTHLY_SQL = """
    SELECT CAST(date_trunc('month', billing_month) AS DATE) AS month, team, workload, ml_model,
           SUM(effective_cost) AS cost
    FROM marts.fct_costs_monthly
    WHERE billing_month >= ? AND billing_month < ?
    GROUP BY ALL
"""
_BANDS_SQL = """
    SELECT level, team, workload, ml_model, month, lo_80, hi_80
    FROM forecast.forecast_values
    WHERE snapshot_id = ? AND scenario = ? AND level IN ('total', 'team', 'team_workload',
          'team_model') AND month >= ? AND month < ? AND lo_80 IS NOT NULL
"""
_BUDGET_SQL_PLAIN = """
    SELECT team, SUM(TRY_CAST(replace(trim(budget_amount), ',', '') AS DECIMAL(38,24))),
           string_agg(DISTINCT upper(trim(currency)), ','),
           count(*) FILTER (WHERE TRY_CAST(replace(trim(budget_amount), ',', '')
                                           AS DECIMAL(38,24)) IS NULL)
    FROM raw.budgets
    WHERE trim(fiscal_quarter) = ?
    GROUP BY team
"""


def _has_column(con: duckdb.DuckDBPyConnection, schema: str, table: str, column: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? AND column_name = ?",
        [schema, table, column],
    ).fetchall()
    return bool(rows[0][0])


def budgets_for_quarter(
    con: duckdb.DuckDBPyConnection, quarter: str
) -> tuple[dict[str, Decimal], list[str], list[str]]:
    """Budget per team for the quarter, budget currencies, notes.

    When ``raw.budgets`` keeps lineage (``_loaded_at``), only the latest delivery of each
    (quarter, team) counts; otherwise rows of the same team are added up.
    """
    if not fc.table_exists(con, "raw", "budgets"):
        return {}, [], ["raw.budgets not found"]
    if _has_column(con, "raw", "budgets", "_loaded_at"):
        # QUALIFY runs after GROUP BY, so dedupe in a subquery first
        sql = """
            SELECT team, SUM(amount), string_agg(DISTINCT cur, ','), count(*) FILTER
                   (WHERE amount IS NULL)
            FROM (
                SELECT team, upper(trim(currency)) AS cur,
                       TRY_CAST(replace(trim(budget_amount), ',', '') AS DECIMAL(38,24)) AS amount
                FROM raw.budgets
                WHERE trim(fiscal_quarter) = ?
                QUALIFY _loaded_at = max(_loaded_at) OVER (PARTITION BY team)
            )
            GROUP BY team
        """
    else:
        sql = _BUDGET_SQL_PLAIN
    rows = con.execute(sql, [quarter]).fetchall()
    budgets: dict[str, Decimal] = {}
    currencies: set[str] = set()
    notes: list[str] = []
    for team, amount, cur, bad in rows:
        if bad:
            notes.append(f"{bad} budget row(s) of team {team!r} have a non-numeric amount")
        if amount is not None:
            budgets[team] = Decimal(amount)
        currencies.update(c for c in (cur or "").split(",") if c)
    return budgets, sorted(currencies), notes


@dataclass
class VarianceResult:
    status: str  # ok | partial | skipped
    quarter: str
    snapshot_id: str | None = None
    reason: str | None = None
    run_id: str | None = None
    totals: dict[str, Decimal | None] = field(default_factory=dict)


def _quarter_complete(con: duckdb.DuckDBPyConnection, quarter: str) -> str | None:
    months = fc.parse_quarter(quarter)
    if months[-1] > fc.last_closed_month():
        return f"quarter {quarter} is incomplete: {months[-1]:%Y-%m} has not closed yet"
    present = {
        fc.month_start(r[0])
        for r in con.execute(
            "SELECT DISTINCT billing_month FROM marts.fct_costs_monthly "
            "WHERE billing_month >= ? AND billing_month < ?",
            [months[0], fc.add_months(months[0], 3)],
        ).fetchall()
    }
    missing = [m for m in months if m not in present]
    if missing:
        return f"quarter {quarter} is incomplete: no actuals for " + ", ".join(
            f"{m:%Y-%m}" for m in missing
        )
    return None


def complete_quarters(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Quarters whose three months all have actuals and have closed, oldest first."""
    if not fc.table_exists(con, "marts", "fct_costs_monthly"):
        return []
    months = {
        fc.month_start(r[0])
        for r in con.execute("SELECT DISTINCT billing_month FROM marts.fct_costs_monthly")
        .fetchall()
    }
    closed = fc.last_closed_month()
    quarters = {fc.quarter_of(m) for m in months}
    return sorted(
        q for q in quarters
        if all(m in months and m <= closed for m in fc.parse_quarter(q))
    )


def _pct(num: Decimal | None, den: Decimal | None) -> Decimal | None:
    if num is None or den is None or den == 0:
        return None
    return _CTX.divide(num * 100, den).quantize(_Q6, context=_CTX)


def compute_quarterly_variance(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    *,
    snapshot_id: str | None = None,
    scenario: str = fc.BASELINE,
) -> VarianceResult:
    """Compute and store the variance of ``quarter`` (e.g. ``'2026Q2'``).

    The plan is the quarter's locked forecast (created via ``ensure_locked_forecast`` when
    missing) unless ``snapshot_id`` is given. Replaces earlier rows of the quarter in
    ``variance.quarterly_variance`` / ``variance.variance_decomposition``. Never raises for
    data conditions: an incomplete quarter or a missing forecast gives status ``skipped``;
    a missing budget gives ``partial`` (forecast variance only). Both are logged with a reason
    in ``variance.variance_runs``.
    """
    with decimal.localcontext(_CTX):  # exact Decimal sums (the default context has 28 digits)
        return _compute(con, quarter, snapshot_id, scenario)


def _compute(
    con: duckdb.DuckDBPyConnection, quarter: str, snapshot_id: str | None, scenario: str
) -> VarianceResult:
    months = fc.parse_quarter(quarter)
    start, end = months[0], fc.add_months(months[0], 3)
    t0 = time.perf_counter()
    run_id = uuid.uuid4().hex
    started = fc.utcnow()
    ensure_schema(con)

    def log(result: VarianceResult) -> VarianceResult:
        result.run_id = run_id
        con.execute(
            "INSERT INTO variance.variance_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
            [run_id, quarter, started, result.status, result.snapshot_id, result.reason,
             int((time.perf_counter() - t0) * 1000)],
        )
        return result

    if not fc.table_exists(con, "marts", "fct_costs_monthly"):
        return log(VarianceResult("skipped", quarter, reason="marts.fct_costs_monthly not found"))
    reason = _quarter_complete(con, quarter)
    if reason:
        return log(VarianceResult("skipped", quarter, reason=reason))
    if snapshot_id is None:
        snapshot_id = fc.ensure_locked_forecast(con, quarter)
        if snapshot_id is None:
            why = con.execute(
                "SELECT reason FROM forecast.forecast_runs WHERE context = ? "
                "ORDER BY started_at DESC LIMIT 1",
                [f"lock:{quarter}"],
            ).fetchall()
            detail = f": {why[0][0]}" if why and why[0][0] else ""
            return log(
                VarianceResult("skipped", quarter, reason=f"no locked forecast{detail}")
            )
    elif not con.execute(
        "SELECT count(*) FROM forecast.forecast_snapshots WHERE snapshot_id = ?", [snapshot_id]
    ).fetchall()[0][0]:
        return log(
            VarianceResult("skipped", quarter, snapshot_id,
                           reason=f"forecast snapshot {snapshot_id} not found")
        )

    segments: dict[tuple, Segment] = {}
    for sql, params, side in (
        (_ACTUAL_SQL, [start, end], "actual"),
        (_PLAN_SQL, [snapshot_id, scenario, start, end], "plan"),
    ):
        for row in con.execute(sql, params).fetchall():
            key = tuple(row[:6])
            seg = segments.setdefault(key, Segment(dict(zip(_SEG_KEYS, key, strict=True))))
            cost = Decimal(row[6]) if row[6] is not None else Decimal(0)
            qty = Decimal(row[7]) if row[7] is not None else None
            if side == "actual":
                seg.actual_cost, seg.actual_quantity = cost, qty
            else:
                seg.plan_cost, seg.plan_quantity = cost, qty
    plan_months = con.execute(
        "SELECT count(DISTINCT month) FROM forecast.forecast_values "
        "WHERE snapshot_id = ? AND scenario = ? AND month >= ? AND month < ?",
        [snapshot_id, scenario, start, end],
    ).fetchall()[0][0]
    if plan_months < 3:
        return log(
            VarianceResult("skipped", quarter, snapshot_id,
                           reason=f"snapshot {snapshot_id} does not cover all months of {quarter}")
        )
    decompose(list(segments.values()))
    segs = [s for s in segments.values() if s.status != "zero"]

    currencies = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT billing_currency FROM marts.fct_costs_monthly "
            "WHERE billing_month >= ? AND billing_month < ? ORDER BY 1",
            [start, end],
        ).fetchall()
        if r[0]
    ]
    currency = currencies[0] if len(currencies) == 1 else ("MIXED" if currencies else None)
    budgets, budget_currencies, notes = budgets_for_quarter(con, quarter)
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

    # roll-ups ---------------------------------------------------------------------------
    outside = _months_outside_band(con, snapshot_id, scenario, start, end)
    rollups: dict[tuple[str, tuple], dict[str, Any]] = {}
    for level, keys in _LEVEL_KEYS.items():
        for s in segs:
            k = (level, tuple(s.key[c] for c in keys))
            r = rollups.setdefault(
                k, {"actual": Decimal(0), "plan": Decimal(0), **dict.fromkeys(EFFECTS, Decimal(0))}
            )
            r["actual"] += s.actual_cost
            r["plan"] += s.plan_cost
            for e in EFFECTS:
                r[e] += s.effects[e]
        if level == "team":  # teams with a budget but no cost and no plan
            for team in budgets:
                rollups.setdefault(
                    ("team", (team,)),
                    {"actual": Decimal(0), "plan": Decimal(0),
                     **dict.fromkeys(EFFECTS, Decimal(0))},
                )
    if not segs:
        rollups.setdefault(
            ("total", ()),
            {"actual": Decimal(0), "plan": Decimal(0), **dict.fromkeys(EFFECTS, Decimal(0))},
        )
    computed_at = fc.utcnow()
    var_rows: list[dict[str, Any]] = []
    total_budget = sum(budgets.values(), Decimal(0)) if budgets else None
    for (level, keyvals), r in sorted(rollups.items(), key=lambda kv: _sort_key(kv[0])):
        key = dict(zip(_LEVEL_KEYS[level], keyvals, strict=True))
        budget = None
        if level == "total":
            budget = total_budget
        elif level == "team" and budgets:
            budget = budgets.get(key["team"])
        var_f = r["actual"] - r["plan"]
        var_b = r["actual"] - budget if budget is not None else None
        var_rows.append(
            {
                "quarter": quarter, "level": level, "team": key.get("team"),
                "workload": key.get("workload"), "ml_model": key.get("ml_model"),
                "snapshot_id": snapshot_id, "currency": currency,
                "actual_cost": _q(r["actual"]), "forecast_cost": _q(r["plan"]),
                "budget_amount": _q(budget) if budget is not None else None,
                "variance_vs_forecast": _q(var_f),
                "variance_vs_forecast_pct": _pct(var_f, r["plan"]),
                "variance_vs_budget": _q(var_b) if var_b is not None else None,
                "variance_vs_budget_pct": _pct(var_b, budget),
                **{e: _q(r[e]) for e in EFFECTS},
                "months_outside_80": outside.get((level, keyvals)),
                "run_id": run_id, "computed_at": computed_at,
            }
        )
    seg_rows = [_segment_row(quarter, snapshot_id, s, run_id) for s in segs]
    _write(con, quarter, var_rows, seg_rows)
    total = next(r for r in var_rows if r["level"] == "total")
    result = VarianceResult(
        status, quarter, snapshot_id, "; ".join(notes) or None,
        totals={k: total[k] for k in ("actual_cost", "forecast_cost", "budget_amount",
                                       "variance_vs_forecast", *EFFECTS)},
    )
    return log(result)


def _sort_key(k: tuple[str, tuple]) -> tuple:
    order = {"total": 0, "team": 1, "team_workload": 2, "team_model": 3}
    return (order[k[0]], tuple("" if v is None else str(v) for v in k[1]))


def _months_outside_band(
    con: duckdb.DuckDBPyConnection, snapshot_id: str, scenario: str, start: date, end: date
) -> dict[tuple[str, tuple], int]:
    actual: dict[tuple[str, tuple, date], Decimal] = {}
    for month, team, workload, ml_model, cost in con.execute(
        _ACTUAL_MONTHLY_SQL, [start, end]
    ).fetchall():
        key = {"team": team, "workload": workload, "ml_model": ml_model}
        for level, keys in _LEVEL_KEYS.items():
            k = (level, tuple(key[c] for c in keys), fc.month_start(month))
            actual[k] = actual.get(k, Decimal(0)) + Decimal(cost)
    out: dict[tuple[str, tuple], int] = {}
    for level, team, workload, ml_model, month, lo, hi in con.execute(
        _BANDS_SQL, [snapshot_id, scenario, start, end]
    ).fetchall():
        key = {"team": team, "workload": workload, "ml_model": ml_model}
        lk = (level, tuple(key[c] for c in _LEVEL_KEYS[level]))
        a = actual.get((*lk, month), Decimal(0))
        out[lk] = out.get(lk, 0) + int(a < lo or a > hi)
    return out


def _segment_row(quarter: str, snapshot_id: str, s: Segment, run_id: str) -> dict[str, Any]:
    def price(cost: Decimal, qty: Decimal | None) -> Decimal | None:
        if qty is None or qty <= 0:
            return None
        return _CTX.divide(cost, qty).quantize(_Q12, context=_CTX)

    def qty(v: Decimal | None) -> Decimal | None:
        return None if v is None else v.quantize(_Q12, context=_CTX)

    return {
        "quarter": quarter, "snapshot_id": snapshot_id, **s.key,
        "segment_status": s.status,
        "actual_cost": _q(s.actual_cost), "plan_cost": _q(s.plan_cost),
        "actual_quantity": qty(s.actual_quantity), "plan_quantity": qty(s.plan_quantity),
        "actual_unit_price": price(s.actual_cost, s.actual_quantity),
        "plan_unit_price": price(s.plan_cost, s.plan_quantity),
        "group_volume_ratio": qty(s.group_ratio),
        "volume_cost": s.volume_cost, "mix_cost": s.mix_cost,
        **{e: _q(s.effects[e]) for e in EFFECTS},
        "total_variance": _q(s.total_variance),
        "run_id": run_id,
    }


def _table_schema(con: duckdb.DuckDBPyConnection, table: str) -> pa.Schema:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'variance' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    fields = []
    for name, dtype in rows:
        if dtype.startswith("DECIMAL"):
            p, s = dtype[8:-1].split(",")
            t = pa.decimal128(int(p), int(s))
        elif dtype == "INTEGER":
            t = pa.int32()
        elif dtype == "TIMESTAMP":
            t = pa.timestamp("us")
        else:
            t = pa.string()
        fields.append(pa.field(name, t))
    return pa.schema(fields)


def _write(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    var_rows: list[dict[str, Any]],
    seg_rows: list[dict[str, Any]],
) -> None:
    var_tbl = pa.Table.from_pylist(var_rows, schema=_table_schema(con, "quarterly_variance"))
    seg_tbl = pa.Table.from_pylist(seg_rows, schema=_table_schema(con, "variance_decomposition"))
    with transaction(con), arrow_views(con, _mlcost_var_rows=var_tbl,
                                        _mlcost_seg_rows=seg_tbl):
        con.execute("DELETE FROM variance.quarterly_variance WHERE quarter = ?", [quarter])
        con.execute("DELETE FROM variance.variance_decomposition WHERE quarter = ?", [quarter])
        con.execute("INSERT INTO variance.quarterly_variance SELECT * FROM _mlcost_var_rows")
        con.execute(
            "INSERT INTO variance.variance_decomposition SELECT * FROM _mlcost_seg_rows"
        )


def latest_run(con: duckdb.DuckDBPyConnection, quarter: str) -> dict[str, Any] | None:
    """Most recent variance run of ``quarter`` (status, reason, ...) or None."""
    if not fc.table_exists(con, "variance", "variance_runs"):
        return None
    cur = con.execute(
        "SELECT run_id, started_at, status, snapshot_id, reason FROM variance.variance_runs "
        "WHERE quarter = ? ORDER BY started_at DESC LIMIT 1",
        [quarter],
    )
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()
    return dict(zip(cols, rows[0], strict=True)) if rows else None

