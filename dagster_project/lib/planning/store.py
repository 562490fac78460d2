"""The burn-down's warehouse side: read actuals (``marts.fct_costs_monthly``), budgets
(``marts.fct_budgets``) and the latest forecast snapshot's team-level rows
(``forecast.forecast_values``), write ``planning.budget_burndown`` (replaced as a whole, in one
transaction, on every refresh)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from dagster_project.lib.calendar import add_months, month_start, utcnow
from dagster_project.lib.warehouse import table_exists, transaction

from .burndown import BurndownRow, Inputs, MonthForecast, compute

SCHEMA, TABLE = "planning", "budget_burndown"
# The scenario the burn-down projects with: the planned case when a scenarios file gave one.
SCENARIOS = ("base", "baseline")

_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""
    CREATE TABLE IF NOT EXISTS {SCHEMA}.{TABLE} (
        quarter                  VARCHAR NOT NULL,
        quarter_start            DATE NOT NULL,
        team                     VARCHAR NOT NULL,
        quarter_state            VARCHAR NOT NULL,
        months_actual            INTEGER NOT NULL,
        months_forecast          INTEGER NOT NULL,
        spent_to_date            DECIMAL(38,24) NOT NULL,
        forecast_remaining       DECIMAL(38,24) NOT NULL,
        projected_spend          DECIMAL(38,24) NOT NULL,
        projected_lo_80          DECIMAL(38,24),
        projected_hi_80          DECIMAL(38,24),
        budget_amount            DECIMAL(38,24),
        currency                 VARCHAR,
        headroom                 DECIMAL(38,24),
        projected_pct_of_budget  DECIMAL(18,2),
        status                   VARCHAR NOT NULL,
        snapshot_id              VARCHAR NOT NULL,
        as_of_month              DATE NOT NULL,
        scenario                 VARCHAR NOT NULL,
        note                     VARCHAR,
        computed_at              TIMESTAMP NOT NULL,
        PRIMARY KEY (quarter, team)
    )
    """,
)
COLUMNS = ("quarter", "quarter_start", "team", "quarter_state", "months_actual",
           "months_forecast", "spent_to_date", "forecast_remaining", "projected_spend",
           "projected_lo_80", "projected_hi_80", "budget_amount", "currency", "headroom",
           "projected_pct_of_budget", "status", "snapshot_id", "as_of_month", "scenario", "note",
           "computed_at")
