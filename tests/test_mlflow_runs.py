"""MLflow end to end on the small demo (docs/mlflow.md): the generated store is landed into
raw.mlflow_runs, matched to the training cost rows (fct_training_run_costs), checked run by
run against ground_truth/training_runs.csv, and written back by `mlcost sync-mlflow`."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from dagster_project import cli
from dagster_project.lib.mlflow_runs import load_mlflow_runs
from dagster_project.lib.mlflow_runs.keys import norm_key, pick
from dagster_project.lib.mlflow_runs.reader import run_row, strip_credentials

from .conftest import run_dbt

TOLERANCE = Decimal("0.02")


def _truth(demo: Path) -> dict[str, dict]:
    with (demo / "demo" / "ground_truth" / "training_runs.csv").open(encoding="utf-8") as f:
        return {r["run_id"]: r for r in csv.DictReader(f)}


def _mart(con) -> dict[str, tuple]:
    rows = con.execute("select run_id, match_method, cost, issue, experiment_name "
                       "from marts.fct_training_run_costs").fetchall()
    return {r[0]: r[1:] for r in rows}


def test_every_run_costs_within_two_percent_of_truth(demo, demo_con):
    truth, mart = _truth(demo), _mart(demo_con)
    assert len(truth) > 100 and set(truth) == set(mart), "runs differ between store and mart"
    worst, errors = Decimal(0), []
    for run_id, t in truth.items():
        method, cost, _, _ = mart[run_id]
        assert method == t["expected_match_method"], (run_id, t["run_name"], method)
        expected = Decimal(t["cost"])
        if method == "unmatched":
            assert cost is None, (run_id, cost)  # unknown, not zero
            continue
        err = abs(cost - expected) / expected if expected else abs(cost)
        worst = max(worst, err)
        if err > TOLERANCE:
            errors.append((t["run_name"], method, cost, expected))
    print(f"runs: {len(truth)}, max per-run relative error: {worst:.2e}")
    assert not errors, errors[:5]
    methods = {m for m, *_ in mart.values()}
    assert methods == {"run_tag", "resource_id", "time_window", "unmatched"}


def test_matched_share_and_conservation(demo_con):
    ((total,),) = demo_con.execute("select sum(effective_cost) from marts.fct_cost_allocations "
                                   "where workload = 'training'").fetchall()
    ((matched,),) = demo_con.execute(
        "select sum(cost) from marts.fct_training_run_costs").fetchall()
    ((unmatched,),) = demo_con.execute(
        "select sum(cost) from marts.rpt_unmatched_training_cost").fetchall()
    print(f"matched training cost: {matched / total:.2%}")
    assert matched / total >= Decimal("0.95")
    # Nothing dropped: matched + unclaimed = all training cost (time-window shares round to 1e-10)
    assert abs(matched + unmatched - total) < Decimal("0.000001") * total


def test_unmatched_runs_and_cost_are_reported(demo, demo_con):
    mart = _mart(demo_con)
    local = [v for v in mart.values() if v[0] == "unmatched"]
    assert local and all(v[1] is None for v in local)
    # The SageMaker jobs launched outside MLflow: their cost is reported with its reason
    rows = demo_con.execute(
        "select resource_id, cost, unmatched_reason from marts.rpt_unmatched_training_cost "
        "where provider = 'aws' and ml_model = 'query-ranker' and cost > 0").fetchall()
    assert rows and all(":training-job/query-ranker-train-" in r[0] for r in rows)
    assert {r[2] for r in rows} == {"no run names this resource or carries its run id"}
    # Bad runs are kept with their issue (never dropped, never a traceback)
    issues = {v[2] for v in mart.values() if v[2]}
    assert any("end_time" in i and "before start_time" in i for i in issues)
    assert any("instance_count 'one node'" in i for i in issues)


def test_bill_carries_the_run_id_in_cur2_tag_form(demo_con):
    ((n,),) = demo_con.execute(
        "select count(*) from focus.focus_cost_and_usage "
        "where \"Tags\" like '%mlflow_run_id%'").fetchall()
    assert n > 0
    ((tagged,),) = demo_con.execute(
        "select count(*) from marts.fct_training_run_costs where match_method = 'run_tag'"
    ).fetchall()
    assert tagged > 0


@pytest.fixture()
def store_copy(demo, tmp_path, monkeypatch) -> str:
    db = tmp_path / "mlflow.db"
    shutil.copy(demo / "demo" / "mlflow" / "mlflow.db", db)
    uri = f"sqlite:///{db}"
    monkeypatch.setenv("MLCOST_MLFLOW_URI", uri)
    monkeypatch.setenv("MLCOST_CONFIG", "")
    return uri


def test_sync_mlflow_writes_cost_back_idempotently(demo, demo_con, store_copy, capsys):
    from mlflow.tracking import MlflowClient

    wh = str(demo / "wh.duckdb")
    assert cli.main(["sync-mlflow", "--warehouse", wh, "--dry-run"]) == 0
    assert "would write the cost of" in capsys.readouterr().out
    client = MlflowClient(tracking_uri=store_copy)
    run_id, cost, currency, method = demo_con.execute(
        "select run_id, cost, billing_currency, match_method from marts.fct_training_run_costs "
        "where match_method = 'time_window' order by cost desc limit 1").fetchone()
    assert "mlcost.cost" not in client.get_run(run_id).data.metrics  # dry run wrote nothing

    assert cli.main(["sync-mlflow", "--warehouse", wh]) == 0
    out = capsys.readouterr().out
    ((matched,),) = demo_con.execute("select count(*) from marts.fct_training_run_costs "
                                     "where match_method <> 'unmatched'").fetchall()
    assert f"wrote the cost of {matched:,} run(s)" in out
    run = client.get_run(run_id)
    assert run.data.metrics["mlcost.cost"] == pytest.approx(float(cost), rel=1e-12)
    assert run.data.tags["mlcost.currency"] == currency
    assert run.data.tags["mlcost.cost_match_method"] == method
    assert Decimal(run.data.tags["mlcost.cost_exact"]) == cost

    assert cli.main(["sync-mlflow", "--warehouse", wh]) == 0  # again: nothing new
    assert "wrote the cost of 0 run(s)" in capsys.readouterr().out
    assert len(client.get_metric_history(run_id, "mlcost.cost")) == 1


def test_sync_mlflow_clear_errors(demo, tmp_path, monkeypatch, capsys):
    wh = str(demo / "wh.duckdb")
    monkeypatch.setenv("MLCOST_CONFIG", "")
    monkeypatch.delenv("MLCOST_MLFLOW_URI", raising=False)
    assert cli.main(["sync-mlflow", "--warehouse", wh]) == 66
    assert "no MLflow tracking URI configured" in capsys.readouterr().err
    missing = tmp_path / "nowhere" / "mlflow.db"
    monkeypatch.setenv("MLCOST_MLFLOW_URI", f"sqlite:///{missing}")
    assert cli.main(["sync-mlflow", "--warehouse", wh]) == 66
    err = capsys.readouterr().err
    assert "no MLflow store" in err and "Traceback" not in err
    assert not missing.exists()  # never creates an empty store


def test_export_training_runs(demo, demo_con, tmp_path):
    out = tmp_path / "runs.csv"
    assert cli.main(["export", "training_runs", "--out", str(out), "--warehouse",
                     str(demo / "wh.duckdb")]) == 0
    ((n,),) = demo_con.execute("select count(*) from marts.fct_training_run_costs").fetchall()
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == n
    assert {"run_id", "match_method", "match_confidence", "cost", "billing_month"} <= set(rows[0])


# ------------------------------------------------------------------ load without a store
def test_load_without_uri_or_mlflow_or_store(tmp_path, monkeypatch):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    res = load_mlflow_runs(con, None)
    assert res.status == "unavailable" and "no MLflow tracking URI" in res.reason
    assert con.execute("select count(*) from raw.mlflow_runs").fetchone() == (0,)
    res = load_mlflow_runs(con, f"sqlite:///{tmp_path / 'missing.db'}")
    assert res.status == "error" and "file not found" in res.reason
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)  # the extra not installed
    res = load_mlflow_runs(con, f"sqlite:///{tmp_path / 'wh.duckdb'}")
    assert res.status == "unavailable" and "not installed" in res.reason
    status = con.execute("select status, runs from meta.mlflow_sync_status "
                         "order by loaded_at").fetchall()
    assert status == [("unavailable", 0), ("error", 0), ("unavailable", 0)]


def test_pipeline_without_uri_still_publishes_costs(demo, tmp_path, monkeypatch):
    """The asset with no URI configured, then dbt's MLflow consumers: costs stay published,
    the run-cost mart is empty and the status says why."""
    import dagster as dg

    from dagster_project.defs.resources import WarehouseResource
    from dagster_project.defs.unit_economics.assets import mlflow_runs

    wh = tmp_path / "wh.duckdb"
    shutil.copy(demo / "wh.duckdb", wh)
    with duckdb.connect(str(wh)) as con:  # a warehouse that never saw an MLflow store
        con.execute("delete from raw.mlflow_runs")
    monkeypatch.setenv("MLCOST_CONFIG", "")
    monkeypatch.delenv("MLCOST_MLFLOW_URI", raising=False)
    result = dg.materialize([mlflow_runs], resources={
        "warehouse": WarehouseResource(path=str(wh))})
    assert result.success
    res = run_dbt(wh, tmp_path / "target", ["build", "--select", "stg_mlflow__runs+"],
                  reference_set="demo")
    assert res.success, res.output[-3000:]
    con = duckdb.connect(str(wh), read_only=True)
    assert con.execute("select count(*) from marts.fct_training_run_costs").fetchone() == (0,)
    assert con.execute("select count(*) from marts.fct_costs_monthly").fetchone()[0] > 0
    ((total,),) = con.execute("select sum(effective_cost) from marts.fct_cost_allocations "
                              "where workload = 'training'").fetchall()
    assert con.execute("select sum(cost) from marts.rpt_unmatched_training_cost"
                       ).fetchone() == (total,)
    assert con.execute("select status from meta.mlflow_sync_status order by loaded_at desc "
                       "limit 1").fetchone() == ("unavailable",)


# ------------------------------------------------------------------ keys and bad runs
def _run(tags=None, params=None, start=1_700_000_000_000, end=1_700_003_600_000):
    return SimpleNamespace(
        info=SimpleNamespace(experiment_id="1", run_id="abc", run_name="r", status="FINISHED",
                             start_time=start, end_time=end),
        data=SimpleNamespace(tags=tags or {}, params=params or {}))


def test_keys_aliases_and_bad_runs():
    assert norm_key("mlcost.instance_type") == norm_key("instanceType") == "instancetype"
    assert pick("team", {"Team": "a"}, {"team": "b"}) == "a"  # tags win over params
    now = dt.datetime(2026, 1, 1)
    row = run_row("u", "exp", _run({"mlcost.resource_id": "arn:1, name-2"},
                                   {"instance-count": "4", "num_rows": "10"}), now)
    assert (row["resource_ids"], row["instance_count"], row["dataset_rows"]) == (
        "arn:1,name-2", 4, 10)
    assert row["issue"] is None and row["start_time"] == dt.datetime(2023, 11, 14, 22, 13, 20)
    bad = run_row("u", "exp", _run(params={"instance_count": "four"},
                                   start=1_700_003_600_000, end=1_700_000_000_000), now)
    assert bad["instance_count"] is None
    assert "instance_count 'four'" in bad["issue"] and "before start_time" in bad["issue"]


def test_credentials_are_stripped():
    assert strip_credentials("https://user:secret@mlflow.example.com:5000/x") == \
        "https://mlflow.example.com:5000/x"
    assert strip_credentials("sqlite:////data/mlflow.db") == "sqlite:////data/mlflow.db"
