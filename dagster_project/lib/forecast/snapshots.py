"""The ``forecast`` schema: snapshot ids, parameters, writing a snapshot and the run log."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import duckdb

from dagster_project.lib.calendar import utcnow
from dagster_project.lib.warehouse import arrow_views, table_exists, transaction

from .calibration import calibration_params
from .config import (
    BACKTEST_HORIZON,
    BACKTEST_WINDOWS,
    CANDIDATE_MODELS,
    INTERVAL_LEVELS,
    LEVELS,
    METHOD,
    MIN_HISTORY_MONTHS,
    MIN_TRAIN_MONTHS,
    RECENT_MONTHS,
    SEGMENT_KEYS,
    SEGMENT_LEVEL,
)
from .scenarios import Scenario

if TYPE_CHECKING:
    import polars as pl

_DDL = (
    "CREATE SCHEMA IF NOT EXISTS forecast",
    """
    CREATE TABLE IF NOT EXISTS forecast.forecast_snapshots (
        snapshot_id      VARCHAR PRIMARY KEY,
        created_at       TIMESTAMP NOT NULL,
        as_of_month      DATE NOT NULL,
        first_month      DATE NOT NULL,
        horizon          INTEGER NOT NULL,
        method           VARCHAR NOT NULL,
        params_hash      VARCHAR NOT NULL,
        data_fingerprint VARCHAR NOT NULL,
        params_json      VARCHAR NOT NULL,
        currencies       VARCHAR,
        n_series         INTEGER NOT NULL,
        n_segments       INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS forecast.forecast_values (
        snapshot_id      VARCHAR NOT NULL,
        scenario         VARCHAR NOT NULL,
        level            VARCHAR NOT NULL,
        series_id        VARCHAR NOT NULL,
        team             VARCHAR,
        workload         VARCHAR,
        ml_model         VARCHAR,
        provider         VARCHAR,
        service_name     VARCHAR,
        pricing_unit     VARCHAR,
        month            DATE NOT NULL,
        step             INTEGER NOT NULL,
        method           VARCHAR,
        point            DECIMAL(38,6) NOT NULL,
        lo_80            DECIMAL(38,6),
        hi_80            DECIMAL(38,6),
        lo_95            DECIMAL(38,6),
        hi_95            DECIMAL(38,6),
        base_point       DECIMAL(38,6),
        pricing_quantity DECIMAL(38,12),
        history_class    VARCHAR,
        PRIMARY KEY (snapshot_id, scenario, series_id, month)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS forecast.backtest_metrics (
        snapshot_id      VARCHAR NOT NULL,
        level            VARCHAR NOT NULL,
        series_id        VARCHAR NOT NULL,
        team             VARCHAR,
        workload         VARCHAR,
        ml_model         VARCHAR,
        model            VARCHAR NOT NULL,
        selected         BOOLEAN NOT NULL,
        n_obs            INTEGER NOT NULL,
        n_windows        INTEGER NOT NULL,
        backtest_horizon INTEGER NOT NULL,
        n_points         INTEGER NOT NULL,
        mae              DECIMAL(38,6),
        mape_pct         DECIMAL(18,6),
        smape_pct        DECIMAL(18,6),
        mase             DECIMAL(18,6),
        coverage_80      DECIMAL(9,6),
        coverage_95      DECIMAL(9,6),
        note             VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS forecast.forecast_runs (
        run_id           VARCHAR PRIMARY KEY,
        started_at       TIMESTAMP NOT NULL,
        finished_at      TIMESTAMP NOT NULL,
        context          VARCHAR NOT NULL,
        requested_as_of  DATE,
        as_of_month      DATE,
        horizon          INTEGER,
        status           VARCHAR NOT NULL,
        snapshot_id      VARCHAR,
        reason           VARCHAR,
        n_series         INTEGER,
        duration_ms      INTEGER
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS forecast.forecast_locks (
        quarter          VARCHAR PRIMARY KEY,
        snapshot_id      VARCHAR NOT NULL,
        as_of_month      DATE NOT NULL,
        locked_at        TIMESTAMP NOT NULL
    )
    """,
    # written by accuracy.write_backtest_accuracy (one row per level x method x step)
    """
    CREATE TABLE IF NOT EXISTS forecast.backtest_accuracy (
        snapshot_id      VARCHAR NOT NULL,
        level            VARCHAR NOT NULL,
        method_kind      VARCHAR NOT NULL,
        step             INTEGER NOT NULL,
        n_series         INTEGER NOT NULL,
        n_points         INTEGER NOT NULL,
        n_band_points    INTEGER NOT NULL,
        wape             DECIMAL(18,6),
        mape             DECIMAL(18,6),
        bias             DECIMAL(18,6),
        coverage_80      DECIMAL(9,6),
        coverage_95      DECIMAL(9,6),
        PRIMARY KEY (snapshot_id, level, method_kind, step)
    )
    """,
)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``forecast`` schema, its tables and views if they do not exist, and bring
    an older warehouse's tables up to date (``migrate``)."""
    from .export_views import ensure_views

    for ddl in _DDL:
        con.execute(ddl)
    migrate(con)
    ensure_views(con)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'forecast' "
        "AND table_name = ? ORDER BY column_index", [table]).fetchall()]


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Warehouses written before issue 14: ``forecast_values.model`` is now ``method`` (the
    forecasting model of the row) and the table gains ``history_class``. Renaming keeps every
    stored value; nothing else changes."""
    cols = _columns(con, "forecast_values")
    if "model" in cols and "method" not in cols:
        con.execute("ALTER TABLE forecast.forecast_values RENAME COLUMN model TO method")
    if "history_class" not in cols:
        con.execute("ALTER TABLE forecast.forecast_values ADD COLUMN history_class VARCHAR")


@dataclass
class ForecastResult:
    """Outcome of ``build_forecasts``."""

    status: str  # created | reused | skipped
    snapshot_id: str | None
    as_of_month: date | None
    reason: str | None = None
    run_id: str | None = None
    n_series: int = 0
    duration_s: float = 0.0
    scenarios: list[str] = field(default_factory=list)
    models: dict[str, int] = field(default_factory=dict)


def series_id(level: str, key: dict[str, Any]) -> str:
    """``'["team_model", "recsys", "two-tower"]'``: the level and its key values."""
    return json.dumps([level, *[key.get(k) for k in SEGMENT_KEYS if k in key]])


def params(horizon: int, scenarios: list[Scenario]) -> dict[str, Any]:
    """Everything that determines the forecast besides the data (hashed into the id)."""
    return {
        "method": METHOD,
        "horizon": horizon,
        "levels": list(LEVELS) + [SEGMENT_LEVEL],
        "target": "effective_cost",
        "candidates": list(CANDIDATE_MODELS),
        "selection": "lowest backtest MASE (MAE when the naive scale is zero)",
        "backtest": {
            "horizon": BACKTEST_HORIZON,
            "windows": BACKTEST_WINDOWS,
            "min_train": MIN_TRAIN_MONTHS,
        },
        "intervals": list(INTERVAL_LEVELS),
        "calibration": calibration_params(),
        "reconciliation": "top-down forecast proportions; segments by IPF on recent mix",
        "recent_months": RECENT_MONTHS,
        "min_history_months": MIN_HISTORY_MONTHS,
        "scenarios": [s.to_json() for s in scenarios],
    }


def params_json(horizon: int, scenarios: list[Scenario]) -> tuple[str, str]:
    """(canonical JSON of the parameters, its SHA-256)."""
    text = json.dumps(params(horizon, scenarios), sort_keys=True)
    return text, hashlib.sha256(text.encode()).hexdigest()


def snapshot_id(as_of: date, params_hash: str, fingerprint: str) -> str:
    """``fc_<yyyymm>_<16 hex>`` from (as-of month, method, parameters, data fingerprint)."""
    digest = hashlib.sha256(f"{as_of}|{METHOD}|{params_hash}|{fingerprint}".encode()).hexdigest()
    return f"fc_{as_of:%Y%m}_{digest[:16]}"


def existing_series_count(con: duckdb.DuckDBPyConnection, snapshot: str) -> int | None:
    """``n_series`` of a stored snapshot, or None when there is no such snapshot."""
    rows = con.execute(
        "SELECT n_series FROM forecast.forecast_snapshots WHERE snapshot_id = ?", [snapshot]
    ).fetchall()
    return rows[0][0] if rows else None


def write_snapshot(
    con: duckdb.DuckDBPyConnection,
    snapshot_row: list[Any],
    values: pl.DataFrame,
    metrics: pl.DataFrame,
) -> None:
    """Insert the snapshot row, its values and its backtest metrics in one transaction.

    Money arrives as float columns and is stored as DECIMAL(38,6) (quantities 38,12).
    """
    snapshot = snapshot_row[0]
    with transaction(con), arrow_views(con, _mlcost_fc_values=values.to_arrow(),
                                        _mlcost_fc_metrics=metrics.to_arrow()):
        con.execute(
            "INSERT INTO forecast.forecast_snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            snapshot_row,
        )
        con.execute(
            """
            INSERT INTO forecast.forecast_values
            SELECT ?, scenario, level, series_id, team, workload, ml_model, provider,
                   service_name, pricing_unit, month, step, method,
                   CAST(point AS DECIMAL(38,6)), CAST(lo_80 AS DECIMAL(38,6)),
                   CAST(hi_80 AS DECIMAL(38,6)), CAST(lo_95 AS DECIMAL(38,6)),
                   CAST(hi_95 AS DECIMAL(38,6)), CAST(base_point AS DECIMAL(38,6)),
                   CAST(pricing_quantity AS DECIMAL(38,12)), history_class
            FROM _mlcost_fc_values
            """,
            [snapshot],
        )
        con.execute(
            """
            INSERT INTO forecast.backtest_metrics
            SELECT ?, level, series_id, team, workload, ml_model, model, selected, n_obs,
                   n_windows, backtest_horizon, n_points, CAST(mae AS DECIMAL(38,6)),
                   CAST(mape_pct AS DECIMAL(18,6)), CAST(smape_pct AS DECIMAL(18,6)),
                   CAST(mase AS DECIMAL(18,6)), CAST(coverage_80 AS DECIMAL(9,6)),
                   CAST(coverage_95 AS DECIMAL(9,6)), note
            FROM _mlcost_fc_metrics
            """,
            [snapshot],
        )


def record_run(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    started: datetime,
    t0: float,
    context: str,
    requested: date | None,
    result: ForecastResult,
    horizon: int,
) -> ForecastResult:
    """Append the call to ``forecast.forecast_runs`` (every call, skipped ones too)."""
    result.duration_s = time.perf_counter() - t0
    result.run_id = run_id
    con.execute(
        "INSERT INTO forecast.forecast_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            started,
            utcnow(),
            context,
            requested,
            result.as_of_month,
            horizon,
            result.status,
            result.snapshot_id,
            result.reason,
            result.n_series,
            int(result.duration_s * 1000),
        ],
    )
    return result


def skipped_runs(con: duckdb.DuckDBPyConnection, limit: int = 20) -> list[dict[str, Any]]:
    """Most recent skipped forecast runs (for the report)."""
    if not table_exists(con, "forecast", "forecast_runs"):
        return []
    cur = con.execute(
        "SELECT started_at, context, requested_as_of, as_of_month, reason "
        "FROM forecast.forecast_runs WHERE status = 'skipped' "
        "ORDER BY started_at DESC LIMIT ?",
        [limit],
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
