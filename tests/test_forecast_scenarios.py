"""The scenarios file: parsing, validation messages, and what each assumption kind does to a
forecast (small synthetic mart, no demo)."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal

import duckdb
import numpy as np
import pytest

from dagster_project.lib import forecast as fc
from dagster_project.lib.forecast.scenario_file import (
    ScenarioFileError,
    check_slices,
    load_scenario_file,
)
from dagster_project.lib.forecast.scenarios import Adjustment, Scenario, apply_scenario

EXAMPLE = """\
assumptions:
  - name: ranker-v2 launch
    team: search-ranking
    model: ranker-v2
    workload: realtime_inference
    from: 2027-01
    monthly_cost: {base: 8000, best: 5000, worst: 12000}
  - name: training data doubles
    model: recsys-two-tower
    workload: training
    from: 2027-04
    multiplier: {base: 2.0, best: 1.6, worst: 2.4}
"""


def write(tmp_path, text: str):
    path = tmp_path / "scenarios.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp_path, text: str) -> list[str]:
    with pytest.raises(ScenarioFileError) as err:
        load_scenario_file(write(tmp_path, text))
    assert str(tmp_path / "scenarios.yml") in str(err.value)
    return err.value.problems


def test_the_issue_example_parses_into_three_cases(tmp_path):
    sfile = load_scenario_file(write(tmp_path, EXAMPLE))
    launch, doubling = sfile.assumptions
    assert launch.kind == "monthly_cost" and launch.line == 2
    assert launch.slice == {"team": "search-ranking", "ml_model": "ranker-v2",
                            "workload": "realtime_inference"}
    assert launch.values == {"base": 8000.0, "best": 5000.0, "worst": 12000.0}
    assert doubling.from_month == date(2027, 4, 1) and doubling.to_month is None
    scen = {s.name: s for s in sfile.scenarios()}
    assert list(scen) == ["base", "best", "worst"]
    assert scen["worst"].adjustments[1].factor == 2.4
    assert scen["best"].adjustments[0].monthly_cost == 5000.0


@pytest.mark.parametrize("text, expected", [
    ("assumptions:\n  - name: a\n    team: t\n    from: 2027-13\n    multiplier: 2\n",
     "line 4, assumption 'a', field `from`: expected a month YYYY-MM (e.g. 2027-01), got "
     "'2027-13'"),
    ("assumptions:\n  - name: a\n    team: t\n    from: 2027-01\n"
     "    multiplier: {base: 2, best: 2.5, worst: 3}\n",
     "line 5, assumption 'a', field `multiplier`: best ≤ base ≤ worst is required"),
    ("assumptions:\n  - name: a\n    teem: t\n    from: 2027-01\n    multiplier: 2\n",
     "line 3, field `teem`: unknown field"),
    ("assumptions:\n  - name: a\n    team: t\n    from: 2027-01\n    multiplier: 2\n"
     "    monthly_cost: 5\n", "line 2, assumption 'a': `multiplier` and `monthly_cost` together"),
    ("assumptions:\n  - name: a\n    team: t\n    from: 2027-01\n    multiplier: lots\n",
     "line 5, assumption 'a', field `multiplier`: expected a number, got 'lots'"),
    ("assumptions:\n  - name: a\n    team: t\n    from: 2027-01\n    multiplier: -1\n",
     "line 5, assumption 'a', field `multiplier`: -1 is below 0"),
    ("assumptions:\n  - name: a\n    team: t\n    from: 2027-01\n"
     "    multiplier: {base: 2, worst: 3}\n",
     "line 5, assumption 'a', field `multiplier`: missing case(s) best"),
    ("assumptions:\n  - name: a\n    team: t\n    from: 2027-05\n    to: 2027-02\n"
     "    multiplier: 2\n", "line 5, assumption 'a', field `to`: 2027-02 is before `from`"),
    ("assumptions:\n  - name: a\n    team: t\n    from: 2027-01\n    volume: 10\n",
     "assumption 'a', field `unit_cost`: missing"),
    ("scenarios: []\n", "line 1, key `scenarios`: unknown top-level key"),
    ("assumptions:\n  - name: a\n    from: 2027-01\n    multiplier: 2\n"
     "  - name: a\n    from: 2027-02\n    multiplier: 3\n",
     "line 5, assumption 'a': name used twice (first on line 2)"),
    ("assumptions: [\n", "not valid YAML"),
])
def test_bad_files_name_the_line_and_field(tmp_path, text, expected):
    got = problems(tmp_path, text)
    assert any(expected in p for p in got), got


def test_every_problem_of_a_file_is_reported(tmp_path):
    got = problems(tmp_path, "assumptions:\n  - name: a\n    from: 2027-99\n    multiplier: 2\n"
                             "  - name: b\n    from: 2027-01\n    growth_rate: x\n")
    assert len(got) == 2 and got[0].startswith("line 3,") and got[1].startswith("line 7,")


# ------------------------------------------------------------------ against a small mart

MONTHS = [date(2024 + (m - 1) // 12, (m - 1) % 12 + 1, 1) for m in range(1, 13)]


@pytest.fixture
def con():
    return small_mart(duckdb.connect())


def small_mart(c: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Two teams, four segments, 2024-01..2024-12, seeds for the slice check."""
    c.execute("CREATE SCHEMA marts")
    c.execute("CREATE SCHEMA reference")
    c.execute("CREATE TABLE reference.teams (team VARCHAR)")
    c.execute("INSERT INTO reference.teams VALUES ('search'), ('recs'), ('seedonly')")
    c.execute("CREATE TABLE reference.ml_models (ml_model VARCHAR, team VARCHAR)")
    c.execute("INSERT INTO reference.ml_models VALUES ('ranker', 'search'), ('tower', 'recs')")
    c.execute("""CREATE TABLE marts.fct_costs_monthly (billing_month DATE, team VARCHAR,
                 workload VARCHAR, ml_model VARCHAR, provider VARCHAR, service_name VARCHAR,
                 pricing_unit VARCHAR, effective_cost DECIMAL(38,24),
                 pricing_quantity DECIMAL(38,12), billing_currency VARCHAR)""")
    rng = np.random.default_rng(1)
    for i, m in enumerate(MONTHS):
        for team, wl, model, prov, base in (
            ("search", "training", "ranker", "aws", 1000), ("search", "inference", "ranker",
                                                            "gcp", 500),
            ("recs", "training", "tower", "aws", 2000), ("recs", "batch", "tower", "azure", 300),
        ):
            cost = base * (1 + 0.02 * i) + rng.normal(0, 5)
            c.execute("INSERT INTO marts.fct_costs_monthly VALUES (?, ?, ?, ?, ?, 'svc', 'Hours',"
                      " ?, ?, 'USD')", [m, team, wl, model, prov, cost, cost / 2])
    return c


