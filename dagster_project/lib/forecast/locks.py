"""Quarter locks: the snapshot that is the plan of a fiscal quarter, written once."""

from __future__ import annotations

import duckdb

from dagster_project.lib.calendar import add_months, parse_quarter, utcnow
from dagster_project.lib.warehouse import table_exists

from .build import build_forecasts
from .config import DEFAULT_HORIZON
from .snapshots import ensure_schema


def locked_snapshot(con: duckdb.DuckDBPyConnection, quarter: str) -> str | None:
    """Snapshot id locked for ``quarter``, or None (never creates anything)."""
    parse_quarter(quarter)
    if not table_exists(con, "forecast", "forecast_locks"):
        return None
    rows = con.execute(
        "SELECT snapshot_id FROM forecast.forecast_locks WHERE quarter = ?", [quarter]
    ).fetchall()
    return rows[0][0] if rows else None


def ensure_locked_forecast(
    con: duckdb.DuckDBPyConnection, quarter: str, *, horizon: int = DEFAULT_HORIZON
) -> str | None:
    """Return the snapshot locked as the plan of ``quarter``, creating and locking it if needed.

    The locked forecast of quarter Q is forecast from actuals up to the last month before Q
    starts (data of later months is ignored, so past quarters can be locked honestly from a
    longer history). A lock is written once and never changed. Returns None -- with a
    ``skipped`` row in ``forecast.forecast_runs`` -- when there is not enough history.
    """
    first, _, _ = parse_quarter(quarter)
    ensure_schema(con)
    existing = locked_snapshot(con, quarter)
    if existing:
        return existing
    as_of = add_months(first, -1)
    result = build_forecasts(
        con, as_of_month=as_of, horizon=max(horizon, 3), context=f"lock:{quarter}"
    )
    if result.snapshot_id is None:
        return None
    try:
        con.execute(
            "INSERT INTO forecast.forecast_locks VALUES (?, ?, ?, ?)",
            [quarter, result.snapshot_id, as_of, utcnow()],
        )
    except duckdb.ConstraintException:
        pass  # locked concurrently; the first lock wins
    return locked_snapshot(con, quarter)
