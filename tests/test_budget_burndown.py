"""The budget burn-down (planning.budget_burndown): exact figures on a small warehouse with known
numbers, the three statuses, which quarters are reported, the asset check's severities (and
that a failing ERROR check does not fail the run), and `mlcost export budgets`."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal as D

import dagster as dg
import duckdb
import pytest

from dagster_project.lib.planning import burndown as bd
from dagster_project.lib.planning import store

# as of 2026-08: 2026Q3 has two closed months (Jul, Aug) and one forecast month (Sep);
# the snapshot forecasts Sep..Dec, so 2026Q4 is a future quarter; 2027Q1 is beyond it.
AS_OF = date(2026, 8, 1)
ACTUALS = [  # (month, team, currency, effective cost)
    (date(2026, 4, 1), "alpha", "USD", "150.00"),
    (date(2026, 5, 1), "alpha", "USD", "150.00"),
    (date(2026, 6, 1), "alpha", "USD", "150.00"),
    (date(2026, 7, 1), "alpha", "USD", "100.10"),
    (date(2026, 8, 1), "alpha", "USD", "200.20"),
    (date(2026, 7, 1), "beta", "USD", "100"),
    (date(2026, 8, 1), "beta", "USD", "100"),
    (date(2026, 7, 1), "gamma", "USD", "500.000000000000000000000001"),
    (date(2026, 8, 1), "delta", "USD", "42.50"),
    (date(2026, 9, 1), "alpha", "USD", "999.99"),  # a month after the as-of: not spent to date
]
FORECAST = [  # (scenario, team, month, point, lo_80, hi_80)
    ("baseline", "alpha", date(2026, 9, 1), "300.30", "250.05", "350.55"),
    ("base", "alpha", date(2026, 9, 1), "310.30", "260.05", "360.55"),
    ("base", "beta", date(2026, 9, 1), "100", "90", "150.5"),
    ("base", "gamma", date(2026, 9, 1), "200.123456", "150", "250"),
    ("base", "alpha", date(2026, 10, 1), "100", "90", "110"),
    ("base", "alpha", date(2026, 11, 1), "100", "90", "110"),
    ("base", "alpha", date(2026, 12, 1), "100", "90", "130"),
    ("base", "beta", date(2026, 10, 1), "10", None, None),
    ("base", "beta", date(2026, 11, 1), "10", "5", "15"),
    ("base", "beta", date(2026, 12, 1), "10", "5", "15"),
]
BUDGETS = [  # (quarter, team, amount)
    ("2026Q1", "alpha", "400"),  # before the history starts: not reported
    ("2026Q2", "alpha", "400"),  # closed: 450 spent, over
    ("2026Q3", "alpha", "700.00"),
    ("2026Q3", "beta", "320"),
    ("2026Q3", "gamma", "650"),
    ("2026Q3", "eps", "10"),  # budget, but no spend and no forecast
    ("2026Q4", "alpha", "330"),
    ("2027Q1", "alpha", "999"),  # beyond the forecast: not reported
]


def _warehouse(path, scenarios=("baseline", "base")) -> str:
    """A warehouse with just the columns the burn-down reads (the forecast tables as
    documented in the forecast interface: snapshot_id, as_of_month, created_at; values)."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema forecast")
        con.execute("create table marts.fct_costs_monthly (billing_month date, team varchar, "
                    "billing_currency varchar, effective_cost decimal(38,24))")
        con.executemany("insert into marts.fct_costs_monthly values (?, ?, ?, ?)", ACTUALS)
        con.execute("create table marts.fct_budgets (fiscal_quarter varchar, team varchar, "
                    "budget_amount decimal(38,24), currency varchar)")
        con.executemany("insert into marts.fct_budgets values (?, ?, ?, 'USD')", BUDGETS)
        con.execute("create table forecast.forecast_snapshots (snapshot_id varchar, "
                    "as_of_month date, created_at timestamp)")
        con.execute("insert into forecast.forecast_snapshots values "
                    "('fc_new', '2026-08-01', '2026-09-02 10:00'), "
                    # a quarter lock created later, but forecasting from an older month
                    "('fc_lock', '2026-06-01', '2026-09-03 10:00')")
        con.execute("create table forecast.forecast_values (snapshot_id varchar, "
                    "scenario varchar, level varchar, team varchar, month date, "
                    "point decimal(38,6), lo_80 decimal(38,6), hi_80 decimal(38,6))")
        rows = [("fc_new", s, "team", t, m, p, lo, hi) for s, t, m, p, lo, hi in FORECAST
                if s in scenarios]
        rows += [("fc_new", "base", "total", None, date(2026, 9, 1), "1", "1", "1"),
                 ("fc_lock", "base", "team", "alpha", date(2026, 9, 1), "9999", "1", "99999")]
        con.executemany("insert into forecast.forecast_values values (?, ?, ?, ?, ?, ?, ?, ?)",
                        rows)
    return str(path)


