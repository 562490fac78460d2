"""The what-if calculators (docs/whatif.md): exact answers on a synthetic warehouse holding the
contract tables (expected values computed here from the rows inserted), the JSON keys of the
issue's two examples, error messages and exit codes, the parameters file and the assets'
tables; one check on the small demo against marts.fct_costs_monthly."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project import cli
from dagster_project.exit_codes import DATA_ERROR, MISSING_INPUT, OK, USAGE

CENT = Decimal("0.01")
JUL, AUG, SEP = date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)
RANGE_HOURS = Decimal((date(2026, 10, 1) - JUL).days * 24)  # 2,208 h, Jul..Sep


def cents(x) -> Decimal:
    return Decimal(x).quantize(CENT, ROUND_HALF_UP)


def q4(x) -> Decimal:
    return Decimal(x).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _tables(con, skip=()):
    ddl = {
        "marts.dim_calendar": "month DATE, has_cost_data BOOLEAN, is_closed BOOLEAN",
        "marts.fct_costs_monthly": "billing_month DATE, provider VARCHAR, team VARCHAR, "
        "ml_model VARCHAR, workload VARCHAR, billing_currency VARCHAR, "
        "effective_cost DECIMAL(38,24)",
        "marts.fct_cost_allocations": "billing_month DATE, provider VARCHAR, ml_model VARCHAR, "
        "workload VARCHAR, charge_category VARCHAR, commitment_discount_status VARCHAR, "
        "service_category VARCHAR, service_name VARCHAR, pricing_unit VARCHAR, "
        "billing_currency VARCHAR, effective_cost DECIMAL(38,24), list_cost DECIMAL(38,24), "
        "pricing_quantity DECIMAL(38,24)",
        "marts.fct_unit_costs": "month DATE, team VARCHAR, ml_model VARCHAR, workload VARCHAR, "
        "unit VARCHAR, unit_detail VARCHAR, units DECIMAL(38,6), cost DECIMAL(38,24), "
        "cost_per_unit DECIMAL(38,12), billing_currency VARCHAR, is_available BOOLEAN, "
        "unavailable_reason VARCHAR, cost_source VARCHAR, units_source VARCHAR",
        "marts.fct_instance_prices": "billing_month DATE, provider VARCHAR, "
        "instance_type VARCHAR, gpu_type VARCHAR, gpus_per_instance INTEGER, "
        "pricing_category VARCHAR, workload VARCHAR, usage_hours DECIMAL(38,6), "
        "cost DECIMAL(38,24), hourly_price DECIMAL(38,12), billing_currency VARCHAR",
        "marts.fct_training_run_costs": "run_id VARCHAR, experiment_name VARCHAR, team VARCHAR, "
        "ml_model VARCHAR, provider VARCHAR, start_time TIMESTAMP, end_time TIMESTAMP, "
        "run_hours DECIMAL(18,6), instance_type VARCHAR, instance_count INTEGER, "
        "dataset_rows BIGINT, resource_ids VARCHAR, match_method VARCHAR, "
        "match_confidence DECIMAL(4,2), matched_cost_rows INTEGER, cost DECIMAL(38,24), "
        "billing_currency VARCHAR, billing_month DATE",
        "forecast.forecast_export": "snapshot_id VARCHAR, as_of_month DATE, "
        "created_at TIMESTAMP, scenario VARCHAR, level VARCHAR, team VARCHAR, "
        "ml_model VARCHAR, workload VARCHAR, provider VARCHAR, month DATE, "
        "point DECIMAL(38,6), lo_80 DECIMAL(38,6), hi_80 DECIMAL(38,6), lo_95 DECIMAL(38,6), "
        "hi_95 DECIMAL(38,6), step INTEGER, service_name VARCHAR, pricing_unit VARCHAR",
    }
    con.execute("create schema marts; create schema forecast")
    for name, cols in ddl.items():
        if name not in skip:
            con.execute(f"create table {name} ({cols})")


def _ins(con, table, rows):
    n = len(rows[0])
    con.executemany(f"insert into {table} values ({', '.join('?' * n)})", rows)  # noqa: S608 (test table names)


def _forecast_row(snap, scenario, level, month, step, point, *, team=None, model=None,
                  workload=None, provider=None, service=None, unit=None, bands=None):
    lo95, lo80, hi80, hi95 = bands or (point, point, point, point)
    return [snap, date(2026, 9, 1), datetime(2026, 10, 2), scenario, level, team, model,
            workload, provider, month, point, lo80, hi80, lo95, hi95, step, service, unit]


def _month(step: int) -> date:
    return date(2026 + (8 + step) // 12, (8 + step) % 12 + 1, 1)


def build(path: Path, skip=()) -> Path:
    con = duckdb.connect(str(path))
    _tables(con, skip)
    _ins(con, "marts.dim_calendar", [[date(2026, m, 1), True, True] for m in range(4, 10)])
    _ins(con, "marts.fct_costs_monthly", [
        # query-ranker serving: Jul..Sep counted, June and other workloads/models are not
        [date(2026, 6, 1), "aws", "search", "query-ranker", "realtime_inference", "USD", 9999],
        [JUL, "aws", "search", "query-ranker", "realtime_inference", "USD", Decimal("1000")],
        [AUG, "aws", "search", "query-ranker", "realtime_inference", "USD", Decimal("700")],
        [AUG, "gcp", "other", "query-ranker", "realtime_inference", "USD", Decimal("500")],
        [SEP, "aws", "search", "query-ranker", "realtime_inference", "USD", Decimal("1100.50")],
        [SEP, "aws", "search", "query-ranker", "training", "USD", Decimal("77")],
        [SEP, "aws", "search", "other-model", "realtime_inference", "USD", Decimal("55")],
        [JUL, "aws", "recs", "recsys", "training", "USD", Decimal("250")],
        [AUG, "aws", "recs", "recsys", "training", "USD", Decimal("300")],
        [SEP, "aws", "recs", "recsys", "training", "USD", Decimal("350")],
        [SEP, "gcp", "recs", "churn", "realtime_inference", "USD", Decimal("2208")],
        [SEP, "aws", "ml", "embedder", "training", "USD", Decimal("960")],
        [SEP, "aws", "ml", "no-batch", "realtime_inference", "USD", Decimal("10")],
        [SEP, "aws", "ml", "gpu-only", "training", "USD", Decimal("5")],
        [SEP, "aws", "ml", "cpu-model", "training", "USD", Decimal("6")],
    ])
    alloc = []
    for m in (JUL, AUG, SEP):  # churn's endpoint: 2 instances always on at 0.50 an hour
        h = Decimal((date(2026, m.month + 1, 1) - m).days * 48)
        alloc.append([m, "gcp", "churn", "realtime_inference", "Usage", None, "AI and Machine "
                      "Learning", "Vertex AI", "Hours", "USD", h / 2, h / 2, h])
    alloc.append([SEP, "gcp", "churn", "batch_inference", "Usage", None, "Compute", "Vertex AI",
                  "Hours", "USD", 5, 5, 10])  # not the endpoint
    alloc.append([SEP, "azure", "no-batch", "realtime_inference", "Usage", None, "Compute", "VM",
                  "Hours", "USD", 10, 10, 20])
    # aws commitment: Used (list 600, paid 420: 30 % off), Unused 30, uncovered usage 400
    alloc += [[SEP, "aws", "x", "training", "Usage", "Used", "Compute", "EC2", "Hours", "USD",
               420, 600, 100],
              [SEP, "aws", "x", "training", "Usage", "Unused", "Compute", "EC2", "Hours", "USD",
               30, 0, 0],
              [SEP, "aws", "x", "training", "Usage", None, "Compute", "EC2", "Hours", "USD",
               400, 400, 50],
              [SEP, "aws", "x", "storage", "Usage", None, "Storage", "S3", "GB-Months", "USD",
               999, 999, 1]]
    _ins(con, "marts.fct_cost_allocations", alloc)
    if "marts.fct_unit_costs" not in skip:
        uc = []
        for m in (JUL, AUG, SEP):
            uc.append([m, "recs", "churn", "realtime_inference", "1k_inferences", "", 1000, 736,
                       None, "USD", True, None, "c", "u"])
            uc.append([m, "recs", "churn", "batch_inference", "1k_inferences", "", 100, 10,
                       None, "USD", True, None, "c", "u"])
        uc.append([SEP, "recs", "churn", "batch_inference", "1k_inferences", "", 999, 0, None,
                   "USD", False, "no metrics", "c", "u"])  # unavailable: not counted
        uc.append([SEP, "ml", "no-batch", "realtime_inference", "1k_inferences", "", 5, 1,
                   None, "USD", True, None, "c", "u"])
        _ins(con, "marts.fct_unit_costs", uc)
    _ins(con, "marts.fct_instance_prices", [
        [SEP, "aws", "p4d.24xlarge", "A100", 8, "on_demand", "training", 10, 320, 32, "USD"],
        [SEP, "aws", "p4d.24xlarge", "A100", 8, "spot", "training", 10, 120, 12, "USD"],
        [SEP, "aws", "p4d.24xlarge", "A100", 8, "on_demand", "realtime_inference", 10, 400, 40,
         "USD"],  # another workload's price: training's is preferred
        [SEP, "aws", "g5.xlarge", "A10G", 1, "on_demand", "training", 10, 10, 1, "USD"],
        [SEP, "aws", "c5.large", None, None, "on_demand", "training", 4, 2, 0.5, "USD"],
        [date(2026, 5, 1), "aws", "c5.large", None, None, "spot", "data_processing", 10, 1,
         0.1, "USD"],  # spot seen only before the range, and for another workload
    ])
    runs = [["r1", "e", "ml", "embedder", "aws", None, None, 10, "p4d.24xlarge", 2, 1000, "",
             "run_tag", 1, 1, 500, "USD", SEP],
            ["r2", "e", "ml", "embedder", "aws", None, None, 5, "p4d.24xlarge", 2, 1000, "",
             "run_tag", 1, 1, 460, "USD", AUG],
            ["r3", "e", "ml", "embedder", "aws", None, None, 50, "p4d.24xlarge", 2, 1000, "",
             "run_tag", 1, 1, 460, "USD", date(2026, 5, 1)],  # before the range
            ["g1", "e", "ml", "gpu-only", "aws", None, None, 5, "g5.xlarge", 1, 10, "",
             "run_tag", 1, 1, 5, "USD", SEP],
            ["c1", "e", "ml", "cpu-model", "aws", None, None, 6, "c5.large", 1, 10, "",
             "run_tag", 1, 1, 3, "USD", SEP]]
    # recsys: cost = 3 x rows^0.8 exactly -> the fitted exponent is 0.8
    for i, rows in enumerate((1000, 2000, 4000, 8000, 16000, 32000)):
        runs.append([f"s{i}", "e", "recs", "recsys", "aws", None, None, 1, "m5.xlarge", 1, rows,
                     "", "run_tag", 1, 1, Decimal(str(3 * rows ** 0.8)), "USD", SEP])
    _ins(con, "marts.fct_training_run_costs", runs)
    fc = []
    for step in range(1, 20):  # 19 steps: step 19 is beyond the 18 months
        m = _month(step)
        fc.append(_forecast_row("new", "base", "segment", m, step, 100, team="recs",
                                model="recsys", workload="training", provider="aws",
                                service="EC2", unit="Hours"))
        fc.append(_forecast_row("new", "worst", "segment", m, step, 900, team="recs",
                                model="recsys", workload="training", provider="aws"))
        # aws eligible compute: 620.5 effective = 730 on-demand-equivalent = 1.0 / hour
        fc.append(_forecast_row("new", "base", "team_workload", m, step, Decimal("620.5"),
                                team="x", workload="training"))
        fc.append(_forecast_row("new", "base", "segment", m, step, Decimal("620.5"), team="x",
                                workload="training", provider="aws", service="EC2",
                                unit="Hours", model="none"))
    fc.append(_forecast_row("old", "base", "segment", _month(1), 1, 5000, team="recs",
                            model="recsys", workload="training", provider="aws"))
    fc[-1][2] = datetime(2026, 9, 2)  # an older snapshot: not read
    fc[-1][1] = date(2026, 8, 1)
    _ins(con, "forecast.forecast_export", fc)
    con.close()
    return path


@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("whatif") / "wh.duckdb")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(["whatif", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def run_json(capsys, *argv) -> dict:
    code, out, err = run(capsys, *argv, "--json")
    assert code == OK, err
    return json.loads(out)


# ------------------------------------------------------------------------------ distillation


def test_distillation_exact(capsys, wh):
    d = run_json(capsys, "distillation", "--model", "query-ranker", "--throughput-gain", "3",
                 "--engineering-hours", "400", "--hourly-rate", "120", "--eval-cost", "2000",
                 "--warehouse", str(wh))
    current = (Decimal("1000") + 700 + 500 + Decimal("1100.50")) / 3
    saving = current - current / 3
    one_off = Decimal(400 * 120 + 2000)
    assert (d["from_month"], d["to_month"], d["months"]) == ("2026-07", "2026-09", 3)
    assert Decimal(str(d["current_monthly_cost"])) == cents(current)
    assert Decimal(str(d["new_monthly_cost"])) == cents(current / 3)
    assert Decimal(str(d["monthly_saving"])) == cents(saving)
    assert Decimal(str(d["one_off_cost"])) == one_off
    assert Decimal(str(d["months_to_break_even"])) == cents(one_off / saving)
    assert Decimal(str(d["roi_12m"])) == q4((saving * 12 - one_off) / one_off)
    assert Decimal(str(d["roi_18m"])) == q4((saving * 18 - one_off) / one_off)
    gains = [c["throughput_gain"] for c in d["sensitivity"]["cases"]]
    assert gains == [2, 3, 4]
    assert d["formula"] and d["inputs"]["source"].startswith("marts.fct_costs_monthly")


def test_distillation_issue_example_keys_and_range(capsys, wh):
    d = run_json(capsys, "distillation", "--model", "query-ranker", "--throughput-gain", "3",
                 "--engineering-hours", "400", "--hourly-rate", "120", "--from", "2026-09",
                 "--to", "2026-09", "--warehouse", str(wh))
    assert {"from_month", "to_month", "current_monthly_cost", "new_monthly_cost",
            "monthly_saving", "one_off_cost", "months_to_break_even", "roi_12m"} <= set(d)
    assert Decimal(str(d["current_monthly_cost"])) == Decimal("1100.50")


def test_text_output_shows_inputs_formula_result_sensitivity(capsys, wh):
    code, out, _ = run(capsys, "distillation", "--model", "query-ranker", "--throughput-gain",
                       "3", "--engineering-hours", "400", "--hourly-rate", "120",
                       "--warehouse", str(wh))
    assert code == OK
    for heading in ("inputs from 2026-07 to 2026-09", "formula", "result",
                    "sensitivity to throughput_gain", "current_monthly_cost"):
        assert heading in out


# ------------------------------------------------------------------------- batch vs realtime


def test_batch_vs_realtime_exact(capsys, wh):
    d = run_json(capsys, "batch-vs-realtime", "--model", "churn", "--warehouse", str(wh))
    # 2 instances x 0.50 / h x 730 h; batch 30 per 300k requests; 3,000k real-time requests
    endpoint = Decimal(2) * Decimal("0.5") * 730
    per_request = Decimal(30) / (300 * 1000)
    assert Decimal(str(d["endpoint_monthly_cost"])) == endpoint
    assert d["break_even_requests_per_month"] == int(endpoint / per_request)  # 7,300,000
    assert d["current_requests_per_month"] == 1_000_000
    assert d["recommendation"] == "batch"
    d = run_json(capsys, "batch-vs-realtime", "--model", "churn", "--requests-per-month",
                 "8000000", "--warehouse", str(wh))
    assert d["recommendation"] == "realtime"
    d = run_json(capsys, "batch-vs-realtime", "--model", "churn", "--instances", "1",
                 "--warehouse", str(wh))
    assert d["break_even_requests_per_month"] == 3_650_000


def test_batch_vs_realtime_without_batch_cost_is_a_data_error(capsys, wh):
    code, _, err = run(capsys, "batch-vs-realtime", "--model", "no-batch", "--warehouse",
                       str(wh))
    assert code == MISSING_INPUT
    assert "no batch inference cost" in err and "--batch-cost-per-1k" in err
    assert "Traceback" not in err


def test_batch_cost_zero_after_credits_is_a_data_error(capsys, tmp_path):
    # Credits can make a month's batch cost zero: a break-even volume is then undefined.
    import duckdb

    wh = build(tmp_path / "wh.duckdb")
    con = duckdb.connect(str(wh))
    con.execute("update marts.fct_unit_costs set cost = 0 where ml_model = 'churn' "
                "and workload = 'batch_inference'")
    con.close()
    code, _, err = run(capsys, "batch-vs-realtime", "--model", "churn", "--warehouse", str(wh))
    assert code == DATA_ERROR
    assert "credits" in err and "--batch-cost-per-1k" in err and "Traceback" not in err


def test_missing_unit_cost_table_names_it(capsys, tmp_path):
    wh2 = build(tmp_path / "wh.duckdb", skip=("marts.fct_unit_costs",))
    code, _, err = run(capsys, "batch-vs-realtime", "--model", "churn", "--warehouse", str(wh2))
    assert code == MISSING_INPUT and "marts.fct_unit_costs" in err


# ------------------------------------------------------------------------------ training data


def test_double_training_data_fits_exponent_and_uses_forecast(capsys, wh):
    d = run_json(capsys, "double-training-data", "--model", "recsys", "--warehouse", str(wh))
    monthly = Decimal(900) / 3
    assert Decimal(str(d["current_monthly_training_cost"])) == cents(monthly)
    assert Decimal(str(d["scaling_exponent"])) == Decimal("0.800")
    assert d["assumptions"]["exponent_source"].startswith("fitted on 6")
    mult = Decimal(2) ** Decimal("0.800")
    assert Decimal(str(d["monthly_impact"])) == cents(monthly * (mult - 1))
    # 18 base-scenario months of 100 from the newest snapshot (not worst, not step 19)
    assert Decimal(str(d["forecast_training_18m"])) == 1800
    assert Decimal(str(d["impact_18m"])) == cents(1800 * (mult - 1))


def test_double_training_data_exponent_flag(capsys, wh):
    d = run_json(capsys, "double-training-data", "--model", "recsys", "--factor", "3",
                 "--scaling-exponent", "1", "--warehouse", str(wh))
    assert Decimal(str(d["monthly_impact"])) == 600
    assert Decimal(str(d["impact_18m"])) == 3600
    assert d["assumptions"]["exponent_source"] == "--scaling-exponent"
    exps = [c["scaling_exponent"] for c in d["sensitivity"]["cases"]]
    assert exps == [0.5, 1, 1.5]


# ---------------------------------------------------------------------------------------- spot


def test_spot_exact(capsys, wh):
    d = run_json(capsys, "spot", "--model", "embedder", "--interruption-rate", "0.1",
                 "--checkpoint-overhead", "0.05", "--warehouse", str(wh))
    hours = Decimal(10 * 2 + 5 * 2) / 3  # instance-hours per month of the runs in range
    factor = Decimal("1.05") / (1 - Decimal("0.1") * Decimal("0.5"))
    assert Decimal(str(d["on_demand_monthly_cost"])) == cents(hours * 32)  # training price
    assert Decimal(str(d["spot_expected_monthly_cost"])) == cents(hours * factor * 12)
    assert Decimal(str(d["expected_time_factor"])) == q4(factor)
    assert Decimal(str(d["spot_expected_run_hours"])) == cents(Decimal("7.5") * factor)


def test_spot_price_outside_the_range_is_used_and_said(capsys, wh):
    d = run_json(capsys, "spot", "--model", "cpu-model", "--warehouse", str(wh))
    (line,) = d["inputs"]["instance_types"]
    assert line["price_basis"] == "on-demand: range, training; spot: all months, all workloads"
    factor = Decimal("1.05") / (1 - Decimal("0.05") * Decimal("0.5"))  # the defaults
    assert Decimal(str(d["on_demand_monthly_cost"])) == cents(Decimal(6) / 3 * Decimal("0.5"))
    assert Decimal(str(d["spot_expected_monthly_cost"])) == cents(
        Decimal(6) / 3 * factor * Decimal("0.1"))


def test_spot_without_spot_price_is_a_data_error(capsys, wh):
    code, _, err = run(capsys, "spot", "--model", "gpu-only", "--warehouse", str(wh))
    assert code == MISSING_INPUT and "spot price" in err and "g5.xlarge" in err


# ---------------------------------------------------------------------------------- commitment


def test_commitment_degenerate_forecast_commits_to_the_demand(capsys, wh):
    d = run_json(capsys, "commitment", "--provider", "aws", "--warehouse", str(wh))
    (p,) = d["providers"]
    assert p["coverage"] == 0.6  # list 600 covered of 1,000
    assert p["utilisation"] == float(q4(Decimal(420) / 450))
    assert p["discount"] == 0.3
    assert Decimal(str(p["current_hourly_commitment"])) == q4(Decimal(450) / RANGE_HOURS)
    # the demand is exactly 1.0 on-demand-equivalent per hour: commit 0.7 (30 % off)
    assert p["recommended_hourly_commitment"] == pytest.approx(0.7, abs=1e-4)
    c0 = Decimal(450) / RANGE_HOURS
    current_cost = 730 * (c0 + 1 - c0 / Decimal("0.7"))
    assert Decimal(str(p["expected_monthly_saving"])) == pytest.approx(
        cents(current_cost - 511), abs=Decimal("0.02"))


def test_commitment_uses_the_distribution_not_the_point(tmp_path, capsys):
    wh2 = build(tmp_path / "wh.duckdb")
    with duckdb.connect(str(wh2)) as con:  # downside risk: the 10 % quantile is 0.2 x point
        con.execute("""update forecast.forecast_export set lo_95 = point * 0.2,
                       lo_80 = point * 0.2 where level = 'team_workload'""")
    d = run_json(capsys, "commitment", "--provider", "aws", "--warehouse", str(wh2))
    (p,) = d["providers"]
    # newsvendor: the 30 % quantile, 0.2 + (0.3 - 0.1) / 0.4 x 0.8 = 0.6 per hour, x 0.7
    assert p["recommended_hourly_commitment"] == pytest.approx(0.42, abs=0.005)
    assert p["newsvendor_hourly_commitment"] == pytest.approx(0.42, abs=0.005)
    assert p["recommended_hourly_commitment"] < 0.7  # what the point alone would say


def test_commitment_table_and_results_table(wh, tmp_path, monkeypatch):
    from dagster_project.lib.whatif.params_file import load
    from dagster_project.lib.whatif.store import refresh_commitment, refresh_results

    params = tmp_path / "whatif.yml"
    params.write_text("questions:\n  - question: distillation\n    model: query-ranker\n"
                      "    throughput-gain: 3\n    engineering-hours: 400\n"
                      "    hourly-rate: 120\n  - question: distillation\n    model: x\n"
                      "    throughput-gain: 0.5\n    engineering-hours: 1\n    hourly-rate: 1\n"
                      "  - question: nope\n  - question: spot\n    model: embedder\n"
                      "    interruption-rate: lots\n")
    entries = load(params)
    assert [e.error is None for e in entries] == [True, True, False, False]
    copy = tmp_path / "wh.duckdb"
    copy.write_bytes(Path(wh).read_bytes())
    with duckdb.connect(str(copy)) as con:
        res = refresh_results(con, entries)
        rows = con.execute("select question, status, error, result_json "
                           "from planning.whatif_results").fetchall()
        assert res.rows == 4 and [r[1] for r in rows] == ["ok", "error", "error", "error"]
        assert json.loads(rows[0][3])["current_monthly_cost"] > 0
        assert "greater than 1" in rows[1][2] and "unknown question" in rows[2][2]
        assert "interruption-rate" in rows[3][2]
        refresh_commitment(con, None)
        got = con.execute("select provider, commitment_type, coverage, evidence "
                          "from planning.whatif_commitment").fetchall()
    assert got[0][:3] == ("aws", "savings_plan", Decimal("0.6"))
    assert "coverage 60.0%" in got[0][3]


# ------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("argv, needle", [
    (["distillation", "--model", "nope", "--throughput-gain", "3", "--engineering-hours", "1",
      "--hourly-rate", "1"], "no such ML model"),
    (["distillation", "--model", "query-ranker", "--throughput-gain", "1",
      "--engineering-hours", "1", "--hourly-rate", "1"], "must be greater than 1"),
    (["distillation", "--model", "query-ranker", "--throughput-gain", "2",
      "--engineering-hours", "-5", "--hourly-rate", "1"], "--engineering-hours -5"),
    (["spot", "--model", "embedder", "--interruption-rate", "1.5"], "--interruption-rate"),
    (["double-training-data", "--model", "recsys", "--factor", "0"], "--factor 0"),
    (["distillation", "--model", "query-ranker", "--throughput-gain", "2",
      "--engineering-hours", "1", "--hourly-rate", "1", "--from", "2026-13"], "YYYY-MM"),
])
def test_bad_options_exit_usage(capsys, wh, argv, needle):
    code, out, err = run(capsys, *argv, "--warehouse", str(wh))
    assert code == USAGE and needle in err and out == ""
    assert "Traceback" not in err


def test_non_numeric_flag_is_an_argparse_usage_error(capsys, wh):
    with pytest.raises(SystemExit) as exc:
        cli.main(["whatif", "distillation", "--model", "query-ranker", "--throughput-gain",
                  "abc", "--engineering-hours", "1", "--hourly-rate", "1"])
    assert exc.value.code == USAGE
    assert "not a number" in capsys.readouterr().err


def test_model_without_data_in_range_exits_missing_input(capsys, wh):
    code, _, err = run(capsys, "distillation", "--model", "recsys", "--throughput-gain", "2",
                       "--engineering-hours", "1", "--hourly-rate", "1", "--warehouse", str(wh))
    assert code == MISSING_INPUT and "no realtime_inference cost" in err


def test_missing_warehouse_exits_missing_input(capsys, tmp_path):
    code, _, err = run(capsys, "commitment", "--warehouse", str(tmp_path / "none.duckdb"))
    assert code == MISSING_INPUT and "no warehouse" in err


# --------------------------------------------------------------------------------- demo files


def test_demo_params_file_is_valid(tmp_path):
    from dagster_project.lib.generate.whatif_file import write_whatif_file
    from dagster_project.lib.whatif.params_file import load

    entries = load(write_whatif_file(tmp_path))
    assert [e.error for e in entries] == [None] * len(entries)
    assert {e.question for e in entries} == {"distillation", "batch-vs-realtime",
                                             "double-training-data", "spot", "commitment"}


def test_distillation_on_the_small_demo_matches_costs_monthly(capsys, demo, demo_con):
    expected = demo_con.execute(
        """select sum(effective_cost) from marts.fct_costs_monthly
           where ml_model = 'query-ranker' and workload = 'realtime_inference'
             and billing_month between date '2026-07-01' and date '2026-09-01'""").fetchone()[0]
    d = run_json(capsys, "distillation", "--model", "query-ranker", "--throughput-gain", "3",
                 "--engineering-hours", "400", "--hourly-rate", "120", "--from", "2026-07",
                 "--to", "2026-09", "--warehouse", str(demo / "wh.duckdb"))
    assert expected and Decimal(str(d["current_monthly_cost"])) == cents(expected / 3)


# ------------------------------------------------------------------------------------- assets


def _materialize(warehouse: Path):
    import dagster as dg

    from dagster_project.defs.resources import WarehouseResource
    from dagster_project.defs.whatif.assets import whatif_commitment, whatif_results

    return dg.materialize([whatif_results, whatif_commitment],
                          resources={"warehouse": WarehouseResource(path=str(warehouse))})


def test_assets_answer_the_params_file(wh, tmp_path, monkeypatch):
    copy = tmp_path / "wh.duckdb"
    copy.write_bytes(Path(wh).read_bytes())
    params = tmp_path / "reviewed.yml"
    params.write_text("questions:\n  - question: batch-vs-realtime\n    model: churn\n"
                      "  - question: commitment\n    discount: 0.5\n")
    monkeypatch.setenv("MLCOST_WHATIF", str(params))
    assert _materialize(copy).success
    with duckdb.connect(str(copy), read_only=True) as con:
        (res,) = con.execute("select result_json from planning.whatif_results "
                             "where status = 'ok' and question = 'batch-vs-realtime'").fetchall()
        assert json.loads(res[0])["recommendation"] == "batch"
        # the file's commitment options apply: demand 1.0 / h at 50 % off -> commit 0.5
        got = con.execute("select provider, recommended_hourly_commitment "
                          "from planning.whatif_commitment").fetchall()
    assert [(p, round(float(c), 3)) for p, c in got] == [("aws", 0.5)]


def test_assets_with_a_missing_named_file_write_no_answers(wh, tmp_path, monkeypatch):
    copy = tmp_path / "wh.duckdb"
    copy.write_bytes(Path(wh).read_bytes())
    monkeypatch.setenv("MLCOST_WHATIF", str(tmp_path / "absent.yml"))
    result = _materialize(copy)
    assert result.success
    mats = result.asset_materializations_for_node("planning__whatif_results")
    assert "does not exist" in mats[0].metadata["file_error"].value
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute("select count(*) from planning.whatif_results").fetchone() == (0,)
        # the commitment still runs with its defaults (observed discount 30 %)
        assert con.execute("select count(*) from planning.whatif_commitment").fetchone() == (1,)


def test_definitions_have_the_whatif_group():
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups["planning/whatif_results"] == "whatif"
    assert groups["planning/whatif_commitment"] == "whatif"


def test_assets_default_range_ends_at_the_forecast_as_of_month(wh, tmp_path):
    from dagster_project.lib.whatif.params_file import parse_entry
    from dagster_project.lib.whatif.store import refresh_results

    copy = tmp_path / "wh.duckdb"
    copy.write_bytes(Path(wh).read_bytes())
    entry = parse_entry(1, {"question": "distillation", "model": "query-ranker",
                            "throughput-gain": 2, "engineering-hours": 1, "hourly-rate": 1})
    with duckdb.connect(str(copy)) as con:
        con.execute("create table forecast.forecast_snapshots (snapshot_id VARCHAR, "
                    "as_of_month DATE); insert into forecast.forecast_snapshots "
                    "values ('new', DATE '2026-08-01')")
        refresh_results(con, [entry])
        (res,) = con.execute("select result_json from planning.whatif_results").fetchone()
    d = json.loads(res)
    assert (d["from_month"], d["to_month"]) == ("2026-06", "2026-08")
    assert Decimal(str(d["current_monthly_cost"])) == cents((9999 + 1000 + 700 + 500) / Decimal(3))