def build(con, tmp_path, text, as_of=date(2024, 12, 1), horizon=6):
    sfile = load_scenario_file(write(tmp_path, text))
    return fc.build_forecasts(con, as_of_month=as_of, horizon=horizon, scenarios=sfile)


def points(con, snap, scenario, level="total", **keys):
    # every key column is bound; a key not given matches anything
    cols = ("team", "workload", "ml_model")
    return [r[0] for r in con.execute(
        "SELECT sum(point) FROM forecast.forecast_values WHERE snapshot_id = ? AND scenario = ? "
        "AND level = ? AND (? OR team = ?) AND (? OR workload = ?) AND (? OR ml_model = ?) "
        "GROUP BY month ORDER BY month",
        [snap, scenario, level, *[v for c in cols for v in (c not in keys, keys.get(c))]],
    ).fetchall()]


def test_without_a_file_base_best_worst_equal_the_baseline(con):
    res = fc.build_forecasts(con, as_of_month=date(2024, 12, 1), horizon=3)
    assert res.scenarios == ["baseline", "base", "best", "worst"]
    rows = con.execute("""SELECT scenario, list(point ORDER BY series_id, month),
                          list(hi_95 ORDER BY series_id, month) FROM forecast.forecast_values
                          GROUP BY scenario""").fetchall()
    by = {s: (p, h) for s, p, h in rows}
    assert by["base"] == by["best"] == by["worst"] == by["baseline"]


