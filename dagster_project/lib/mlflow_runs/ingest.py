"""Load the configured MLflow store into the warehouse; never fails the cost pipeline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from .land import ensure_tables, record_status, replace_runs
from .reader import StoreUnavailable, read_runs, strip_credentials


@dataclass
class LoadResult:
    status: str  # ok | unavailable | error
    uri: str | None
    runs: int = 0
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)


def load_mlflow_runs(con: duckdb.DuckDBPyConnection, uri: str | None) -> LoadResult:
    """Replace raw.mlflow_runs with the store's runs. Without a URI, without mlflow or with an
    unreadable store, the previous snapshot stays (the table exists, maybe empty) and
    meta.mlflow_sync_status says why."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ensure_tables(con)
    if not uri:
        reason = ("no MLflow tracking URI configured (MLCOST_MLFLOW_URI or mlflow_uri in "
                  "mlcost.toml); training-run costs are unavailable")
        record_status(con, now, None, "unavailable", reason, 0)
        return LoadResult("unavailable", None, reason=reason)
    try:
        res = read_runs(uri, now)
    except StoreUnavailable as exc:
        safe = strip_credentials(uri)
        record_status(con, now, safe, exc.status, exc.reason, 0)
        return LoadResult(exc.status, safe, reason=exc.reason)
    replace_runs(con, res.rows, now, res.uri)
    return LoadResult("ok", res.uri, len(res.rows), warnings=res.warnings)
