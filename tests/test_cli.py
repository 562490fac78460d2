"""End to end through the `mlcost` CLI (subprocesses, as a user runs it), and the definitions."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dagster_project.lib.warehouse import connection

from .conftest import REAL

MLCOST = str(Path(sys.executable).parent / "mlcost")
FOCUS_12_MANDATORY = [
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription",
    "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost",
    "InvoiceIssuerName", "ListCost", "PricingQuantity", "PricingUnit", "ProviderName",
    "PublisherName", "ServiceCategory", "ServiceName",
]


def mlcost(*args: str, tmp: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLCOST_REPORTS": str(tmp / "reports"),
           "MLCOST_EXPORTS": str(tmp / "exports"), "DAGSTER_HOME": str(tmp / "dagster_home")}
    proc = subprocess.run([MLCOST, *args], env=env, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"mlcost {' '.join(args)} -> {proc.returncode}\n{proc.stderr[-4000:]}")
    return proc


def test_definitions_group_the_graph_by_stage():
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {"ingest", "reference", "staging", "intermediate", "focus", "marts", "forecast",
            "variance", "reports"} <= groups
    key = next(k for k in graph.get_all_asset_keys() if k.path == ["focus", "focus_cost_and_usage"])
    assert graph.get(key).group_name == "focus"
    # dbt sources resolve to the ingest assets: lineage reads ingest -> staging -> focus.
    stg = next(k for k in graph.get_all_asset_keys()
               if k.path == ["staging", "stg_focus__line_items"])
    parents = {p.to_user_string() for p in graph.get(stg).parent_keys}
    assert {"raw/focus", "meta/deliveries", "meta/load_ledger"} <= parents
    for job in ("mlcost_full", "mlcost_build", "ingest", "billing_history", "marts_daily"):
        assert defs.resolve_job_def(job) is not None


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("cli_demo")
    mlcost("generate", "--out", str(tmp / "demo"), "--months", "7", "--scale", "0.2", tmp=tmp)
    mlcost("run", "--landing", str(tmp / "demo" / "landing"), "--warehouse",
           str(tmp / "wh.duckdb"), tmp=tmp)
    return tmp


def test_run_on_the_demo_builds_every_stage(demo):
    with connection(demo / "wh.duckdb", read_only=True) as con:
        recon = con.execute("select distinct status from focus.rpt_focus_reconciliation").fetchall()
        assert recon == [("reconciled",)]
        assert con.execute("select count(*) from marts.fct_idle_waste").fetchone()[0] > 0
        assert con.execute("select count(*) from forecast.forecast_snapshots").fetchone()[0] > 0
        statuses = {r[0] for r in con.execute("select status from variance.variance_runs")
                    .fetchall()}
        assert statuses & {"ok", "partial"}
    assert list((demo / "reports").glob("*/report.html"))  # the review packs
    assert {p.name for p in (demo / "exports").glob("*.parquet")}


@pytest.mark.parametrize("table", ["focus", "costs", "waste", "forecast", "variance"])
def test_every_published_dataset_exports(demo, table):
    out = demo / f"{table}.parquet"
    mlcost("export", table, "--out", str(out), "--warehouse", str(demo / "wh.duckdb"), tmp=demo)
    meta = pq.read_metadata(out)
    assert meta.num_rows > 0
    if table == "focus":
        names = pq.read_schema(out).names
        assert set(FOCUS_12_MANDATORY) <= set(names)
        assert str(pq.read_schema(out).field("BilledCost").type) == "decimal128(38, 24)"


def test_focus_csv_export_uses_focus_dates(demo):
    out = demo / "focus.csv"
    mlcost("export", "focus", "--out", str(out), "--warehouse", str(demo / "wh.duckdb"), tmp=demo)
    with open(out, newline="") as fh:
        reader = csv.DictReader(fh)
        row = next(reader)
    assert set(FOCUS_12_MANDATORY) <= set(reader.fieldnames)
    assert row["ChargePeriodStart"].endswith("Z") and "T" in row["ChargePeriodStart"]


def test_run_with_a_period_rebuilds_only_that_month(demo):
    query = ('select "x_BillingPeriod", count(*), sum("BilledCost") '
             "from focus.focus_cost_and_usage group by all order by all")
    with connection(demo / "wh.duckdb", read_only=True) as con:
        before = con.execute(query).fetchall()
    period = before[-1][0].strftime("%Y-%m")
    mlcost("run", "--landing", str(demo / "demo" / "landing"), "--warehouse",
           str(demo / "wh.duckdb"), "--period", period, tmp=demo)
    with connection(demo / "wh.duckdb", read_only=True) as con:
        assert con.execute(query).fetchall() == before
        recon = con.execute("select distinct status from focus.rpt_focus_reconciliation")
        assert recon.fetchall() == [("reconciled",)]
        runs = con.execute("select count(*) from forecast.forecast_snapshots").fetchone()[0]
    assert runs > 0


def test_report_command_writes_the_quarter(demo):
    with connection(demo / "wh.duckdb", read_only=True) as con:
        (quarter,) = con.execute(
            "select quarter from variance.variance_runs order by quarter desc limit 1"
        ).fetchone()
    proc = mlcost("report", "--quarter", quarter, "--out", str(demo / "r2"), "--warehouse",
                  str(demo / "wh.duckdb"), tmp=demo)
    assert (demo / "r2" / quarter / "report.html").exists(), proc.stdout


def test_run_on_a_single_real_file_succeeds_and_skips_what_needs_history(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copy(REAL / "oci/cost_report_csv_native/reports_cost-csv_0000000030000269.csv", landing)
    mlcost("run", "--landing", str(landing), "--warehouse", str(tmp_path / "wh.duckdb"),
           tmp=tmp_path)
    with connection(tmp_path / "wh.duckdb", read_only=True) as con:
        assert con.execute("select count(*) from focus.focus_cost_and_usage").fetchone() == (506,)
        runs = con.execute("select status, reason from forecast.forecast_runs").fetchall()
    assert runs and runs[-1][0] == "skipped" and runs[-1][1]  # says why


def test_bad_file_exits_65_naming_it_and_the_rest_loads(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copy(REAL / "gcp/bigquery_detailed_export_csv/2022-08-01_5.csv", landing)
    (landing / "broken.csv").write_text("BilledCost,ChargePeriodStart,BillingPeriodStart\n")
    proc = mlcost("run", "--landing", str(landing), "--warehouse", str(tmp_path / "wh.duckdb"),
                  tmp=tmp_path, check=False)
    assert proc.returncode == 65  # exit_codes.DATA_ERROR
    assert "broken.csv" in proc.stderr and "Traceback" not in proc.stderr
    with connection(tmp_path / "wh.duckdb", read_only=True) as con:
        assert con.execute("select count(*) from raw.gcp_billing").fetchone() == (9,)


def test_usage_errors_are_one_paragraph(tmp_path):
    proc = mlcost("run", "--landing", str(tmp_path / "nope"), "--warehouse",
                  str(tmp_path / "wh.duckdb"), tmp=tmp_path, check=False)
    assert proc.returncode == 66 and "does not exist" in proc.stderr  # MISSING_INPUT
    assert "Traceback" not in proc.stderr
    for cmd in (["export", "focus", "--out", str(tmp_path / "x.parquet")],
                ["report", "--quarter", "2026Q1"]):
        proc = mlcost(*cmd, "--warehouse", str(tmp_path / "missing.duckdb"), tmp=tmp_path,
                      check=False)
        assert proc.returncode == 66 and "missing.duckdb" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "missing.duckdb").exists()  # a report does not create a warehouse
    # argparse's own usage errors exit 64 too (its default is 2, the old bad-data code).
    for args in (["run", "--no-such-flag"], ["export", "nothing"], []):
        proc = mlcost(*args, tmp=tmp_path, check=False)
        assert proc.returncode == 64, (args, proc.returncode, proc.stderr)
        assert "usage: mlcost" in proc.stderr
    for args, needle in ((["--period", "2026-3"], "YYYY-MM"),
                         (["--period", "2026-03", "--from", "2026-01"], "cannot be combined"),
                         (["--from", "2026-01"], "go together"),
                         (["--from", "2026-04", "--to", "2026-01"], "is after")):
        proc = mlcost("run", "--landing", str(tmp_path), "--warehouse",
                      str(tmp_path / "wh.duckdb"), *args, tmp=tmp_path, check=False)
        assert proc.returncode == 64 and needle in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_default_window_is_what_the_ingest_changed_once_focus_exists(tmp_path, monkeypatch):
    # `mlcost run` without a period: every period on a first build, then only the periods the
    # run's ingest changed, then (nothing new) the latest period. Real ingest job results.
    import dagster as dg

    from dagster_project.defs.ingest.assets import ingest_landed_exports
    from dagster_project.defs.resources import build_resources
    from dagster_project.lib.periods import loaded_period_range
    from dagster_project.lib.pipeline import default_window

    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    shutil.copytree(REAL / "oci" / "cost_report_csv_native", landing / "oci")
    monkeypatch.setenv("MLCOST_LANDING", str(landing))
    monkeypatch.setenv("MLCOST_WAREHOUSE", str(wh))

    def ingest():
        with dg.DagsterInstance.ephemeral() as instance:
            res = dg.materialize([ingest_landed_exports], resources=build_resources(),
                                 instance=instance, raise_on_error=False)
        assert res.success
        return res

    first = ingest()
    loaded = loaded_period_range(wh)
    assert loaded is not None
    assert default_window(first, wh) == loaded  # no FOCUS table yet: everything
    with connection(wh) as con:
        con.execute("create schema focus")
        con.execute("create table focus.focus_cost_and_usage (x integer)")
    shutil.copytree(REAL / "gcp" / "bigquery_standard_export_csv_with_credits", landing / "gcp")
    second = ingest()
    with connection(wh, read_only=True) as con:
        gcp = con.execute("""select strftime(min(billing_period), '%Y-%m'),
                                    strftime(max(billing_period), '%Y-%m')
                             from meta.deliveries where provider = 'gcp'""").fetchone()
    assert default_window(second, wh) == tuple(gcp)  # just the new deliveries' periods
    third = ingest()  # nothing new
    assert default_window(third, wh) == (loaded_period_range(wh)[1],) * 2
