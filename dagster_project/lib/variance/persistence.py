"""Variance tables and the warehouse reads behind them (DuckDB <-> polars through Arrow).

Reads come from dbt models only -- costs from ``marts.fct_costs_monthly``, budgets from
``marts.fct_budgets``, the quarter calendar from ``marts.dim_calendar`` -- and from the
forecast tables; writes go to schema ``variance``: ``quarterly_variance`` (roll-ups incl.
budget), ``variance_decomposition`` (segments) and ``variance_runs`` (log incl. skip reasons).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import polars as pl

from dagster_project.lib.ingest.sql import quote_ident
from dagster_project.lib.warehouse import arrow_views, table_exists, transaction

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
        commitment_effect         DECIMAL(38,24) NOT NULL,
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
        commitment_effect         DECIMAL(38,24) NOT NULL,
        total_variance            DECIMAL(38,24) NOT NULL,
        actual_list_cost          DECIMAL(38,24),
        reference_discount_rate   DECIMAL(38,12),
        actual_discount_rate      DECIMAL(38,12),
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


def read_frame(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> pl.DataFrame:
    """Query result as a polars frame (through Arrow). DuckDB refuses a relation while an
    earlier ``execute()`` result is unread (e.g. after ``fetchone``): finish that one first."""
    con.complete()
    return con.sql(sql, params=params).pl()


# Columns added after the first release, with the value earlier rows get (docs/
# variance-and-report.md, "Commitment effect"): rows computed before the commitment effect
# existed keep it inside price_effect, so 0 keeps their effects summing to the variance.
_ADDED = {
    "quarterly_variance": {"commitment_effect": "0"},
    "variance_decomposition": {"commitment_effect": "0", "actual_list_cost": "NULL",
                               "reference_discount_rate": "NULL",
                               "actual_discount_rate": "NULL"},
}


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in _DDL:
        con.execute(ddl)
    for table, added in _ADDED.items():
        have = _columns(con, table)
        if not set(added) <= set(have):
            _migrate(con, table, have, added)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'variance' "
        "AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()]


def _migrate(con: duckdb.DuckDBPyConnection, table: str, have: list[str],
             added: dict[str, str]) -> None:
    """Rebuild a table of an older warehouse in today's layout (new columns in their place,
    not appended, so every warehouse exports the same column order), keeping its rows."""
    # Identifiers come from this module (_DDL, _ADDED, information_schema), never from data;
    # they are quoted all the same.
    ddl = next(d for d in _DDL if f"variance.{table} (" in d)
    new, old = f"variance.{quote_ident(table)}", quote_ident(f"{table}__before_migration")
    with transaction(con):
        con.execute(f"ALTER TABLE {new} RENAME TO {old}")
        con.execute(ddl)
        cols = [c for c in _columns(con, table) if c in have or c in added]
        names = ", ".join(quote_ident(c) for c in cols)
        values = ", ".join(quote_ident(c) if c in have else added[c] for c in cols)
        con.execute(f"INSERT INTO {new} ({names}) SELECT {values} FROM variance.{old}")  # noqa: S608
        con.execute(f"DROP TABLE variance.{old}")


# --------------------------------------------------------------------------------------------
# The quarter calendar (marts.dim_calendar owns the rule; this only reads it)
# --------------------------------------------------------------------------------------------


def complete_quarters(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Quarters ``dim_calendar`` marks complete, oldest first ([] before dbt built it)."""
    if not table_exists(con, "marts", "dim_calendar"):
        return []
    rows = con.execute(
        "SELECT DISTINCT quarter FROM marts.dim_calendar WHERE is_quarter_complete ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def incomplete_reason(
    con: duckdb.DuckDBPyConnection, quarter: str, months: tuple[date, ...]
) -> str | None:
    """None when ``dim_calendar`` marks ``quarter`` complete, else why not, in words (which
    month has not closed or has no actuals). The verdict is the model's; this only explains."""
    if not table_exists(con, "marts", "dim_calendar"):
        return "marts.dim_calendar not found (the dbt marts have not been built)"
    cal = read_frame(
        con,
        "SELECT month, has_cost_data, is_quarter_complete, closed_through_month "
        "FROM marts.dim_calendar WHERE quarter = ? ORDER BY month",
        [quarter],
    )
    if cal.height and cal["is_quarter_complete"][0]:
        return None
    closed = con.execute("SELECT max(closed_through_month) FROM marts.dim_calendar").fetchone()
    closed_through = closed[0] if closed else None
    if closed_through is not None and months[-1] > closed_through:
        return f"quarter {quarter} is incomplete: {months[-1]:%Y-%m} has not closed yet"
    with_data = set(cal.filter(pl.col("has_cost_data"))["month"].to_list())
    missing = [m for m in months if m not in with_data]
    if missing:
        return f"quarter {quarter} is incomplete: no actuals for " + ", ".join(
            f"{m:%Y-%m}" for m in missing
        )
    return f"quarter {quarter} is incomplete (marts.dim_calendar)"


