"""Tests for dagster_project.lib.variance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pytest

from dagster_project.lib import forecast as fc
from dagster_project.lib import variance as var

try:  # the synthetic data set lives next to the forecast tests
    import planning_marts
    from test_forecast import make_db
except ImportError:  # pragma: no cover - tests/ imported as a package
    from tests import planning_marts
    from tests.test_forecast import make_db

D = Decimal
EFFECTS = var.EFFECTS

# Hand example (quarter 2025Q1, every amount split evenly over its three months).
# Segments A and B share the mix group (alpha, training, Hours):
#   plan   A: 120 h @ 2.00 = 240      B: 60 h @ 3.00 = 180      group 180 h, 420
#   actual A: 150 h @ 2.20 = 330      B: 90 h @ 3.00 = 270      group 240 h, 600
#   r_g = 240 / 180 = 4/3, r_A = 150/120 = 1.25, r_B = 90/60 = 1.5
#   volume = C_plan * (r_g - 1):   A 240/3 = 80,           B 180/3 = 60            -> 140
#   mix    = C_plan * (r_s - r_g): A 240*(1.25-4/3) = -20, B 180*(1.5-4/3) = 30   -> 10
#   price  = (P_act - P_plan) * Q_act: A 0.20*150 = 30,    B 0                      -> 30
#   check: (240 h - 180 h) * 420/180 = 140 volume; 150*2 + 90*3 - 240*420/180 = 10 mix.
# C is new (+45), D discontinued (-60), E has no pricing unit (plan 90, actual 105: +15).
HAND = {
    # key: (plan cost, plan qty, actual cost, actual qty)
    ("aws", "SageMaker", "Hours"): (D(240), D(120), D(330), D(150)),
    ("gcp", "Vertex AI", "Hours"): (D(180), D(60), D(270), D(90)),
    ("gcp", "TPU", "Hours"): (D(0), None, D(45), D(12)),
    ("azure", "AML", "Hours"): (D(60), D(30), D(0), None),
    ("aws", "Support", None): (D(90), None, D(105), None),
}


def _segments() -> list[var.Segment]:
    out = []
    for (prov, svc, unit), (pc, pq, ac, aq) in HAND.items():
        key = {"team": "alpha", "workload": "training", "ml_model": "m", "provider": prov,
               "service_name": svc, "pricing_unit": unit}
        out.append(var.Segment(key, ac, pc, aq, pq))
    return out


def test_decompose_hand_example():
    segs = {s.key["service_name"]: s for s in var.decompose(_segments())}
    a, b = segs["SageMaker"], segs["Vertex AI"]
    assert (a.effects["volume_effect"], b.effects["volume_effect"]) == (D(80), D(60))
    assert (a.effects["mix_effect"], b.effects["mix_effect"]) == (D(-20), D(30))
    assert (a.effects["price_effect"], b.effects["price_effect"]) == (D(30), D(0))
    assert segs["TPU"].status == "new" and segs["TPU"].effects["new_discontinued_effect"] == 45
    assert segs["AML"].status == "discontinued"
    assert segs["AML"].effects["new_discontinued_effect"] == -60
    assert segs["Support"].status == "unquantified"
    assert segs["Support"].effects["unquantified_effect"] == 15
    for s in segs.values():
        assert sum(s.effects.values()) == s.actual_cost - s.plan_cost  # exact
    totals = {e: sum(s.effects[e] for s in segs.values()) for e in EFFECTS}
    assert totals == {"volume_effect": 140, "mix_effect": 10, "price_effect": 30,
                      "new_discontinued_effect": -15, "unquantified_effect": 15,
                      "commitment_effect": 0}  # no list costs: no discount rates


# Commitment effect on the hand example (docs/variance-and-report.md, "Commitment effect"):
#   A: reference months list 300, effective 240 -> d_ref = 0.20; the quarter list 480,
#      effective 330 -> d_act = 0.3125: commitment = (0.20 - 0.3125) * 480 = -54 (more
#      coverage, cheaper); price = (330 - 300) - (-54) = 84 (= 480 * (1 - 0.20) - 300: the
#      list price rose).
#   B: reference list 200, effective 180 -> d_ref = 0.10; the quarter list 270 = effective ->
#      d_act = 0: commitment = 0.10 * 270 = +27 (coverage lost); price = 0 - 27 = -27.
#   C (new) has list cost but no plan: its 45 stays new/discontinued, commitment 0.
# (actual list, actual listed effective, reference list, reference listed effective)
LISTS = {"SageMaker": (D(480), D(330), D(300), D(240)),
         "Vertex AI": (D(270), D(270), D(200), D(180)),
         "TPU": (D(60), D(45), D(60), D(45))}


def _segments_with_lists() -> list[var.Segment]:
    segs = _segments()
    for s in segs:
        if s.key["service_name"] in LISTS:
            (s.actual_list_cost, s.actual_listed_cost, s.ref_list_cost,
             s.ref_listed_cost) = LISTS[s.key["service_name"]]
    return segs


def test_commitment_effect_hand_example():
    segs = {s.key["service_name"]: s for s in var.decompose(_segments_with_lists())}
    a, b, c = segs["SageMaker"], segs["Vertex AI"], segs["TPU"]
    assert (a.ref_discount_rate, a.actual_discount_rate) == (D("0.2"), D("0.3125"))
    assert (a.effects["commitment_effect"], a.effects["price_effect"]) == (D(-54), D(84))
    assert (b.effects["commitment_effect"], b.effects["price_effect"]) == (D(27), D(-27))
    # volume and mix do not move
    assert (a.effects["volume_effect"], a.effects["mix_effect"]) == (D(80), D(-20))
    assert c.status == "new" and c.effects["commitment_effect"] == 0
    for s in segs.values():
        assert sum(s.effects.values()) == s.actual_cost - s.plan_cost  # exact
    totals = {e: sum(s.effects[e] for s in segs.values()) for e in EFFECTS}
    assert totals == {"volume_effect": 140, "mix_effect": 10, "price_effect": 57,
                      "new_discontinued_effect": -15, "unquantified_effect": 15,
                      "commitment_effect": -27}


def test_commitment_effect_needs_both_discount_rates():
    segs = _segments_with_lists()
    a = next(s for s in segs if s.key["service_name"] == "SageMaker")
    a.ref_list_cost = a.ref_listed_cost = None  # no reference months
    b = next(s for s in segs if s.key["service_name"] == "Vertex AI")
    b.actual_list_cost, b.actual_listed_cost = D(0), D(270)  # no list cost in the quarter
    var.decompose(segs)
    assert a.effects["commitment_effect"] == b.effects["commitment_effect"] == 0
    assert (a.effects["price_effect"], b.effects["price_effect"]) == (D(30), D(0))


def test_commitment_effect_is_exact_with_repeating_rates():
    key = {"team": "t", "workload": "w", "ml_model": "m", "pricing_unit": "Hours",
           "provider": "x", "service_name": "a"}
    s = var.Segment(key, D("1000.000000000000000000001"), D("777.7"), D(3), D(7),
                    actual_list_cost=D("1234.5678"), actual_listed_cost=D("999.99"),
                    ref_list_cost=D(3), ref_listed_cost=D(1))  # d_ref = 2/3
    var.decompose([s])
    ce = s.effects["commitment_effect"]
    # (2/3 - (1 - 999.99/1234.5678)) * 1234.5678 = 999.99 - 1234.5678/3, rounded once
    assert ce == (D("999.99") - D("1234.5678") / 3).quantize(D(1).scaleb(-24))
    assert sum(s.effects.values()) == s.actual_cost - s.plan_cost


def test_decompose_is_exact_with_awkward_numbers():
    key = {"team": "t", "workload": "w", "ml_model": "m", "pricing_unit": "Hours"}
    segs = [
        var.Segment({**key, "service_name": "a", "provider": "x"}, D("1000.000000000000000000001"),
                    D("777.7"), D("3"), D("7")),
        var.Segment({**key, "service_name": "b", "provider": "x"}, D("0.1"), D("1e-20"),
                    D("11"), D("0.3")),
    ]
    for s in var.decompose(segs):
        assert sum(s.effects.values()) == s.actual_cost - s.plan_cost


def _hand_db(lists: bool = False) -> duckdb.DuckDBPyConnection:
    """The hand example as a warehouse; with ``lists`` the list costs of LISTS, the reference
    ones in 2024-12 (the snapshot's as-of month)."""
    con = make_db(duckdb.connect(), rows=[], budgets=False)
    fc.ensure_schema(con)
    months = fc.parse_quarter("2025Q1")
    con.execute(
        "INSERT INTO forecast.forecast_snapshots VALUES "
        "('manual', now(), DATE '2024-12-01', DATE '2024-01-01', 3, 'hand', 'x', 'x', '{}', "
        "'USD', 0, 5)"
    )
    for (prov, svc, unit), (pc, pq, ac, aq) in HAND.items():
        for m in months:
            if ac:
                listed = LISTS[svc][0] / 3 if lists and svc in LISTS else ac / 3
                con.execute(
                    "INSERT INTO marts.fct_costs_monthly VALUES "
                    "(?, ?, 'alpha', 'm', 'training', 'AI', ?, ?, 'USD', ?, ?, ?, ?)",
                    [m, prov, svc, unit, ac / 3, ac / 3, listed,
                     aq / 3 if aq is not None else None],
                )
            if pc:
                con.execute(
                    "INSERT INTO forecast.forecast_values (snapshot_id, scenario, level, "
                    "series_id, team, workload, ml_model, provider, service_name, pricing_unit, "
                    "month, step, method, point, pricing_quantity) VALUES ('manual', 'baseline', "
                    "'segment', ?, 'alpha', 'training', 'm', ?, ?, ?, ?, 1, 'hand', ?, ?)",
                    [f"{prov}/{svc}", prov, svc, unit, m, pc / 3,
                     pq / 3 if pq is not None else None],
                )
    for svc, (_, _, ref_list, ref_effective) in LISTS.items() if lists else ():
        prov, unit = next((k[0], k[2]) for k in HAND if k[1] == svc)
        con.execute("INSERT INTO marts.fct_costs_monthly VALUES (DATE '2024-12-01', ?, 'alpha', "
                    "'m', 'training', 'AI', ?, ?, 'USD', ?, ?, ?, 1)",
                    [prov, svc, unit, ref_effective, ref_effective, ref_list])
    con.execute("INSERT INTO raw.budgets (fiscal_quarter, team, budget_amount, currency) "
                "VALUES ('2025Q1', 'alpha', '500.00', 'USD')")
    return planning_marts.build(con)


def test_stored_variance_matches_hand_example():
    con = _hand_db()
    res = var.compute_quarterly_variance(con, "2025Q1", snapshot_id="manual")
    assert res.status == "ok", res.reason
    row = con.execute(
        "SELECT actual_cost, forecast_cost, budget_amount, variance_vs_forecast, "
        "variance_vs_budget, variance_vs_budget_pct, volume_effect, mix_effect, price_effect, "
        "new_discontinued_effect, unquantified_effect FROM variance.quarterly_variance "
        "WHERE quarter = '2025Q1' AND level = 'total'"
    ).fetchall()[0]
    assert row == (D(750), D(570), D(500), D(180), D(250), D(50), D(140), D(10), D(30),
                   D(-15), D(15))
    assert sum(row[6:]) == row[3]
    types = dict(con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'variance' AND table_name = 'quarterly_variance'"
    ).fetchall())
    assert types["actual_cost"] == types["price_effect"] == "DECIMAL(38,24)"
    assert not [t for t in types.values() if t in ("DOUBLE", "FLOAT", "REAL")]