def test_kinds_launch_multiplier_growth_volume_and_to(con, tmp_path):
    res = build(con, tmp_path, """\
        assumptions:
          - name: new model
            team: search
            model: ranker-v2
            workload: inference
            from: 2025-02
            monthly_cost: {base: 800, best: 500, worst: 1200}
          - name: tower retires
            model: tower
            workload: batch
            from: 2025-03
            to: 2025-04
            multiplier: 0
          - name: growth
            team: recs
            workload: training
            from: 2025-01
            growth_rate: {base: 0.1, best: 0.0, worst: 0.2}
          - name: api calls
            team: search
            model: llm-api
            from: 2025-05
            volume: {base: 1000, best: 1000, worst: 2000}
            unit_cost: 0.5
            unit: Requests
        """)
    snap = res.snapshot_id
    base, baseline = points(con, snap, "base"), points(con, snap, "baseline")
    recs_tr = points(con, snap, "baseline", "team_workload", team="recs", workload="training")
    batch = points(con, snap, "baseline", "team_workload", team="recs", workload="batch")
    want = []
    for t in range(6):
        g = 1.1 ** (t + 1) - 1  # growth from 2025-01, compounding monthly
        launch = 800 if t >= 1 else 0
        retire = -batch[t] if t in (2, 3) else 0  # 2025-03..04 only
        api = 500 if t >= 4 else 0
        want.append(baseline[t] + launch + retire + recs_tr[t] * Decimal(g) + api)
    assert [round(b - w, 3) for b, w in zip(base, want, strict=True)] == [0] * 6
    # the launched and volume segments exist in every case; best < base < worst
    assert points(con, snap, "worst", "team_model", team="search", ml_model="llm-api")[4:] == \
        [Decimal(1000), Decimal(1000)]
    qty = con.execute("SELECT pricing_quantity FROM forecast.forecast_values WHERE snapshot_id "
                      "= ? AND scenario = 'base' AND level = 'segment' AND ml_model = 'llm-api' "
                      "ORDER BY month", [snap]).fetchall()
    assert [q for (q,) in qty] == [0, 0, 0, 0, 1000, 1000]
    best, worst = points(con, snap, "best"), points(con, snap, "worst")
    assert all(b <= m <= w for b, m, w in zip(best, base, worst, strict=True))
    # hierarchy coherent in every scenario: teams and team x model add up to the total
    for scen in ("base", "best", "worst"):
        total = points(con, snap, scen)
        for level in ("team", "team_model", "team_workload", "segment"):
            assert [round(a - b, 4) for a, b in zip(points(con, snap, scen, level), total,
                                                    strict=True)] == [0] * 6, (scen, level)


def test_multiplier_scales_bands_and_launch_shifts_them(con, tmp_path):
    res = build(con, tmp_path, """\
        assumptions:
          - name: double search
            team: search
            from: 2025-01
            multiplier: 2
          - name: launch
            team: seedonly
            from: 2025-01
            monthly_cost: 100
        """, horizon=2)
    q = ("SELECT point, lo_80, hi_80, hi_95 FROM forecast.forecast_values WHERE snapshot_id = ? "
         "AND scenario = ? AND level = 'team' AND team = ? ORDER BY month")
    for b, d in zip(con.execute(q, [res.snapshot_id, "baseline", "search"]).fetchall(),
                    con.execute(q, [res.snapshot_id, "base", "search"]).fetchall(), strict=True):
        assert all(abs(2 * x - y) < Decimal("0.00001") for x, y in zip(b, d, strict=True))
    launched = con.execute(q, [res.snapshot_id, "base", "seedonly"]).fetchall()
    assert [r[0] for r in launched] == [100, 100]


def test_slice_values_are_checked_against_data_and_seeds(con, tmp_path):
    sfile = load_scenario_file(write(tmp_path, """\
        assumptions:
          - name: typo
            model: rankr
            from: 2025-01
            multiplier: 2
          - name: unknown team launch
            team: nobody
            model: x
            from: 2025-01
            monthly_cost: 5
          - name: seed team ok
            team: seedonly
            from: 2025-01
            multiplier: 2
          - name: team from model
            model: tower
            workload: new-wl
            from: 2025-01
            monthly_cost: 5
        """))
    with pytest.raises(ScenarioFileError) as err:
        check_slices(con, sfile)
    got = err.value.problems
    assert len(got) == 2
    assert got[0].startswith("line 3, assumption 'typo', field `model`: 'rankr' is neither in "
                             "the cost data nor in the reference seeds")
    assert "only an assumption that launches it" in got[0]
    assert got[1].startswith("line 7, assumption 'unknown team launch', field `team`: 'nobody'")
    # the launch without a team takes its model's only team
    ok = load_scenario_file(write(tmp_path, """\
        assumptions:
          - name: team from model
            model: tower
            workload: new-wl
            from: 2025-01
            monthly_cost: 5
        """))
    assert check_slices(con, ok).assumptions[0].slice["team"] == "recs"