# Positional, in COLUMNS order (the table's own order; a test checks they agree).
INSERT = ("insert into planning.budget_burndown values "
          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


@dataclass
class BurndownResult:
    status: str  # written | skipped
    reason: str | None = None
    snapshot_id: str | None = None
    as_of_month: date | None = None
    scenario: str | None = None
    rows: int = 0
    counts: dict[str, int] | None = None  # status -> rows of open quarters


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in _DDL:
        con.execute(ddl)


def latest_snapshot(con: duckdb.DuckDBPyConnection) -> tuple[str, date] | None:
    """(snapshot id, as-of month) of the newest forecast: latest as-of month, then latest
    creation (a quarter lock made after the fact has an older as-of month)."""
    if not table_exists(con, "forecast", "forecast_snapshots"):
        return None
    rows = con.execute(
        """select snapshot_id, as_of_month from forecast.forecast_snapshots
           order by as_of_month desc, created_at desc, snapshot_id desc limit 1""").fetchall()
    return (rows[0][0], month_start(rows[0][1])) if rows else None


def read_inputs(con: duckdb.DuckDBPyConnection) -> tuple[Inputs | None, str | None]:
    """The burn-down's inputs, or (None, reason) when there is no forecast snapshot."""
    latest = latest_snapshot(con)
    if latest is None:
        return None, "no forecast snapshot yet (forecast.forecast_snapshots is empty or missing)"
    snapshot_id, as_of = latest
    present = {s for (s,) in con.execute(
        "select distinct scenario from forecast.forecast_values "
        "where snapshot_id = ? and level = 'team'", [snapshot_id]).fetchall()}
    scenario = next((s for s in SCENARIOS if s in present), None)
    if scenario is None:
        return None, f"snapshot {snapshot_id} has no team-level rows in scenario base or baseline"
    forecast, months = {}, set()
    for team, month, point, lo, hi in con.execute(
            """select team, month, point, lo_80, hi_80 from forecast.forecast_values
               where snapshot_id = ? and scenario = ? and level = 'team' and month > ?""",
            [snapshot_id, scenario, as_of]).fetchall():
        m = month_start(month)
        months.add(m)
        if team is not None:
            forecast[(team, m)] = MonthForecast(point, lo, hi)
    actuals, currencies, first = {}, {}, None
    if table_exists(con, "marts", "fct_costs_monthly"):
        for team, month, cost, cur in con.execute(
                """select team, cast(date_trunc('month', billing_month) as date) as month,
                          sum(effective_cost), list(distinct billing_currency)
                   from marts.fct_costs_monthly where billing_month < ?
                   group by all""", [add_months(as_of, 1)]).fetchall():
            first = month if first is None else min(first, month)
            if team is None or cost is None:
                continue
            actuals[(team, month_start(month))] = cost
            currencies.setdefault(team, set()).update(c for c in cur if c)
    budgets = {}
    if table_exists(con, "marts", "fct_budgets"):
        budgets = {(q, t): (amount, currency) for q, t, amount, currency in con.execute(
            "select fiscal_quarter, team, budget_amount, currency from marts.fct_budgets"
        ).fetchall()}
    return Inputs(as_of=as_of, snapshot_id=snapshot_id, scenario=scenario,
                  first_actual=month_start(first) if first else None, actuals=actuals,
                  currencies=currencies, forecast=forecast, forecast_months=months,
                  budgets=budgets), None


def write(con: duckdb.DuckDBPyConnection, inp: Inputs, rows: list[BurndownRow]) -> None:
    """Replace the table's content with ``rows`` (one transaction)."""
    now = utcnow()
    params = [[r.quarter, r.quarter_start, r.team, r.quarter_state, r.months_actual,
               r.months_forecast, r.spent_to_date, r.forecast_remaining, r.projected_spend,
               r.projected_lo_80, r.projected_hi_80, r.budget_amount, r.currency, r.headroom,
               r.projected_pct_of_budget, r.status, inp.snapshot_id, inp.as_of, inp.scenario,
               "; ".join(r.notes) or None, now] for r in rows]
    with transaction(con):
        con.execute("delete from planning.budget_burndown")
        if params:
            con.executemany(INSERT, params)


def clear(con: duckdb.DuckDBPyConnection) -> None:
    """No snapshot: an old burn-down would describe a forecast that is no longer the latest."""
    con.execute("delete from planning.budget_burndown")


def refresh_burndown(con: duckdb.DuckDBPyConnection) -> BurndownResult:
    """Recompute ``planning.budget_burndown`` from the warehouse. Never raises for data
    conditions: without a forecast snapshot the table is emptied and the reason returned."""
    ensure_schema(con)
    inp, reason = read_inputs(con)
    if inp is None:
        clear(con)
        return BurndownResult("skipped", reason)
    rows = compute(inp)
    write(con, inp, rows)
    counts: dict[str, int] = {}
    for r in rows:
        if r.quarter_state != "closed":
            counts[r.status] = counts.get(r.status, 0) + 1
    return BurndownResult("written", None, inp.snapshot_id, inp.as_of, inp.scenario,
                          len(rows), counts)


def judged_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str]]:
    """(quarter, team, quarter_state, status) of every burn-down row, for the asset check."""
    if not table_exists(con, SCHEMA, TABLE):
        return []
    return con.execute("select quarter, team, quarter_state, status "
                       "from planning.budget_burndown order by quarter, team").fetchall()
