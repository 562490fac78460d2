"""Unit costs and observed instance prices (issue #15, docs/unit-economics.md) on the small
demo: every figure is recomputed here from the FOCUS rows and the raw metrics, independently
of the marts' SQL."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal, localcontext
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_dbt

# The models rebuilt on a changed copy of the small demo (its upstream is already built).
UNIT_MODELS = ["instance_types", "int_compute_hours_classified", "fct_instance_prices",
               "stg_mlflow__runs", "int_training_cost_matches", "fct_training_run_costs",
               "int_inference_units_joined", "fct_unit_costs"]
PUBLISHED = ["month", "team", "ml_model", "workload", "unit", "units", "cost", "cost_per_unit"]
# cost_per_unit is DECIMAL(38, 12) from a binary-float quotient (docs/unit-economics.md).
RATIO_TOLERANCE = Decimal("1e-9")


def _copy_and_build(demo: Path, dest: Path, prepare=None) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    wh = dest / "wh.duckdb"
    shutil.copy(demo / "wh.duckdb", wh)
    with duckdb.connect(str(wh)) as con:
        if prepare:
            prepare(con)
    res = run_dbt(wh, dest / "target", ["build", "--select", *UNIT_MODELS],
                  reference_set="demo")
    assert res.success, res.output[-4000:]
    return wh


@pytest.fixture(scope="module")
def unit_wh(demo) -> Path:
    """The small demo's warehouse (its dbt build includes +fct_unit_costs)."""
    return demo / "wh.duckdb"


@pytest.fixture(scope="module")
def con(demo_con):
    return demo_con


def _requests(con, month, team, model, workload="realtime_inference",
              metric="invocations") -> tuple[Decimal, Decimal, list[str]]:
    """The model's workload cost (fct_costs_monthly, as `mlcost export costs`) and the
    requests (or records) of its serving resources from raw.utilization_metrics (latest load
    of a day wins)."""
    (cost,) = con.execute(
        "select sum(effective_cost) from marts.fct_costs_monthly where billing_month = ? "
        "and team = ? and ml_model = ? and workload = ?", [month, team, model, workload]
    ).fetchone()
    resources = [r for (r,) in con.execute(
        "select distinct resource_id from marts.fct_cost_allocations where billing_month = ? "
        "and team = ? and ml_model = ? and workload = ? "
        "and resource_id is not null and charge_category = 'Usage' "
        "and lower(pricing_unit) like '%hour%'", [month, team, model, workload]).fetchall()]
    rows = con.execute(
        "select metric_date, resource_id, value, _loaded_at from raw.utilization_metrics "
        "where metric_name = ? and resource_id in (select unnest(?))",
        [metric, resources]).fetchall()
    latest: dict = {}
    for day, rid, value, loaded in rows:
        if str(day)[:7] == str(month)[:7] and ((day, rid) not in latest
                                               or loaded >= latest[(day, rid)][1]):
            latest[(day, rid)] = (Decimal(value), loaded)
    return cost, sum((v for v, _ in latest.values()), Decimal(0)), resources


def _unit_row(con, month, team, model, workload, unit, detail=""):
    return con.execute(
        "select units, cost, cost_per_unit, is_available, unavailable_reason, cost_source, "
        "units_source from marts.fct_unit_costs where month = ? and team = ? and ml_model = ? "
        "and workload = ? and unit = ? and unit_detail = ?",
        [month, team, model, workload, unit, detail]).fetchone()


@pytest.mark.parametrize(("workload", "metric", "at_least"), [
    ("realtime_inference", "invocations", 10),  # query-ranker, fraud-scorer; doc-embedder 2 months
    ("batch_inference", "batch_records", 8),  # query-ranker, recsys-two-tower
])
def test_cost_per_1k_inferences_matches_costs_and_raw_metrics(con, workload, metric, at_least):
    available = con.execute(
        "select month, team, ml_model from marts.fct_unit_costs where unit = '1k_inferences' "
        "and workload = ? and is_available and cost > 0 order by all", [workload]).fetchall()
    assert len(available) >= at_least, available
    for month, team, model in available:
        cost, requests, _ = _requests(con, month, team, model, workload, metric)
        units, mart_cost, per_unit, _, reason, *_ = _unit_row(
            con, month, team, model, workload, "1k_inferences")
        assert reason is None
        assert mart_cost == cost
        assert units == requests / 1000  # exact: thousands of requests
        with localcontext() as ctx:
            ctx.prec = 50
            expected = cost / requests * 1000
        assert abs(per_unit - expected) <= RATIO_TOLERANCE, (model, month, per_unit, expected)