def test_a_bad_file_writes_nothing(con, tmp_path):
    path = write(tmp_path, "assumptions:\n  - name: a\n    model: nope\n    from: 2025-01\n"
                           "    multiplier: 2\n")
    with pytest.raises(ScenarioFileError):
        fc.build_forecasts(con, as_of_month=date(2024, 12, 1), horizon=2,
                           scenarios=load_scenario_file(path))
    assert not fc.table_exists(con, "forecast", "forecast_runs")


def test_inverted_cases_are_a_file_error(tmp_path):
    # With ordered values and the reconciliation's non-negative points the cases cannot
    # invert; the check guards that invariant, so it is exercised on hand-made rows.
    from dagster_project.lib.forecast.build import _check_case_order
    from dagster_project.lib.forecast.values import ValueFrame

    sfile = load_scenario_file(write(tmp_path, EXAMPLE))
    frame = ValueFrame([date(2027, 1, 1), date(2027, 2, 1)])
    for case, pts in (("base", [10, 10]), ("best", [9, 11]), ("worst", [12, 12])):
        frame.add(case, "team", {"team": "t"}, None, np.array(pts, dtype=float))
    with pytest.raises(ScenarioFileError) as err:
        _check_case_order(frame, sfile)
    assert 'level team, series ["team", "t"], 2027-02: best 11.00, base 10.00' in str(err.value)
    frame.blocks[1].columns["point"] = np.array([9.0, 10.0])  # best = base is fine
    _check_case_order(frame, sfile)


def test_legacy_kinds_are_the_same_model():
    seg = {"team": "a", "workload": "w", "ml_model": "m", "provider": "aws",
           "service_name": "s", "pricing_unit": None}
    months = [date(2025, m, 1) for m in (1, 2, 3)]
    pts = np.array([[100.0, 100.0, 100.0]])
    qty = np.array([[10.0, 10.0, 10.0]])
    legacy = Scenario("x", (Adjustment("commitment_coverage", provider="aws", pct=50,
                                       discount_pct=40),))
    new = Scenario("x", (Adjustment("multiplier", provider="aws", factor=0.8,
                                    affects="price"),))
    a, b = (apply_scenario(s, [seg], pts, qty, months) for s in (legacy, new))
    assert np.allclose(a.points, b.points) and np.allclose(a.points, 80.0)
    assert np.array_equal(a.qty, qty)  # a price change leaves usage alone


def test_the_asset_takes_scenarios_and_horizon_from_its_config(tmp_path):
    import dagster as dg

    from dagster_project.defs.forecast.assets import forecast_snapshots
    from dagster_project.defs.resources import WarehouseResource

    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as c:
        small_mart(c)
    good = write(tmp_path, "assumptions:\n  - name: launch\n    team: search\n"
                           "    from: 2025-02\n    monthly_cost: 10\n")
    resources = {"warehouse": WarehouseResource(path=str(path))}

    def run(file):
        config = {"ops": {"forecast__forecast_snapshots": {"config": {
            "scenarios": str(file), "horizon": 4}}}}
        return dg.materialize([forecast_snapshots], resources=resources, run_config=config,
                              raise_on_error=False)

    assert run(good).success
    with duckdb.connect(str(path)) as c:
        assert c.execute("SELECT horizon FROM forecast.forecast_snapshots").fetchall() == [(4,)]
        diff = c.execute(
            "SELECT list(b.point - a.point ORDER BY a.month) FROM forecast.forecast_values a "
            "JOIN forecast.forecast_values b USING (snapshot_id, series_id, month) "
            "WHERE a.scenario = 'baseline' AND b.scenario = 'base' AND a.level = 'total'"
        ).fetchall()
        assert diff == [([0, 10, 10, 10],)]
    bad = tmp_path / "bad.yml"
    bad.write_text("assumptions:\n  - name: x\n    team: nobody\n    from: 2025-01\n"
                   "    multiplier: 2\n", encoding="utf-8")
    failed = run(bad)
    assert not failed.success
    text = " ".join(str(e.step_failure_data.error.message) for e in failed.all_events
                    if e.is_step_failure)
    assert "line 3, assumption 'x', field `team`: 'nobody'" in text
    with duckdb.connect(str(path)) as c:
        assert c.execute("SELECT count(*) FROM forecast.forecast_snapshots").fetchall() == [(1,)]