def test_stored_commitment_effect_matches_hand_example():
    con = _hand_db(lists=True)
    res = var.compute_quarterly_variance(con, "2025Q1", snapshot_id="manual")
    assert res.status == "ok", res.reason
    row = con.execute("SELECT price_effect, commitment_effect, variance_vs_forecast FROM "
                      "variance.quarterly_variance WHERE quarter = '2025Q1' AND level = 'total'"
                      ).fetchone()
    assert row == (D(57), D(-27), D(180))
    segs = {r[0]: r[1:] for r in con.execute(
        "SELECT service_name, actual_list_cost, reference_discount_rate, actual_discount_rate, "
        "commitment_effect, price_effect FROM variance.variance_decomposition").fetchall()}
    assert segs["SageMaker"] == (D(480), D("0.2"), D("0.3125"), D(-54), D(84))
    assert segs["Vertex AI"] == (D(270), D("0.1"), D(0), D(27), D(-27))
    assert segs["TPU"][3] == 0  # new segment
    assert segs["Support"][3] == 0  # unquantified: no commitment effect
    bad = con.execute(
        "SELECT count(*) FROM variance.quarterly_variance WHERE volume_effect + mix_effect + "
        "price_effect + new_discontinued_effect + unquantified_effect + commitment_effect "
        "<> variance_vs_forecast").fetchone()[0]
    assert bad == 0
    # the column comes right after the other effects (an added export column)
    names = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'variance' "
        "AND table_name = 'quarterly_variance' ORDER BY ordinal_position").fetchall()]
    assert names[names.index("unquantified_effect") + 1] == "commitment_effect"