def _table(path) -> dict[tuple[str, str], dict]:
    with duckdb.connect(str(path), read_only=True) as con:
        cur = con.execute("select * from planning.budget_burndown order by quarter, team")
        names = [d[0] for d in cur.description]
        return {(r[0], r[2]): dict(zip(names, r, strict=True)) for r in cur.fetchall()}


@pytest.fixture
def wh(tmp_path):
    path = _warehouse(tmp_path / "wh.duckdb")
    with duckdb.connect(path) as con:
        res = store.refresh_burndown(con)
    assert res.status == "written" and res.snapshot_id == "fc_new" and res.scenario == "base"
    return path


def test_figures_are_exact(wh):
    t = _table(wh)
    assert sorted(t) == [("2026Q2", "alpha"), ("2026Q3", "alpha"), ("2026Q3", "beta"),
                         ("2026Q3", "delta"), ("2026Q3", "eps"), ("2026Q3", "gamma"),
                         ("2026Q4", "alpha"), ("2026Q4", "beta")]
    a = t[("2026Q3", "alpha")]
    # spent = Jul + Aug; the September actuals after the as-of month are not "spent to date"
    assert a["spent_to_date"] == D("300.30")
    assert a["forecast_remaining"] == D("310.30")  # scenario base, not baseline
    assert a["projected_spend"] == D("610.60")
    assert (a["projected_lo_80"], a["projected_hi_80"]) == (D("560.35"), D("660.85"))
    assert a["budget_amount"] == D("700") and a["headroom"] == D("89.40")
    assert a["projected_pct_of_budget"] == D("87.23")  # 610.60 / 700 = 87.2285...
    assert (a["status"], a["quarter_state"], a["months_actual"], a["months_forecast"]) == \
        ("on_track", "in_progress", 2, 1)
    assert (a["snapshot_id"], a["as_of_month"], a["scenario"], a["currency"]) == \
        ("fc_new", AS_OF, "base", "USD")
    g = t[("2026Q3", "gamma")]
    # 24 decimal places survive: no float on the way
    assert g["projected_spend"] == D("700.123456000000000000000001")
    assert g["headroom"] == D("-50.123456000000000000000001")
    b = t[("2026Q3", "beta")]
    assert (b["projected_spend"], b["projected_hi_80"], b["headroom"]) == \
        (D("300"), D("350.5"), D("20"))


def test_the_three_statuses_and_no_budget(wh):
    t = _table(wh)
    assert t[("2026Q3", "alpha")]["status"] == "on_track"
    assert t[("2026Q3", "beta")]["status"] == "at_risk"  # band 350.5 > 320 >= point 300
    assert t[("2026Q3", "gamma")]["status"] == "over_budget"  # point > budget
    d = t[("2026Q3", "delta")]  # spend, no budget
    assert (d["status"], d["budget_amount"], d["headroom"]) == ("no_budget", None, None)
    assert "no budget for 2026Q3" in d["note"]
    e = t[("2026Q3", "eps")]  # a budget, nothing spent or forecast
    assert (e["projected_spend"], e["status"]) == (D(0), "on_track")
    assert "no forecast for 2026-09" in e["note"]


def test_closed_future_and_unreported_quarters(wh):
    t = _table(wh)
    closed = t[("2026Q2", "alpha")]
    assert (closed["quarter_state"], closed["projected_spend"], closed["projected_lo_80"],
            closed["projected_hi_80"], closed["status"]) == \
        ("closed", D("450"), D("450"), D("450"), "over_budget")
    fut = t[("2026Q4", "alpha")]
    assert (fut["quarter_state"], fut["spent_to_date"], fut["projected_spend"],
            fut["projected_lo_80"], fut["projected_hi_80"], fut["status"]) == \
        ("future", D(0), D(300), D(270), D(350), "at_risk")
    beta = t[("2026Q4", "beta")]  # one month without a band: the quarter has none
    assert (beta["projected_lo_80"], beta["projected_hi_80"], beta["status"]) == \
        (None, None, "no_budget")
    assert "no 80% band" in beta["note"]
    # 2026Q1 precedes the history, 2027Q1 lies beyond the forecast: neither is reported
    assert not {q for q, _ in t} & {"2026Q1", "2027Q1"}