def test_partly_metered_fleet_is_unavailable_with_the_unmetered_resources(con):
    # recsys-two-tower serves from a SageMaker endpoint (metered) and EC2 instances (no
    # invocations metric on the demo): its cost per request would be overstated.
    rows = con.execute(
        "select units, cost, cost_per_unit, unavailable_reason from marts.fct_unit_costs "
        "where ml_model = 'recsys-two-tower' and workload = 'realtime_inference' "
        "and unit = '1k_inferences' and not is_available").fetchall()
    assert rows
    for _units, cost, per_unit, reason in rows:
        assert per_unit is None and cost > 0
        assert "metric `invocations` missing for" in reason and "i-0c" in reason


def test_deleting_an_endpoints_metrics_makes_its_unit_cost_unavailable(demo, con, tmp_path):
    month, team, model = con.execute(
        "select month, team, ml_model from marts.fct_unit_costs where unit = '1k_inferences' "
        "and workload = 'realtime_inference' and is_available and ml_model = 'doc-embedder' "
        "order by month desc limit 1").fetchone()
    cost, _, resources = _requests(con, month, team, model)
    assert len(resources) == 1
    endpoint = resources[0]

    wh = _copy_and_build(demo, tmp_path, prepare=lambda c: c.execute(
        "delete from raw.utilization_metrics where resource_id = ? "
        "and metric_name = 'invocations'", [endpoint]))
    with duckdb.connect(str(wh), read_only=True) as c2:
        units, mart_cost, per_unit, available, reason, *_ = _unit_row(
            c2, month, team, model, "realtime_inference", "1k_inferences")
    assert available is False and per_unit is None and units is None
    assert mart_cost == cost  # the numerator is still shown
    assert reason == ("metric `invocations` missing for 1 of 1 serving resources in this "
                      f"month: {endpoint}")


def test_gpu_hours_of_the_a100_vm_equal_its_gpu_sku_hours(con):
    # GCP bills a2-highgpu-1g as core, RAM and A100 GPU SKUs; the GPU SKU's hours are GPU-hours.
    spec = '$."gcp-system/compute.googleapis.com/machine_spec"'
    expected = dict(con.execute(
        "select cast(x_BillingPeriod as date), sum(PricingQuantity) "
        "from focus.focus_cost_and_usage where ChargeCategory = 'Usage' "
        "and x_UsageType like 'Nvidia Tesla A100 GPU%' "
        "and json_extract_string(Tags, ?) = 'a2-highgpu-1g' group by 1", [spec]).fetchall())
    vm_cost = dict(con.execute(
        "select cast(x_BillingPeriod as date), sum(EffectiveCost) "
        "from focus.focus_cost_and_usage where ChargeCategory = 'Usage' "
        "and json_extract_string(Tags, ?) = 'a2-highgpu-1g' "
        "and (x_UsageType like '%GPU%' or x_UsageType like '% Core %' "
        "or x_UsageType like '% Ram %') group by 1", [spec]).fetchall())
    assert expected and all(v > 0 for v in expected.values())
    got = dict(((m, (u, c)) for m, u, c in con.execute(
        "select month, sum(units), sum(cost) from marts.fct_unit_costs "
        "where unit = 'gpu_hour' and unit_detail = 'A100' group by month").fetchall()))
    assert {m: u for m, (u, _) in got.items()} == expected
    assert {m: c for m, (_, c) in got.items()} == vm_cost  # the whole VM's cost, exact
    prices = con.execute(
        "select billing_month, usage_hours, gpu_hours, cost, hourly_price, price_basis "
        "from marts.fct_instance_prices where instance_type = 'a2-highgpu-1g'").fetchall()
    for month, hours, gpu_hours, cost, price, basis in prices:
        assert basis == "gcp_vm_hour" and gpu_hours == expected[month]
        assert hours == expected[month]  # 1 GPU per a2-highgpu-1g: VM-hours = GPU-hours
        assert abs(price - cost / hours) <= RATIO_TOLERANCE


def test_aws_instance_prices_by_pricing_category(con):
    rows = con.execute(
        "select instance_type, pricing_category, sum(usage_hours), sum(cost) "
        "from marts.fct_instance_prices where provider = 'aws' group by 1, 2").fetchall()
    got = {(t, c): (h, cost) for t, c, h, cost in rows}
    focus = con.execute(
        "select x_UsageType, PricingCategory, CommitmentDiscountStatus, sum(PricingQuantity), "
        "sum(EffectiveCost) from focus.focus_cost_and_usage where x_ProviderCode = 'aws' "
        # A refund on the usage type (no hours, ChargeClass Correction) is not an instance-hour.
        "and ChargeCategory = 'Usage' and PricingUnit = 'Hours' "
        "and x_UsageType in ('SpotUsage:g5.4xlarge', "
        "'BoxUsage:g5.xlarge', 'USE1-Host:ml.g5.2xlarge') group by 1, 2, 3").fetchall()
    category = {("Dynamic", None): "spot", ("Committed", "Used"): "committed",
                ("Standard", None): "on_demand"}
    expected: dict = {}
    for usage_type, pcat, status, hours, cost in focus:
        key = (usage_type.split(":")[-1], category[(pcat, status)])
        h, c = expected.get(key, (0, 0))
        expected[key] = (h + hours, c + cost)
    assert ("g5.4xlarge", "spot") in expected and ("g5.xlarge", "committed") in expected
    for key, value in expected.items():
        assert got[key] == value, key
    (gpus,) = con.execute("select distinct gpus_per_instance from marts.fct_instance_prices "
                          "where instance_type = 'ml.g5.2xlarge'").fetchone()
    assert gpus == 1