# --------------------------------------------------------------------------------------------
# Inputs of one quarter
# --------------------------------------------------------------------------------------------

# Keys may be null (a cost without pricing unit): they match null, as Python tuples did.
# The discount rates of the commitment effect use the rows with a positive list cost only
# (list_cost, and the effective cost of those rows: "listed"), in the quarter and in the three
# reference months up to the plan's as-of month.
_SEGMENTS_SQL = """
    WITH actual AS (
        SELECT team, workload, ml_model, provider, service_name, pricing_unit,
               SUM(effective_cost) AS actual_cost,
               SUM(pricing_quantity) FILTER (WHERE pricing_unit IS NOT NULL) AS actual_quantity,
               SUM(list_cost) FILTER (WHERE list_cost > 0) AS actual_list_cost,
               SUM(effective_cost) FILTER (WHERE list_cost > 0) AS actual_listed_cost
        FROM marts.fct_costs_monthly
        WHERE billing_month >= $start AND billing_month < $end
        GROUP BY ALL
    ),
    ref AS (
        SELECT team, workload, ml_model, provider, service_name, pricing_unit,
               SUM(list_cost) AS ref_list_cost, SUM(effective_cost) AS ref_listed_cost
        FROM marts.fct_costs_monthly
        WHERE billing_month >= $ref_start AND billing_month < $ref_end AND list_cost > 0
        GROUP BY ALL
    ),
    plan AS (
        SELECT team, workload, ml_model, provider, service_name, pricing_unit,
               SUM(point) AS plan_cost, SUM(pricing_quantity) AS plan_quantity
        FROM forecast.forecast_values
        WHERE snapshot_id = $snapshot AND scenario = $scenario AND level = 'segment'
          AND month >= $start AND month < $end
        GROUP BY ALL
    )
    SELECT coalesce(actual.team, plan.team) AS team,
           coalesce(actual.workload, plan.workload) AS workload,
           coalesce(actual.ml_model, plan.ml_model) AS ml_model,
           coalesce(actual.provider, plan.provider) AS provider,
           coalesce(actual.service_name, plan.service_name) AS service_name,
           coalesce(actual.pricing_unit, plan.pricing_unit) AS pricing_unit,
           actual_cost, actual_quantity, plan_cost, plan_quantity,
           actual_list_cost, actual_listed_cost, ref_list_cost, ref_listed_cost
    FROM actual
    FULL OUTER JOIN plan
        ON actual.team IS NOT DISTINCT FROM plan.team
        AND actual.workload IS NOT DISTINCT FROM plan.workload
        AND actual.ml_model IS NOT DISTINCT FROM plan.ml_model
        AND actual.provider IS NOT DISTINCT FROM plan.provider
        AND actual.service_name IS NOT DISTINCT FROM plan.service_name
        AND actual.pricing_unit IS NOT DISTINCT FROM plan.pricing_unit
    LEFT JOIN ref
        ON ref.team IS NOT DISTINCT FROM coalesce(actual.team, plan.team)
        AND ref.workload IS NOT DISTINCT FROM coalesce(actual.workload, plan.workload)
        AND ref.ml_model IS NOT DISTINCT FROM coalesce(actual.ml_model, plan.ml_model)
        AND ref.provider IS NOT DISTINCT FROM coalesce(actual.provider, plan.provider)
        AND ref.service_name IS NOT DISTINCT FROM coalesce(actual.service_name,
                                                           plan.service_name)
        AND ref.pricing_unit IS NOT DISTINCT FROM coalesce(actual.pricing_unit,
                                                           plan.pricing_unit)
"""


