"""`--target prod`: a wrong BigQuery configuration stops every command before any work, with
one message naming the variable; and every op that opens the warehouse is either mapped to
its BigQuery inputs and outputs (lib/bigquery_stages.py) or reads only the local ingest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.lib import bigquery_stages as stages
from dagster_project.lib.bigquery_sync import _csv_expr, _to_bq

MLCOST = str(Path(sys.executable).parent / "mlcost")


def _mlcost(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("MLCOST_BQ_", "GOOGLE_", "DBT_TARGET"))}
    # No gcloud configuration and no metadata server: application default credentials are
    # looked for in HOME only.
    base.update({"HOME": str(tmp_path / "home"), "NO_GCE_CHECK": "True",
                 "DAGSTER_HOME": str(tmp_path / "dagster_home"),
                 "CLOUDSDK_CONFIG": str(tmp_path / "gcloud")})
    base.update(env)
    return subprocess.run([MLCOST, *args], capture_output=True, text=True, env=base,
                          cwd=tmp_path, timeout=120, check=False)


@pytest.fixture
def landing(tmp_path):
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


CASES = [
    # (extra args, environment, exit code, variable named)
    (["--target", "prod"], {}, 64, "MLCOST_BQ_PROJECT is not set"),
    (["--target", "prod"], {"MLCOST_BQ_PROJECT": "My Project"}, 64, "MLCOST_BQ_PROJECT"),
    (["--target", "prod"], {"MLCOST_BQ_PROJECT": "acme-billing", "MLCOST_BQ_MONEY_TYPE": "FLOAT"},
     64, "MLCOST_BQ_MONEY_TYPE"),
    (["--target", "prod"], {"MLCOST_BQ_PROJECT": "acme-billing",
                            "MLCOST_BQ_STAGING_URI": "s3://bucket/x"}, 64,
     "MLCOST_BQ_STAGING_URI"),
    (["--target", "prod"], {"MLCOST_BQ_PROJECT": "acme-billing", "MLCOST_BQ_METHOD": "password"},
     64, "MLCOST_BQ_METHOD"),
    (["--target", "prod"], {"MLCOST_BQ_PROJECT": "acme-billing",
                            "MLCOST_BQ_METHOD": "service-account"}, 64, "MLCOST_BQ_KEYFILE"),
    (["--target", "prod"], {"MLCOST_BQ_PROJECT": "acme-billing",
                            "MLCOST_BQ_METHOD": "service-account",
                            "MLCOST_BQ_KEYFILE": "/nonexistent/key.json"}, 66,
     "MLCOST_BQ_KEYFILE=/nonexistent/key.json: no such file"),
    (["--target", "prod"], {"MLCOST_BQ_PROJECT": "acme-billing",
                            "MLCOST_BQ_METHOD": "oauth-secrets"}, 64, "MLCOST_BQ_TOKEN"),
    (["--target", "prod"], {"MLCOST_BQ_PROJECT": "acme-billing"}, 64,
     "GOOGLE_APPLICATION_CREDENTIALS is not set and no application default credentials"),
    (["--target", "emulator"], {"MLCOST_BQ_PROJECT": "acme-billing"}, 64,
     "MLCOST_BQ_API_ENDPOINT"),
    ([], {"DBT_TARGET": "ci"}, 64, "only compiles"),
    ([], {"DBT_TARGET": "staging"}, 64, "DBT_TARGET='staging' is not a target"),
]


@pytest.mark.parametrize(("args", "env", "code", "named"), CASES,
                         ids=[c[3].split()[0].split("=")[0] + f"-{i}" for i, c in
                              enumerate(CASES)])
def test_run_stops_before_any_work_naming_the_variable(tmp_path, landing, args, env, code,
                                                       named):
    wh = tmp_path / "wh.duckdb"
    res = _mlcost(tmp_path, ["run", "--landing", str(landing), "--warehouse", str(wh), *args],
                  **env)
    assert res.returncode == code, res.stdout + res.stderr
    assert named in res.stderr
    assert "Traceback" not in res.stderr
    # Before any work: no warehouse, no Dagster home, nothing beside the landing.
    assert not wh.exists()
    assert not (tmp_path / "dagster_home").exists()


def test_export_and_report_check_the_target_too(tmp_path):
    wh = tmp_path / "wh.duckdb"
    for args in (["export", "costs", "--out", str(tmp_path / "c.csv")],
                 ["report", "--quarter", "2026Q3", "--out", str(tmp_path / "r")]):
        res = _mlcost(tmp_path, [*args, "--warehouse", str(wh), "--target", "prod"])
        assert res.returncode == 64, res.stderr
        assert "MLCOST_BQ_PROJECT is not set" in res.stderr
        assert not wh.exists()


def test_every_op_that_opens_the_warehouse_is_mapped():
    """A new asset or check that reads the warehouse must say what it reads and writes on
    BigQuery, or it would silently read a stale working copy there."""
    from dagster_project.definitions import defs

    ops = {node.name for job in defs.get_repository_def().get_all_jobs()
           for node in job.graph.iterate_op_defs() if "warehouse" in node.required_resource_keys}
    assert ops, "no op requires the warehouse resource: the lookup is broken"
    unmapped = sorted(op for op in ops if stages.stage_for(op) is None
                      and not stages.is_local_only(op))
    assert not unmapped, f"add these ops to lib/bigquery_stages.STAGES: {unmapped}"
    # Each stage name matches an op: a renamed asset leaves no dead entry behind.
    dead = sorted(name for name in stages.STAGES
                  if not any(op == name or op.endswith(f"_{name}") for op in ops))
    assert not dead, f"stages without an op: {dead}"


def test_a_check_is_not_taken_for_its_asset():
    check = stages.stage_for("monitoring__cost_anomalies_no_recent_cost_anomalies")
    asset = stages.stage_for("monitoring__cost_anomalies")
    assert check is stages.STAGES["no_recent_cost_anomalies"]
    assert asset is stages.STAGES["cost_anomalies"]
    assert check.pushes == ()  # a check never writes BigQuery
    assert stages.stage_for("meta__deliveries_sources_are_fresh") is None
    assert stages.is_local_only("meta__deliveries_sources_are_fresh")


@pytest.mark.parametrize(("duck", "money", "bq"), [
    ("DECIMAL(38,24)", "BIGNUMERIC", "BIGNUMERIC"),
    ("DECIMAL(38,24)", "NUMERIC", "NUMERIC"),
    ("DECIMAL(18,2)", "BIGNUMERIC", "NUMERIC"),
    ("DECIMAL(38,9)", "BIGNUMERIC", "NUMERIC"),  # NUMERIC is exactly DECIMAL(38, 9)
    ("DECIMAL(38,10)", "BIGNUMERIC", "BIGNUMERIC"),
    ("DOUBLE", "BIGNUMERIC", "FLOAT64"),
    ("BIGINT", "BIGNUMERIC", "INT64"),
    ("TIMESTAMP WITH TIME ZONE", "BIGNUMERIC", "TIMESTAMP"),
    ("VARCHAR[]", "BIGNUMERIC", "STRING"),
    ("STRUCT(a INTEGER)", "BIGNUMERIC", "STRING"),
])
def test_pushed_types_keep_money_exact(duck, money, bq):
    assert _to_bq(duck, money) == bq


def test_money_text_has_no_float_step():
    import duckdb

    con = duckdb.connect()
    value = "123456789012.123456789012345678901234"
    for bq, want in (("BIGNUMERIC", "123456789012.123456789012345678901234"),
                     # NUMERIC holds 9 decimals: rounded half away from zero, never via float
                     ("NUMERIC", "123456789012.123456789")):
        expr = _csv_expr("m", "DECIMAL(38,24)", bq)
        got = con.execute(f"select {expr} from (select ?::decimal(36, 24) as m)",  # noqa: S608
                          [value]).fetchall()[0][0]
        assert got == want, (bq, got)