def test_tb_month_converts_the_billed_capacity_exactly(con):
    # AWS bills storage in binary GB (2^30 bytes) though its unit says GB-Mo.
    binary = Decimal("0.001073741824")
    factors = {"GB-Months": Decimal("0.001"), "GiB-Months": binary}
    rows = con.execute(
        "select billing_month, team, ml_model, provider, pricing_unit, sum(pricing_quantity), "
        "sum(effective_cost) from marts.fct_costs_monthly where workload = 'storage' "
        "group by 1, 2, 3, 4, 5").fetchall()
    expected: dict = {}
    for month, team, model, provider, unit, quantity, cost in rows:
        units, total = expected.get((month, team, model), (Decimal(0), Decimal(0)))
        if unit in factors and quantity is not None:
            factor = binary if provider == "aws" and unit == "GB-Months" else factors[unit]
            units += Decimal(str(quantity)).quantize(Decimal("1e-12")) * factor
        expected[(month, team, model)] = (units, total + cost)
    assert any(u > 0 for u, _ in expected.values())
    for (month, team, model), (units, cost) in expected.items():
        got_units, got_cost, per_unit, available, reason, *_ = _unit_row(
            con, month, team, model, "storage", "tb_month")
        assert got_cost == cost
        if units > 0:
            assert available and got_units == units, (month, team, model)
            assert abs(per_unit - cost / units) <= RATIO_TOLERANCE
        else:
            assert not available and "no stored capacity" in reason


def test_cost_per_training_run_is_matched_run_cost_over_runs(con):
    runs = con.execute(
        "select billing_month, team, ml_model, count(*), sum(cost) "
        "from marts.fct_training_run_costs where match_method <> 'unmatched' "
        "group by all").fetchall()
    assert len(runs) >= 12
    for month, team, model, n, cost in runs:
        units, mart_cost, per_unit, available, reason, cost_source, _ = _unit_row(
            con, month, team, model, "training", "training_run")
        assert available and reason is None and units == n and mart_cost == cost
        assert cost_source.startswith("marts.fct_training_run_costs")
        assert abs(per_unit - cost / n) <= RATIO_TOLERANCE


def test_training_runs_unavailable_when_no_mlflow_store_was_loaded(demo, tmp_path):
    def forget_mlflow(c):
        c.execute("delete from raw.mlflow_runs")
        c.execute("delete from meta.mlflow_sync_status")

    wh = _copy_and_build(demo, tmp_path, prepare=forget_mlflow)
    with duckdb.connect(str(wh), read_only=True) as c2:
        rows = c2.execute("select distinct is_available, unavailable_reason, cost_per_unit "
                          "from marts.fct_unit_costs where unit = 'training_run'").fetchall()
    assert rows == [(False, "no MLflow tracking store has been loaded (MLCOST_MLFLOW_URI / "
                            "mlflow_uri), so there are no runs to divide by", None)]


def test_training_runs_unavailable_with_the_mlflow_status_reason(demo, tmp_path):
    reason = "http://mlflow.internal:5000 refused the connection"
    wh = _copy_and_build(demo, tmp_path, prepare=lambda c: c.execute(
        "insert into meta.mlflow_sync_status values (now(), 'http://mlflow.internal:5000', "
        "'unavailable', ?, 0)", [reason]))
    with duckdb.connect(str(wh), read_only=True) as c2:
        rows = c2.execute("select is_available, unavailable_reason, cost from "
                          "marts.fct_unit_costs where unit = 'training_run'").fetchall()
    assert len(rows) >= 4
    for available, why, cost in rows:
        assert available is False and why == f"MLflow runs unavailable (unavailable): {reason}"
        assert cost is not None  # the training cost stays visible


def test_export_unit_costs_has_the_published_columns_first(unit_wh, tmp_path):
    from dagster_project.cli import EXPORTS, main

    assert EXPORTS["unit_costs"] == ("marts", "fct_unit_costs")
    out = tmp_path / "unit_costs.csv"
    assert main(["export", "unit_costs", "--warehouse", str(unit_wh), "--out", str(out)]) == 0
    with out.open(newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        rows = list(reader)
    assert header[:len(PUBLISHED)] == PUBLISHED
    assert {"unit_detail", "is_available", "unavailable_reason", "cost_source",
            "units_source", "billing_currency"} <= set(header)
    assert {r["unit"] for r in rows} == {"training_run", "1k_inferences", "gpu_hour", "tb_month"}