def test_baseline_when_there_is_no_base_scenario(tmp_path):
    path = _warehouse(tmp_path / "wh.duckdb", scenarios=("baseline",))
    with duckdb.connect(path) as con:
        assert store.refresh_burndown(con).scenario == "baseline"
    assert _table(path)[("2026Q3", "alpha")]["projected_spend"] == D("600.60")


def test_no_snapshot_empties_the_table_and_says_why(tmp_path):
    path = _warehouse(tmp_path / "wh.duckdb")
    with duckdb.connect(path) as con:
        store.refresh_burndown(con)
        con.execute("delete from forecast.forecast_snapshots")
        res = store.refresh_burndown(con)
        assert res.status == "skipped" and "no forecast snapshot" in res.reason
        assert con.execute("select count(*) from planning.budget_burndown").fetchone() == (0,)
    assert bd.judge([]).passed is False


def test_columns_match_the_insert_order(wh):
    with duckdb.connect(wh, read_only=True) as con:
        cols = [r[0] for r in con.execute("describe planning.budget_burndown").fetchall()]
    assert tuple(cols) == store.COLUMNS


@pytest.mark.parametrize(("point", "hi", "budget", "status"), [
    ("100", "120", "130", "on_track"),
    ("100", "120", "120", "on_track"),  # reaching the budget is not exceeding it
    ("100", "120.000001", "120", "at_risk"),
    ("100", None, "100", "on_track"),
    ("100.01", "120", "100", "over_budget"),
    ("100", "120", None, "no_budget"),
])
def test_status_rule(point, hi, budget, status):
    assert bd.status_of(D(point), D(hi) if hi else None, D(budget) if budget else None) == status


def test_judge_severities():
    closed_over = ("2026Q2", "a", "closed", "over_budget")
    ok = ("2026Q3", "a", "in_progress", "on_track")
    risk = ("2026Q3", "b", "in_progress", "at_risk")
    over = ("2026Q4", "c", "future", "over_budget")
    v = bd.judge([closed_over, ok])  # history is not judged
    assert (v.passed, v.severity) == (True, "WARN")
    v = bd.judge([ok, risk])
    assert (v.passed, v.severity, v.offenders) == (False, "WARN", [("2026Q3", "b", "at_risk")])
    v = bd.judge([ok, risk, over])
    assert (v.passed, v.severity) == (False, "ERROR")
    assert "c 2026Q4" in v.description and "b 2026Q3" in v.description
    v = bd.judge([("2026Q3", "a", "in_progress", "no_budget")])
    assert (v.passed, v.severity) == (False, "WARN") and "no budget" in v.description


def test_asset_and_check_on_dagster(tmp_path):
    """Materializing the asset runs its check: ERROR (gamma over budget) and not passed, yet
    the run succeeds (the check is non-blocking) and the run summary lists it."""
    from dagster_project.defs.planning.assets import budget_burndown, budget_burndown_within_budget
    from dagster_project.defs.resources import WarehouseResource
    from dagster_project.lib.run_summary import failed_checks

    path = _warehouse(tmp_path / "wh.duckdb")
    result = dg.materialize([budget_burndown, budget_burndown_within_budget],
                            resources={"warehouse": WarehouseResource(path=path)},
                            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    (ev,) = result.get_asset_check_evaluations()
    assert (ev.passed, ev.severity) == (False, dg.AssetCheckSeverity.ERROR)
    assert "gamma 2026Q3" in ev.description and "alpha 2026Q4" in ev.description
    (line,) = failed_checks(result)
    assert line.startswith("planning/budget_burndown budget_burndown_within_budget (ERROR)")


def test_export_budgets(wh, tmp_path):
    from dagster_project import cli

    out = tmp_path / "budgets.csv"
    assert cli.main(["export", "budgets", "--out", str(out), "--warehouse", wh]) == 0
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == store.COLUMNS and len(rows) == 8
    gamma = next(r for r in rows if (r["quarter"], r["team"]) == ("2026Q3", "gamma"))
    assert (D(gamma["projected_spend"]), gamma["status"]) == \
        (D("700.123456000000000000000001"), "over_budget")


def test_the_asset_follows_the_forecast_in_the_project_graph():
    """In the one code location, after the forecast snapshot and the budgets mart, checked,
    on the warehouse's single-writer pool, and part of what `mlcost run` builds."""
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    key = dg.AssetKey(["planning", "budget_burndown"])
    parents = {k.to_user_string() for k in graph.get(key).parent_keys}
    assert {"forecast/forecast_snapshots", "marts/fct_budgets", "marts/fct_costs_monthly"} \
        <= parents
    assert dg.AssetCheckKey(key, "budget_burndown_within_budget") in graph.asset_check_keys
    job = defs.resolve_job_def("mlcost_build")
    assert key in job.asset_layer.selected_asset_keys
