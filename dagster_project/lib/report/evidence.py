"""Parquet exports read by the Evidence project in ``reports/``.

Files (all under ``out_dir``; the Evidence sources expect ``<repo>/data/exports``):

* ``costs_monthly.parquet``          -- ``marts.fct_costs_monthly`` as is
* ``forecast.parquet``               -- forecast values of the latest and of every locked
  snapshot, with snapshot metadata (as_of_month, locked_quarter, is_latest)
* ``backtest_metrics.parquet``       -- backtest metrics of the same snapshots
* ``variance.parquet``               -- ``variance.quarterly_variance``
* ``variance_decomposition.parquet`` -- ``variance.variance_decomposition``
* ``idle_waste.parquet``             -- ``marts.fct_idle_waste`` when it exists

Money stays DECIMAL in the files. When a source table does not exist yet an empty file with the
right columns is written (Evidence's ``npm run sources`` fails on a missing file): for the dbt
marts the columns the dbt project declares (``target/manifest.json``; VARCHAR where the model
declares no type), for the forecast and variance tables their own schemas. Python never
re-declares a mart's shape.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from dagster_project import settings
from dagster_project.lib import forecast as fc
from dagster_project.lib import variance as var

BATCH_ROWS = 250_000

# Both forecast exports keep the latest snapshot and every locked one.
# name -> (tables that must exist, query)
EXPORTS: dict[str, tuple[tuple[tuple[str, str], ...], str]] = {
    "costs_monthly": (
        (("marts", "fct_costs_monthly"),),
        "SELECT * FROM marts.fct_costs_monthly "
        "ORDER BY billing_month, team, workload, ml_model, provider, service_name",
    ),
    "forecast": (
        (("forecast", "forecast_values"), ("forecast", "forecast_locks")),
        """
        WITH latest AS (
            SELECT snapshot_id FROM forecast.forecast_snapshots
            ORDER BY as_of_month DESC, created_at DESC LIMIT 1
        ),
        chosen AS (
            SELECT snapshot_id FROM latest
            UNION SELECT snapshot_id FROM forecast.forecast_locks
        )
        SELECT v.snapshot_id, s.as_of_month, s.created_at AS snapshot_created_at,
               l.quarter AS locked_quarter,
               v.snapshot_id IN (SELECT snapshot_id FROM latest) AS is_latest,
               v.scenario, v.level, v.series_id, v.team, v.workload, v.ml_model, v.provider,
               v.service_name, v.pricing_unit, v.month, v.step, v.method, v.point, v.lo_80,
               v.hi_80, v.lo_95, v.hi_95, v.base_point, v.pricing_quantity
        FROM forecast.forecast_values v
        JOIN forecast.forecast_snapshots s USING (snapshot_id)
        LEFT JOIN forecast.forecast_locks l USING (snapshot_id)
        WHERE v.snapshot_id IN (SELECT snapshot_id FROM chosen)
        ORDER BY v.snapshot_id, v.scenario, v.level, v.series_id, v.month
        """,
    ),
    "backtest_metrics": (
        (("forecast", "backtest_metrics"), ("forecast", "forecast_locks")),
        """
        WITH latest AS (
            SELECT snapshot_id FROM forecast.forecast_snapshots
            ORDER BY as_of_month DESC, created_at DESC LIMIT 1
        ),
        chosen AS (
            SELECT snapshot_id FROM latest
            UNION SELECT snapshot_id FROM forecast.forecast_locks
        )
        SELECT m.*, s.as_of_month
        FROM forecast.backtest_metrics m
        JOIN forecast.forecast_snapshots s USING (snapshot_id)
        WHERE m.snapshot_id IN (SELECT snapshot_id FROM chosen)
        ORDER BY m.snapshot_id, m.level, m.series_id, m.model
        """,
    ),
    "variance": (
        (("variance", "quarterly_variance"),),
        "SELECT * FROM variance.quarterly_variance "
        "ORDER BY quarter, level, team, workload, ml_model",
    ),
    "variance_decomposition": (
        (("variance", "variance_decomposition"),),
        "SELECT * FROM variance.variance_decomposition "
        "ORDER BY quarter, team, workload, ml_model, provider, service_name, pricing_unit",
    ),
    "idle_waste": (
        (("marts", "fct_idle_waste"),),
        "SELECT * FROM marts.fct_idle_waste",
    ),
}


# The exported dbt marts whose empty stand-in comes from the dbt manifest.
_DBT_MARTS = ("fct_costs_monthly", "fct_idle_waste")


@cache
def _declared_columns(model: str) -> tuple[tuple[str, str], ...]:
    """(column, type) of a dbt model as its yml declares them (VARCHAR when untyped)."""
    manifest = settings.DBT_PROJECT_DIR / "target" / "manifest.json"
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"]
    node = next(n for n in nodes.values()
                if n["resource_type"] == "model" and n["name"] == model)
    return tuple((name, col.get("data_type") or "varchar")
                 for name, col in node["columns"].items())


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _scratch() -> duckdb.DuckDBPyConnection:
    """In-memory database with empty tables of the expected shapes (for missing sources)."""
    con = duckdb.connect()
    fc.ensure_schema(con)
    var.ensure_schema(con)
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    for model in _DBT_MARTS:
        # names and types come from the dbt project, not from user data
        cols = ", ".join(f"{_ident(name)} {typ}" for name, typ in _declared_columns(model))
        con.execute(f"CREATE TABLE marts.{model} ({cols})")
    return con


def _write(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> int:
    tmp = path.with_name(path.name + ".partial")
    reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
    rows = 0
    with pq.ParquetWriter(tmp, reader.schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    os.replace(tmp, path)
    return rows


def export_evidence_sources(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """Write the Evidence source Parquet files to ``out_dir`` and return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch: duckdb.DuckDBPyConnection | None = None
    paths: list[Path] = []
    try:
        for name, (tables, sql) in EXPORTS.items():
            source = con
            if not all(fc.table_exists(con, s, t) for s, t in tables):
                scratch = scratch or _scratch()
                source = scratch
            path = out_dir / f"{name}.parquet"
            _write(source, sql, path)
            paths.append(path)
    finally:
        if scratch is not None:
            scratch.close()
    return paths