def read_segments(
    con: duckdb.DuckDBPyConnection, snapshot_id: str, scenario: str, start: date, end: date,
    ref_start: date | None = None, ref_end: date | None = None,
) -> pl.DataFrame:
    """Actual and plan cost and quantity per segment of [start, end) (null: no such side),
    with the list-cost sums of the quarter and of the reference months [ref_start, ref_end)
    (none when no reference window is given)."""
    params = {"start": start, "end": end, "snapshot": snapshot_id, "scenario": scenario,
              "ref_start": ref_start or start, "ref_end": ref_end or start}
    return read_frame(con, _SEGMENTS_SQL, params)


def snapshot_as_of(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> date | None:
    """The as-of month (last month of actuals) of a forecast snapshot."""
    row = con.execute("SELECT as_of_month FROM forecast.forecast_snapshots WHERE snapshot_id = ?",
                      [snapshot_id]).fetchone()
    return row[0] if row else None


def plan_months(
    con: duckdb.DuckDBPyConnection, snapshot_id: str, scenario: str, start: date, end: date
) -> int:
    return con.execute(
        "SELECT count(DISTINCT month) FROM forecast.forecast_values "
        "WHERE snapshot_id = ? AND scenario = ? AND month >= ? AND month < ?",
        [snapshot_id, scenario, start, end],
    ).fetchone()[0]


def snapshot_exists(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM forecast.forecast_snapshots WHERE snapshot_id = ?", [snapshot_id]
    ).fetchone()[0])


def lock_skip_reason(con: duckdb.DuckDBPyConnection, quarter: str) -> str | None:
    """The reason forecasting recorded for not locking ``quarter``, if any."""
    if not table_exists(con, "forecast", "forecast_runs"):
        return None
    row = con.execute(
        "SELECT reason FROM forecast.forecast_runs WHERE context = ? "
        "ORDER BY started_at DESC LIMIT 1",
        [f"lock:{quarter}"],
    ).fetchone()
    return row[0] if row and row[0] else None


