"""The what-if assets' tables, each replaced as a whole (one transaction) on every refresh:

* ``planning.whatif_results`` -- one row per entry of whatif.yml: question, params_json (as
  written), result_json (the answer's JSON object), status ('ok' | 'error'), error, computed_at.
* ``planning.whatif_commitment`` -- one row per provider with the commitment the calculator
  recommends (contract 6 of issue 15; read by the recommendations)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal

import duckdb

from dagster_project.exit_codes import ExitError
from dagster_project.lib.calendar import utcnow
from dagster_project.lib.warehouse import table_exists, transaction

from . import QUESTIONS, commitment
from .params_file import Entry

DDL = (
    "create schema if not exists planning",
    """create table if not exists planning.whatif_results (
        question VARCHAR NOT NULL, params_json VARCHAR NOT NULL, result_json VARCHAR,
        status VARCHAR NOT NULL, error VARCHAR, computed_at TIMESTAMP NOT NULL)""",
    """create table if not exists planning.whatif_commitment (
        computed_at TIMESTAMP NOT NULL, provider VARCHAR NOT NULL, commitment_type VARCHAR,
        current_hourly_commitment DECIMAL(38,10), recommended_hourly_commitment DECIMAL(38,10),
        expected_monthly_saving DECIMAL(38,24), billing_currency VARCHAR,
        coverage DECIMAL(18,6), utilisation DECIMAL(18,6), evidence VARCHAR,
        PRIMARY KEY (provider))""",
)


@dataclass
class Refresh:
    rows: int = 0
    errors: list[str] = field(default_factory=list)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL:
        con.execute(ddl)


def _json(value) -> str:
    return json.dumps(value, default=str, sort_keys=False)


def forecast_as_of(con: duckdb.DuckDBPyConnection) -> str | None:
    """YYYY-MM of the latest forecast snapshot's as-of month (the last closed month with
    actuals): the assets' default --to. They run right after the forecast, possibly before
    marts.dim_calendar (the CLI's default) is built or rebuilt."""
    if not table_exists(con, "forecast", "forecast_snapshots"):
        return None
    ((m,),) = con.execute("select max(as_of_month) from forecast.forecast_snapshots").fetchall()
    return f"{m:%Y-%m}" if m else None


def with_default_range(con: duckdb.DuckDBPyConnection, options: dict) -> dict:
    opts = dict(options)
    if opts.get("to") is None and opts.get("from") is None:
        opts["to"] = forecast_as_of(con)
    return opts


def refresh_results(con: duckdb.DuckDBPyConnection, entries: list[Entry]) -> Refresh:
    """Answer every entry; a bad entry (invalid options, missing data) gets an error row and
    the others are still answered."""
    now, rows, out = utcnow(), [], Refresh()
    for e in entries:
        result, error = None, e.error
        if e.options is not None:
            try:
                opts = with_default_range(con, e.options)
                result = QUESTIONS[e.question].answer(con, opts).to_json()
            except ExitError as exc:
                error = f"entry {e.index} ({e.question}): {exc}"
            except Exception as exc:  # noqa: BLE001 - a calculator bug must not fail the run
                error = (f"entry {e.index} ({e.question}): internal error "
                         f"{type(exc).__name__}: {exc} (a bug: please report it)")
        if error:
            out.errors.append(error)
        rows.append([e.question, _json(e.params), result, "error" if error else "ok", error,
                     now])
    ensure_schema(con)
    with transaction(con):
        con.execute("delete from planning.whatif_results")
        if rows:
            con.executemany("insert into planning.whatif_results values (?, ?, ?, ?, ?, ?)",
                            rows)
    out.rows = len(rows)
    return out


def evidence(r: dict) -> str:
    pct = lambda v: "n/a" if v is None else f"{Decimal(v) * 100:.1f}%"  # noqa: E731
    p10, p50, p90 = r["hourly_demand_p10_p50_p90"]
    return (f"coverage {pct(r['coverage'])}, utilisation {pct(r['utilisation'])}, discount "
            f"{pct(r['discount'])} ({r['discount_source']}); eligible on-demand-equivalent "
            f"demand per hour p10/p50/p90 {p10}/{p50}/{p90} ({r['forecast']}); expected "
            f"monthly cost {r['expected_monthly_cost_current']} at today's commitment, "
            f"{r['expected_monthly_cost_recommended']} at the recommended one")


def refresh_commitment(con: duckdb.DuckDBPyConnection, options: dict | None) -> Refresh:
    """Recompute planning.whatif_commitment for every provider (options: the first commitment
    entry of whatif.yml, else the defaults). Without the inputs the table is emptied and the
    reason returned."""
    opts = with_default_range(con, options or {})
    opts.pop("provider", None)  # the table holds every provider
    out, rows, now = Refresh(), [], utcnow()
    try:
        ans = commitment.answer(con, opts)
        out.errors += ans.notes
        for r in ans.results["providers"]:
            rows.append([now, r["provider"], r["commitment_type"], r["current_hourly_commitment"],
                         r["recommended_hourly_commitment"], r["expected_monthly_saving"],
                         r["currency"], r["coverage"], r["utilisation"], evidence(r)])
    except ExitError as exc:
        out.errors.append(str(exc))
    except Exception as exc:  # noqa: BLE001 - a calculator bug must not fail the run
        rows = []
        out.errors.append(f"commitment: internal error {type(exc).__name__}: {exc} (a bug: "
                          "please report it)")
    ensure_schema(con)
    with transaction(con):
        con.execute("delete from planning.whatif_commitment")
        if rows:
            con.executemany("insert into planning.whatif_commitment values "
                            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    out.rows = len(rows)
    return out