# The variance tables as the release before the commitment effect created them.
_OLD_EFFECTS = ("volume_effect DECIMAL(38,24) NOT NULL, mix_effect DECIMAL(38,24) NOT NULL, "
                "price_effect DECIMAL(38,24) NOT NULL, new_discontinued_effect DECIMAL(38,24) "
                "NOT NULL, unquantified_effect DECIMAL(38,24) NOT NULL")
_OLD_DDL = (
    "CREATE SCHEMA variance",
    "CREATE TABLE variance.quarterly_variance (quarter VARCHAR NOT NULL, level VARCHAR NOT NULL, "
    "team VARCHAR, workload VARCHAR, ml_model VARCHAR, snapshot_id VARCHAR NOT NULL, currency "
    "VARCHAR, actual_cost DECIMAL(38,24) NOT NULL, forecast_cost DECIMAL(38,24) NOT NULL, "
    "budget_amount DECIMAL(38,24), variance_vs_forecast DECIMAL(38,24) NOT NULL, "
    "variance_vs_forecast_pct DECIMAL(18,6), variance_vs_budget DECIMAL(38,24), "
    f"variance_vs_budget_pct DECIMAL(18,6), {_OLD_EFFECTS}, months_outside_80 INTEGER, "
    "run_id VARCHAR NOT NULL, computed_at TIMESTAMP NOT NULL)",
    "CREATE TABLE variance.variance_decomposition (quarter VARCHAR NOT NULL, snapshot_id VARCHAR "
    "NOT NULL, team VARCHAR, workload VARCHAR, ml_model VARCHAR, provider VARCHAR, service_name "
    "VARCHAR, pricing_unit VARCHAR, segment_status VARCHAR NOT NULL, actual_cost DECIMAL(38,24) "
    "NOT NULL, plan_cost DECIMAL(38,24) NOT NULL, actual_quantity DECIMAL(38,12), plan_quantity "
    "DECIMAL(38,12), actual_unit_price DECIMAL(38,12), plan_unit_price DECIMAL(38,12), "
    "group_volume_ratio DECIMAL(38,12), volume_cost DECIMAL(38,24), mix_cost DECIMAL(38,24), "
    f"{_OLD_EFFECTS}, total_variance DECIMAL(38,24) NOT NULL, run_id VARCHAR NOT NULL)",
)