def billing_currencies(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[str]:
    rows = con.execute(
        "SELECT DISTINCT billing_currency FROM marts.fct_costs_monthly "
        "WHERE billing_month >= ? AND billing_month < ? AND billing_currency IS NOT NULL "
        "ORDER BY 1",
        [start, end],
    ).fetchall()
    return [r[0] for r in rows if r[0]]


def budgets_for_quarter(
    con: duckdb.DuckDBPyConnection, quarter: str
) -> tuple[dict[str, Decimal], list[str], list[str]]:
    """Budget per team for the quarter, budget currencies, notes -- from ``marts.fct_budgets``
    (which keeps the latest delivery of each quarter and team)."""
    if not table_exists(con, "marts", "fct_budgets"):
        return {}, [], ["marts.fct_budgets not found"]
    df = read_frame(
        con,
        "SELECT team, budget_amount, currency FROM marts.fct_budgets WHERE fiscal_quarter = ?",
        [quarter],
    )
    budgets = {
        r["team"]: Decimal(r["budget_amount"])
        for r in df.group_by("team").agg(pl.col("budget_amount").sum()).iter_rows(named=True)
    }
    currencies = sorted({c for c in df["currency"].to_list() if c})
    return budgets, currencies, []


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


def months_outside_band(
    con: duckdb.DuckDBPyConnection, snapshot_id: str, scenario: str, start: date, end: date,
    level_keys: dict[str, tuple[str, ...]],
) -> dict[tuple[str, tuple], int]:
    """Per roll-up (level, key values): months whose actual lies outside the 80% band."""
    actual: dict[tuple[str, tuple, date], Decimal] = {}
    monthly = read_frame(con, _ACTUAL_MONTHLY_SQL, [start, end])
    for r in monthly.iter_rows(named=True):
        for level, keys in level_keys.items():
            k = (level, tuple(r[c] for c in keys), r["month"])
            actual[k] = actual.get(k, Decimal(0)) + Decimal(r["cost"])
    out: dict[tuple[str, tuple], int] = {}
    bands = read_frame(con, _BANDS_SQL, [snapshot_id, scenario, start, end])
    for r in bands.iter_rows(named=True):
        lk = (r["level"], tuple(r[c] for c in level_keys[r["level"]]))
        a = actual.get((*lk, r["month"]), Decimal(0))
        out[lk] = out.get(lk, 0) + int(a < r["lo_80"] or a > r["hi_80"])
    return out


# --------------------------------------------------------------------------------------------
# Writes
# --------------------------------------------------------------------------------------------


def _schema(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, pl.DataType]:
    """polars dtypes of a ``variance`` table, so frames match it column for column."""
    out: dict[str, pl.DataType] = {}
    for name, dtype in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'variance' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall():
        if dtype.startswith("DECIMAL"):
            p, s = dtype[8:-1].split(",")
            out[name] = pl.Decimal(int(p), int(s))
        elif dtype == "INTEGER":
            out[name] = pl.Int32()
        elif dtype == "TIMESTAMP":
            out[name] = pl.Datetime("us")
        else:
            out[name] = pl.String()
    return out


def frame(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """``rows`` as a polars frame with the exact column types of ``variance.<table>``."""
    return pl.DataFrame(rows, schema=_schema(con, table), orient="row")


def write_quarter(
    con: duckdb.DuckDBPyConnection, quarter: str, variance: pl.DataFrame,
    decomposition: pl.DataFrame,
) -> None:
    """Replace the quarter's rows of both tables in one transaction (Arrow, no row inserts)."""
    with transaction(con), arrow_views(con, _mlcost_var_rows=variance.to_arrow(),
                                        _mlcost_seg_rows=decomposition.to_arrow()):
        con.execute("DELETE FROM variance.quarterly_variance WHERE quarter = ?", [quarter])
        con.execute("DELETE FROM variance.variance_decomposition WHERE quarter = ?", [quarter])
        con.execute("INSERT INTO variance.quarterly_variance SELECT * FROM _mlcost_var_rows")
        con.execute(
            "INSERT INTO variance.variance_decomposition SELECT * FROM _mlcost_seg_rows"
        )


def log_run(
    con: duckdb.DuckDBPyConnection, run_id: str, quarter: str, started: datetime, status: str,
    snapshot_id: str | None, reason: str | None, duration_ms: int,
) -> None:
    con.execute(
        "INSERT INTO variance.variance_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
        [run_id, quarter, started, status, snapshot_id, reason, duration_ms],
    )


def latest_run(con: duckdb.DuckDBPyConnection, quarter: str) -> dict[str, Any] | None:
    """Most recent variance run of ``quarter`` (status, reason, ...) or None."""
    if not table_exists(con, "variance", "variance_runs"):
        return None
    df = read_frame(
        con,
        "SELECT run_id, started_at, status, snapshot_id, reason FROM variance.variance_runs "
        "WHERE quarter = ? ORDER BY started_at DESC LIMIT 1",
        [quarter],
    )
    return df.row(0, named=True) if df.height else None
