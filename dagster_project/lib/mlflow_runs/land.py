"""raw.mlflow_runs (one row per run, the whole snapshot replaced in one transaction) and
meta.mlflow_sync_status (one row per load attempt). Contract 1 of issue #15, docs/mlflow.md."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from dagster_project.lib.warehouse import arrow_views, transaction

COLUMNS = (
    ("tracking_uri", "VARCHAR"), ("experiment_id", "VARCHAR"), ("experiment_name", "VARCHAR"),
    ("run_id", "VARCHAR"), ("run_name", "VARCHAR"), ("status", "VARCHAR"),
    ("start_time", "TIMESTAMP"), ("end_time", "TIMESTAMP"), ("team", "VARCHAR"),
    ("ml_model", "VARCHAR"), ("provider", "VARCHAR"), ("instance_type", "VARCHAR"),
    ("instance_count", "INTEGER"), ("dataset_rows", "BIGINT"), ("resource_ids", "VARCHAR"),
    ("tags_json", "VARCHAR"), ("params_json", "VARCHAR"), ("issue", "VARCHAR"),
    ("_loaded_at", "TIMESTAMP"),
)
NAMES = tuple(c for c, _ in COLUMNS)
_ARROW = {"VARCHAR": pa.string(), "TIMESTAMP": pa.timestamp("us"), "INTEGER": pa.int32(),
          "BIGINT": pa.int64()}
SCHEMA = pa.schema([(c, _ARROW[t]) for c, t in COLUMNS])

_DDL = (
    "create schema if not exists raw",
    "create schema if not exists meta",
    "create table if not exists raw.mlflow_runs ("
    + ", ".join(f"{c} {t}" for c, t in COLUMNS) + ")",
    """create table if not exists meta.mlflow_sync_status (
        loaded_at TIMESTAMP NOT NULL, tracking_uri VARCHAR, status VARCHAR NOT NULL,
        reason VARCHAR, runs INTEGER NOT NULL)""",
)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in _DDL:
        con.execute(ddl)


def replace_runs(con: duckdb.DuckDBPyConnection, rows: list[dict], loaded_at: dt.datetime,
                 uri: str) -> None:
    """The new snapshot and its status row land together, or neither does."""
    ensure_tables(con)
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    with arrow_views(con, mlflow_runs_new=table), transaction(con):
        con.execute("delete from raw.mlflow_runs")
        con.execute("insert into raw.mlflow_runs by name select * from mlflow_runs_new")
        record_status(con, loaded_at, uri, "ok", None, len(rows))


def record_status(con: duckdb.DuckDBPyConnection, loaded_at: dt.datetime, uri: str | None,
                  status: str, reason: str | None, runs: int) -> None:
    ensure_tables(con)
    con.execute("insert into meta.mlflow_sync_status values (?, ?, ?, ?, ?)",
                [loaded_at, uri, status, reason, runs])
