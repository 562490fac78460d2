"""Quarter locks: the snapshot that is the plan of a fiscal quarter, written once."""

from __future__ import annotations

from typing import Any

import duckdb

from dagster_project.lib.calendar import (
    add_months,
    last_closed_month,
    parse_quarter,
    quarter_of,
    utcnow,
)
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
    con: duckdb.DuckDBPyConnection, quarter: str, *, horizon: int = DEFAULT_HORIZON,
    scenarios: Any = None,
) -> str | None:
    """Return the snapshot locked as the plan of ``quarter``, creating and locking it if needed.

    The locked forecast of quarter Q is forecast from actuals up to the last month before Q
    starts (data of later months is ignored, so past quarters can be locked honestly from a
    longer history). A lock is written once and never changed. Returns None -- with a
    ``skipped`` row in ``forecast.forecast_runs`` -- when there is not enough history.
    ``scenarios`` (the planning file) gives the plan its ``base``/``best``/``worst`` cases.
    """
    first, _, _ = parse_quarter(quarter)
    ensure_schema(con)
    existing = locked_snapshot(con, quarter)
    if existing:
        return existing
    as_of = add_months(first, -1)
    result = build_forecasts(
        con, as_of_month=as_of, horizon=max(horizon, 3), scenarios=scenarios,
        context=f"lock:{quarter}",
    )
    if result.snapshot_id is None:
        return None
    return lock_snapshot(con, quarter, result.snapshot_id)


def lock_snapshot(con: duckdb.DuckDBPyConnection, quarter: str, snapshot_id: str) -> str:
    """Lock ``snapshot_id`` as the plan of ``quarter`` unless the quarter is locked already
    (a lock never moves); returns the snapshot locked for the quarter. The snapshot's as-of
    month must be the month before the quarter starts."""
    first, _, _ = parse_quarter(quarter)
    as_of = add_months(first, -1)
    rows = con.execute("SELECT as_of_month FROM forecast.forecast_snapshots "
                       "WHERE snapshot_id = ?", [snapshot_id]).fetchall()
    if not rows or rows[0][0] != as_of:
        raise ValueError(f"snapshot {snapshot_id} is not as of {as_of:%Y-%m}, the month "
                         f"before {quarter}")
    try:
        con.execute(
            "INSERT INTO forecast.forecast_locks VALUES (?, ?, ?, ?)",
            [quarter, snapshot_id, as_of, utcnow()],
        )
    except duckdb.ConstraintException:
        pass  # locked already (or concurrently): the first lock wins
    return locked_snapshot(con, quarter) or snapshot_id


def quarter_after(as_of) -> str | None:
    """The quarter that starts right after ``as_of`` (None unless it ends a quarter)."""
    nxt = add_months(as_of, 1)
    return quarter_of(nxt) if nxt.month in (1, 4, 7, 10) else None


def current_quarter() -> str:
    """The quarter of the first month that has not closed: its plan is locked as soon as the
    month before it has closed, i.e. at the quarter's start (the daily schedule)."""
    return quarter_of(add_months(last_closed_month(), 1))