def test_a_warehouse_from_before_the_commitment_effect_is_migrated():
    con = _hand_db(lists=True)
    for ddl in _OLD_DDL:
        con.execute(ddl)
    con.execute("INSERT INTO variance.quarterly_variance VALUES ('2024Q4', 'total', NULL, NULL, "
                "NULL, 's', 'USD', 10, 4, NULL, 6, 150, NULL, NULL, 1, 2, 3, 0, 0, 0, 'r', "
                "TIMESTAMP '2025-01-05 00:00:00')")
    var.ensure_schema(con)
    old = con.execute("SELECT price_effect, commitment_effect, run_id FROM "
                      "variance.quarterly_variance WHERE quarter = '2024Q4'").fetchall()
    assert old == [(D(3), D(0), "r")]  # kept; its effects still sum to the variance
    fresh = duckdb.connect()
    var.ensure_schema(fresh)
    for table in ("quarterly_variance", "variance_decomposition"):
        layout = "SELECT column_name, data_type, is_nullable FROM information_schema.columns " \
                 "WHERE table_schema = 'variance' AND table_name = ? ORDER BY ordinal_position"
        assert con.execute(layout, [table]).fetchall() == fresh.execute(
            layout, [table]).fetchall()
    assert var.compute_quarterly_variance(con, "2025Q1", snapshot_id="manual").status == "ok"
    assert con.execute("SELECT commitment_effect FROM variance.quarterly_variance WHERE quarter "
                       "= '2025Q1' AND level = 'total'").fetchone() == (D(-27),)
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE "
                       "'%before_migration'").fetchone() == (0,)


