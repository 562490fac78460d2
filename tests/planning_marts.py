"""The dbt models variance and the report read besides the cost mart -- ``marts.fct_budgets``
(and its staging view) and ``marts.dim_calendar`` -- built on a test's DuckDB connection from
their SQL as dbt compiles it, so unit tests on a hand-made warehouse run the real models (the
one budget reader, the one complete-quarter rule) without a dbt build per test."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import duckdb

from dagster_project import settings

# (schema, model, materialization), in dependency order
MODELS = (("staging", "stg_mlcost__budgets", "VIEW"), ("marts", "fct_budgets", "TABLE"),
          ("marts", "dim_calendar", "TABLE"))
_LINEAGE = (("_billing_period", "DATE"), ("_loaded_at", "TIMESTAMP"), ("_file_id", "VARCHAR"),
            ("_row_number", "BIGINT"))


@cache
def compiled(as_of: str | None = None) -> dict[str, str]:
    """model -> compiled SQL with the database name removed (``"db"."marts"."x"`` ->
    ``"marts"."x"``), optionally with dim_calendar's clock at ``as_of`` (YYYY-MM-DD)."""
    tmp = Path(tempfile.mkdtemp(prefix="mlcost-compile-"))
    args = [str(Path(sys.executable).parent / "dbt"), "compile", "--select",
            *(m for _, m, _ in MODELS), "--project-dir", str(settings.DBT_PROJECT_DIR),
            "--profiles-dir", str(settings.DBT_PROJECT_DIR), "--target-path", str(tmp / "t"),
            "--quiet"]
    if as_of:
        args += ["--vars", json.dumps({"calendar_as_of": as_of})]
    env = {**os.environ, "MLCOST_WAREHOUSE": str(tmp / "compile.duckdb")}
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    manifest = json.loads((tmp / "t" / "manifest.json").read_text())
    out = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["name"] in {m for _, m, _ in MODELS}:
            out[node["name"]] = re.sub(r'"compile"\.', "", node["compiled_code"])
    return out


def build(con: duckdb.DuckDBPyConnection, as_of: str | None = None) -> duckdb.DuckDBPyConnection:
    """(Re)build the three models on ``con``. ``raw.budgets`` gains the lineage columns ingest
    writes when a test created it without them; ``marts.fct_costs_monthly`` must exist."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("CREATE TABLE IF NOT EXISTS raw.budgets (fiscal_quarter VARCHAR, team VARCHAR, "
                "budget_amount VARCHAR, currency VARCHAR)")
    for col, typ in _LINEAGE:
        con.execute(f"ALTER TABLE raw.budgets ADD COLUMN IF NOT EXISTS {col} {typ}")
    sql = compiled(as_of)
    for schema, model, kind in MODELS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(f"DROP {kind} IF EXISTS {schema}.{model}")
        con.execute(f"CREATE {kind} {schema}.{model} AS {sql[model]}")
    return con