@pytest.fixture
def synth():
    con = planning_marts.build(make_db(duckdb.connect()))
    yield con
    con.close()


def test_quarter_variance_on_synthetic_history(synth):
    # variance reads the quarter's lock, never creates it (forecasting does)
    unlocked = var.compute_quarterly_variance(synth, "2025Q3")
    assert unlocked.status == "skipped" and "no locked forecast" in unlocked.reason
    assert fc.locked_snapshot(synth, "2025Q3") is None
    lock = fc.ensure_locked_forecast(synth, "2025Q3")
    res = var.compute_quarterly_variance(synth, "2025Q3")
    assert res.status == "ok", res.reason
    assert res.snapshot_id == lock
    # every stored row: effects add up exactly to actual - forecast
    bad = synth.execute(
        "SELECT count(*) FROM variance.quarterly_variance WHERE quarter = '2025Q3' AND "
        "(volume_effect + mix_effect + price_effect + new_discontinued_effect "
        "+ unquantified_effect + commitment_effect <> variance_vs_forecast "
        "OR actual_cost - forecast_cost <> variance_vs_forecast)"
    ).fetchall()[0][0]
    assert bad == 0
    bad = synth.execute(
        "SELECT count(*) FROM variance.variance_decomposition WHERE volume_effect + mix_effect "
        "+ price_effect + new_discontinued_effect + unquantified_effect + commitment_effect "
        "<> total_variance"
    ).fetchall()[0][0]
    assert bad == 0
    # totals tie out to the mart, the plan to the locked snapshot, budgets to the budgets file
    actual = synth.execute(
        "SELECT sum(effective_cost) FROM marts.fct_costs_monthly "
        "WHERE billing_month BETWEEN DATE '2025-07-01' AND DATE '2025-09-01'"
    ).fetchall()[0][0]
    plan = synth.execute(
        "SELECT sum(point) FROM forecast.forecast_values WHERE snapshot_id = ? "
        "AND level = 'segment' AND scenario = 'baseline' AND month BETWEEN DATE '2025-07-01' "
        "AND DATE '2025-09-01'",
        [lock],
    ).fetchall()[0][0]
    rows = {
        (r[0], r[1]): r[2:]
        for r in synth.execute(
            "SELECT level, team, actual_cost, forecast_cost, budget_amount, variance_vs_budget "
            "FROM variance.quarterly_variance WHERE quarter = '2025Q3'"
        ).fetchall()
    }
    assert rows[("total", None)][0] == actual and rows[("total", None)][1] == plan
    assert rows[("total", None)][2] == D(360000)
    assert rows[("team", "recsys")][2] == D(120000)
    for level in ("team", "team_workload", "team_model"):
        s = synth.execute(
            "SELECT sum(actual_cost), sum(forecast_cost), sum(price_effect), sum(mix_effect) "
            "FROM variance.quarterly_variance WHERE quarter = '2025Q3' AND level = ?",
            [level],
        ).fetchall()[0]
        t = synth.execute(
            "SELECT actual_cost, forecast_cost, price_effect, mix_effect "
            "FROM variance.quarterly_variance WHERE quarter = '2025Q3' AND level = 'total'"
        ).fetchall()[0]
        assert s == t
    # the launch-free synthetic data has no new segments in 2025Q3 but the plan is imperfect
    assert res.totals["variance_vs_forecast"] != 0
    # re-running replaces, never duplicates
    var.compute_quarterly_variance(synth, "2025Q3")
    n = synth.execute(
        "SELECT count(*) FROM variance.quarterly_variance WHERE quarter = '2025Q3' "
        "AND level = 'total'"
    ).fetchall()[0][0]
    assert n == 1


def test_complete_quarters(synth):
    assert var.complete_quarters(synth) == [f"{y}Q{q}" for y in (2024, 2025) for q in range(1, 5)]
    planning_marts.build(synth, as_of="2025-12-20")  # December has not closed
    assert var.complete_quarters(synth)[-1] == "2025Q3"
    reason = var.compute_quarterly_variance(synth, "2025Q4").reason
    assert reason == "quarter 2025Q4 is incomplete: 2025-12 has not closed yet"
    assert var.complete_quarters(duckdb.connect()) == []


def test_a_month_without_actuals_makes_its_quarter_incomplete(synth):
    synth.execute("DELETE FROM marts.fct_costs_monthly WHERE billing_month = DATE '2024-05-01'")
    planning_marts.build(synth)
    cal = dict(synth.execute(
        "SELECT month, has_cost_data FROM marts.dim_calendar WHERE quarter = '2024Q2'"
    ).fetchall())
    assert cal == {date(2024, 4, 1): True, date(2024, 5, 1): False, date(2024, 6, 1): True}
    assert "2024Q2" not in var.complete_quarters(synth)
    assert "2024Q1" in var.complete_quarters(synth) and "2024Q3" in var.complete_quarters(synth)
    res = var.compute_quarterly_variance(synth, "2024Q2")
    assert res.reason == "quarter 2024Q2 is incomplete: no actuals for 2024-05"
    bounds = synth.execute(
        "SELECT DISTINCT data_first_month, data_last_month, months_in_quarter_with_data "
        "FROM marts.dim_calendar WHERE quarter = '2024Q2'"
    ).fetchall()
    assert bounds == [(date(2024, 1, 1), date(2025, 12, 1), 2)]


def test_skips_are_recorded(synth):
    incomplete = var.compute_quarterly_variance(synth, "2026Q1")
    assert incomplete.status == "skipped" and "incomplete" in incomplete.reason
    assert fc.ensure_locked_forecast(synth, "2024Q1") is None  # no history before it
    no_history = var.compute_quarterly_variance(synth, "2024Q1")
    assert no_history.status == "skipped" and "no locked forecast: " in no_history.reason
    fc.ensure_locked_forecast(synth, "2025Q2")
    no_budget = var.compute_quarterly_variance(synth, "2025Q2")
    assert no_budget.status == "partial" and "no budget" in no_budget.reason
    budget = synth.execute(
        "SELECT count(*) FROM variance.quarterly_variance WHERE quarter = '2025Q2' "
        "AND budget_amount IS NOT NULL"
    ).fetchall()[0][0]
    assert budget == 0
    runs = synth.execute(
        "SELECT quarter, status FROM variance.variance_runs ORDER BY started_at"
    ).fetchall()
    assert runs == [("2026Q1", "skipped"), ("2024Q1", "skipped"), ("2025Q2", "partial")]
    assert var.latest_run(synth, "2024Q1")["status"] == "skipped"
    assert var.compute_quarterly_variance(synth, "2025Q3", snapshot_id="nope").status == "skipped"
    assert var.compute_quarterly_variance(duckdb.connect(), "2025Q3").status == "skipped"


def test_budget_latest_delivery_wins():
    con = make_db(duckdb.connect(), budgets=False)
    planning_marts.build(con)  # adds the lineage columns ingest writes
    con.execute(
        "INSERT INTO raw.budgets (fiscal_quarter, team, budget_amount, currency, _loaded_at, "
        "_file_id) VALUES "
        "('2025Q3', 'recsys', '100000.00', 'usd', TIMESTAMP '2025-06-01 00:00:00', 'a'), "
        "('2025Q3', 'recsys', '1250.50', 'usd', TIMESTAMP '2025-06-15 00:00:00', 'b'), "
        "('2025Q3', 'vision', NULL, 'USD', TIMESTAMP '2025-06-15 00:00:00', 'b'), "
        "('2025Q4', 'recsys', '7.00', 'USD', TIMESTAMP '2025-06-20 00:00:00', 'c'), "
        # one delivery giving a team's quarter in two lines: they add up
        "('2025Q4', 'vision', '300.25', 'USD', TIMESTAMP '2025-06-20 00:00:00', 'c'), "
        "('2025Q4', 'vision', '99.75', 'USD', TIMESTAMP '2025-06-20 00:00:00', 'c'), "
        # an older delivery of the same quarter does not count
        "('2025Q4', 'vision', '5000', 'USD', TIMESTAMP '2025-06-01 00:00:00', 'a')"
    )
    planning_marts.build(con)
    budgets, currencies, notes = var.budgets_for_quarter(con, "2025Q3")
    assert budgets == {"recsys": D("1250.50")} and currencies == ["USD"] and notes == []
    assert var.budgets_for_quarter(con, "2025Q4")[0] == {"recsys": D("7.00"),
                                                         "vision": D("400.00")}
    assert var.budgets_for_quarter(duckdb.connect(), "2025Q3") == (
        {}, [], ["marts.fct_budgets not found"])
