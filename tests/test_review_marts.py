"""The review pack's headline, bridge, drivers and commentary marts (docs/review-marts.md),
built by dbt (selector `review`) on a copy of the small demo (June-September 2026) with two
hand-made locks: 2026Q3 (as of 2026-06, judged by the variance: complete) and 2026Q2 (as of
2026-03, only June has data: compared to date). Materiality comes from the environment
(MLCOST_MATERIALITY_AMOUNT=100, _PCT=1) so that many variances are material."""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project import settings
from dagster_project.exit_codes import USAGE, ExitError
from dagster_project.lib import forecast as fc
from dagster_project.lib import variance as var
from dagster_project.lib.config import parse_config

try:
    from conftest import run_dbt
except ImportError:  # pragma: no cover - tests/ imported as a package
    from tests.conftest import run_dbt

D = Decimal
CENT = D("0.01")
PLAN_FACTOR = {"2026Q3": D(1), "2026Q2": D("0.9")}  # the plan = June's cost x factor a month
AS_OF = {"2026Q3": date(2026, 6, 1), "2026Q2": date(2026, 3, 1)}
MATERIALITY_ENV = {"MLCOST_MATERIALITY_AMOUNT": "100", "MLCOST_MATERIALITY_PCT": "1"}


def _lock(con: duckdb.DuckDBPyConnection, quarter: str) -> str:
    """A snapshot whose segment plan for each month of ``quarter`` is June 2026's cost and
    quantity x PLAN_FACTOR, locked for the quarter."""
    fc.ensure_schema(con)
    sid = f"hand-{quarter}"
    as_of = AS_OF[quarter]
    con.execute("INSERT INTO forecast.forecast_snapshots VALUES (?, now(), ?, ?, 3, 'hand', "
                "'x', 'x', '{}', 'USD', 0, 0)", [sid, as_of, fc.add_months(as_of, 1)])
    for i, month in enumerate(fc.parse_quarter(quarter)):
        con.execute(
            "INSERT INTO forecast.forecast_values (snapshot_id, scenario, level, series_id, "
            "team, workload, ml_model, provider, service_name, pricing_unit, month, step, "
            "method, point, pricing_quantity) "
            "SELECT ?, 'base', 'segment', concat_ws('/', team, workload, ml_model, provider, "
            "service_name, coalesce(pricing_unit, '-')), team, workload, ml_model, provider, "
            "service_name, pricing_unit, ?, ?, 'hand', sum(effective_cost) * ?, "
            "sum(pricing_quantity) FROM marts.fct_costs_monthly "
            "WHERE billing_month = DATE '2026-06-01' GROUP BY ALL",
            [sid, month, i + 1, PLAN_FACTOR[quarter]])
    con.execute("INSERT INTO forecast.forecast_locks VALUES (?, ?, ?, now())",
                [quarter, sid, as_of])
    return sid


def _dbt(wh: Path, target: Path, args: list[str]) -> None:
    res = run_dbt(wh, target, args, reference_set="demo")
    assert res.success, res.output[-4000:]


@pytest.fixture(scope="module")
def review(demo: Path, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("review-marts")
    wh = tmp / "wh.duckdb"
    shutil.copy(demo / "wh.duckdb", wh)
    # the calendar and budgets the variance reads (the demo fixture builds the cost marts)
    _dbt(wh, tmp / "target", ["build", "--select", "stg_mlcost__budgets", "fct_budgets",
                              "dim_calendar", "--vars", "{calendar_as_of: '2026-11-15'}"])
    with duckdb.connect(str(wh)) as con:
        _lock(con, "2026Q3")
        _lock(con, "2026Q2")
        assert var.compute_quarterly_variance(con, "2026Q3").status == "ok"
        assert var.compute_quarterly_variance(con, "2026Q2").status == "skipped"
    with pytest.MonkeyPatch.context() as mp:
        for k, v in MATERIALITY_ENV.items():
            mp.setenv(k, v)
        _dbt(wh, tmp / "target", ["build", "--selector", "review"])
    return wh


@pytest.fixture(scope="module")
def con(review: Path):
    c = duckdb.connect(str(review), read_only=True)
    yield c
    c.close()


def _rows(con, sql: str, params=None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


HUNDRED, ONE = D(100), D(1)


def _material(amount, pct, threshold=HUNDRED, pct_threshold=ONE) -> bool:
    if amount is None or amount == 0:
        return False
    return abs(amount) >= threshold and (pct is None or abs(pct) >= pct_threshold)


# ------------------------------------------------------------------------------- headline


def test_headline_total_equals_the_variance_export_to_the_cent(review, con, tmp_path):
    from dagster_project import cli

    out = tmp_path / "variance.csv"
    assert cli.main(["export", "variance", "--out", str(out), "--warehouse", str(review)]) == 0
    exported = duckdb.execute("select actual_cost, commitment_effect from read_csv(?) "
                              "where quarter = '2026Q3' and level = 'total'", [str(out)]
                              ).fetchall()
    headline = con.execute("select actual_cost from marts.rpt_review_headline "
                           "where quarter = '2026Q3' and level = 'total'").fetchone()[0]
    assert len(exported) == 1
    assert headline.quantize(CENT) == D(str(exported[0][0])).quantize(CENT)
    months = con.execute("select sum(effective_cost) from marts.fct_costs_monthly where "
                         "billing_month between '2026-07-01' and '2026-09-01'").fetchone()[0]
    assert headline == months  # and exactly the cost mart's quarter


def test_headline_rows_flags_and_materiality(con):
    rows = _rows(con, "select * from marts.rpt_review_headline order by all")
    assert list(rows[0])[:3] == ["quarter", "level", "team"]
    assert {r["quarter"] for r in rows} == {"2026Q2", "2026Q3"}
    teams = {r[0] for r in con.execute("select distinct team from marts.fct_costs_monthly "
                                       "where billing_month >= '2026-07-01'").fetchall()}
    q3 = [r for r in rows if r["quarter"] == "2026Q3"]
    assert {r["team"] for r in q3 if r["level"] == "team"} >= teams
    for r in rows:
        assert (r["materiality_amount"], r["materiality_pct"]) == (D(100), D(1))
        assert r["is_material_vs_forecast"] == _material(r["variance_vs_forecast"],
                                                         r["variance_vs_forecast_pct"])
        assert r["is_material_vs_budget"] == _material(r["variance_vs_budget"],
                                                       r["variance_vs_budget_pct"])
        expected = ("no_forecast" if r["forecast_cost"] is None else "on_plan"
                    if not r["is_material_vs_forecast"] else "unfavourable"
                    if r["variance_vs_forecast"] > 0 else "favourable")
        assert r["forecast_flag"] == expected, r
        if r["budget_amount"] is None:
            assert r["budget_flag"] == "no_budget"
        elif not r["is_material_vs_budget"]:
            assert r["budget_flag"] == "on_budget"
    flags = {r["forecast_flag"] for r in q3}
    assert {"favourable", "unfavourable"} & flags  # the hand plan misses some teams
    for r in q3:
        assert (r["months_with_data"], r["is_quarter_complete"], r["comparison_basis"]) == (
            3, True, "quarter")
        assert r["data_through"] == date(2026, 9, 30)
        assert r["snapshot_id"] == "hand-2026Q3"
    # team rows add up to the total, in every column that adds
    for q in ("2026Q2", "2026Q3"):
        total = next(r for r in rows if r["quarter"] == q and r["level"] == "total")
        team_rows = [r for r in rows if r["quarter"] == q and r["level"] == "team"]
        for col in ("actual_cost", "forecast_cost", "variance_vs_forecast"):
            assert sum(r[col] or 0 for r in team_rows) == total[col], (q, col)


def test_a_running_quarter_is_compared_to_date(con):
    """2026Q2 has only June: its plan is the lock's June, its budget a third of the quarter's."""
    total = _rows(con, "select * from marts.rpt_review_headline "
                       "where quarter = '2026Q2' and level = 'total'")[0]
    assert (total["months_with_data"], total["is_quarter_complete"],
            total["comparison_basis"], total["data_through"]) == (1, False, "months_to_date",
                                                                   date(2026, 6, 30))
    june = con.execute("select sum(effective_cost) from marts.fct_costs_monthly "
                       "where billing_month = '2026-06-01'").fetchone()[0]
    plan = con.execute("select sum(point) from forecast.forecast_values where snapshot_id = "
                       "'hand-2026Q2' and month = '2026-06-01'").fetchone()[0]
    assert total["actual_cost"] == june
    assert total["forecast_cost"] == plan  # June only, not the quarter's three months
    assert total["variance_vs_forecast"] == june - plan
    assert total["variance_vs_forecast_pct"] == ((june - plan) * 100 / plan).quantize(
        D("0.000001"))
    budgets = dict(con.execute("select team, budget_amount from marts.fct_budgets "
                               "where fiscal_quarter = '2026Q2'").fetchall())
    assert budgets, "the demo has 2026Q2 budgets"
    teams = {r["team"]: r for r in _rows(con, "select * from marts.rpt_review_headline "
                                              "where quarter = '2026Q2' and level = 'team'")}
    for team, amount in budgets.items():
        assert teams[team]["budget_amount"] == (amount / 3).quantize(CENT)
    assert total["budget_amount"] == sum(t["budget_amount"] or 0 for t in teams.values())
    assert total["snapshot_id"] == "hand-2026Q2"


# --------------------------------------------------------------------------------- bridge


def test_bridge_copies_the_variance_and_adds_up(con):
    bridge = _rows(con, "select * from marts.rpt_review_bridge order by all")
    source = con.execute("select count(*) from variance.quarterly_variance "
                         "where level in ('total', 'team', 'team_model')").fetchone()[0]
    assert len(bridge) == source > 3
    effects = ("volume_effect", "mix_effect", "price_effect", "commitment_effect",
               "new_discontinued_effect", "unquantified_effect")
    for r in bridge:
        assert r["forecast_cost"] + sum(r[e] for e in effects) == r["actual_cost"]
        assert r["is_material"] == _material(r["variance_vs_forecast"],
                                             r["variance_vs_forecast_pct"])
    total = next(r for r in bridge if r["level"] == "total")
    assert total["commitment_effect"] != 0  # the demo's commitments move between months
    assert total["actual_cost"] == con.execute(
        "select actual_cost from variance.quarterly_variance where quarter = '2026Q3' "
        "and level = 'total'").fetchone()[0]


# -------------------------------------------------------------------------------- drivers


def test_drivers_explain_each_material_variance_exactly(con):
    parents = {(r["team"], r["ml_model"] if r["level"] == "team_model" else None): r
               for r in _rows(con, "select * from marts.rpt_review_bridge where is_material "
                                   "and level in ('team', 'team_model')")}
    assert len(parents) >= 3
    drivers = _rows(con, "select * from marts.fct_variance_drivers")
    sums: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    ranks: dict[tuple, list[int]] = defaultdict(list)
    for d in drivers:
        key = (d["team"], d["ml_model"], d["driver_kind"])
        sums[key]["delta"] += d["delta_cost"]
        sums[key]["expected"] += d["expected_cost"]
        sums[key]["actual"] += d["actual_cost"]
        ranks[key].append(d["driver_rank"])
        assert d["delta_cost"] == d["actual_cost"] - d["expected_cost"]
    assert {k[:2] for k in sums} == set(parents)  # drivers for material parents only
    for (team, model, kind), s in sums.items():
        parent = parents[(team, model)]
        assert s["delta"] == parent["variance_vs_forecast"], (team, model, kind)
        assert s["expected"] == parent["forecast_cost"]
        assert s["actual"] == parent["actual_cost"]
        assert sorted(ranks[(team, model, kind)]) == list(range(1, len(ranks[(team, model,
                                                                              kind)]) + 1))
    # rank 1 is the largest abs delta; share_of_variance = delta / the parent's variance
    for d in drivers:
        parent = parents[(d["team"], d["ml_model"])]
        assert d["share_of_variance"] == (
            d["delta_cost"] / parent["variance_vs_forecast"]).quantize(D(1).scaleb(-12))
    top = {(d["team"], d["ml_model"], d["driver_kind"]): d for d in drivers
           if d["driver_rank"] == 1}
    for d in drivers:
        assert abs(d["delta_cost"]) <= abs(top[(d["team"], d["ml_model"],
                                                d["driver_kind"])]["delta_cost"])


def test_a_drivers_expected_cost_is_its_reference_share_of_the_plan(con):
    """By hand for one team: expected = forecast x (the resource's June cost / the team's June
    cost, 10 decimals), except the rank-1 share that takes the rounding remainder."""
    parent = _rows(con, "select * from marts.rpt_review_bridge where is_material and level = "
                        "'team' order by abs(variance_vs_forecast) desc limit 1")[0]
    june = dict(con.execute(
        "select coalesce(resource_id, '(no resource id) ' || provider || ' ' || "
        "coalesce(service_name, '')), sum(effective_cost) from marts.fct_cost_allocations "
        "where team = ? and billing_month between '2026-04-01' and '2026-06-01' group by 1",
        [parent["team"]]).fetchall())
    total = sum(june.values())
    rows = _rows(con, "select driver_key, expected_cost from marts.fct_variance_drivers where "
                      "team = ? and ml_model is null and driver_kind = 'resource'",
                 [parent["team"]])
    biggest = max(june, key=lambda k: (june[k], k))
    checked = 0
    for r in rows:
        if r["driver_key"] in june and r["driver_key"] != biggest:
            share = (june[r["driver_key"]] / total).quantize(D(1).scaleb(-10))
            expected = parent["forecast_cost"].quantize(D(1).scaleb(-14)) * share
            assert abs(r["expected_cost"] - expected) < D("1e-9"), r
            checked += 1
    assert checked >= 3


# ----------------------------------------------------------------------------- commentary


def test_commentary_facts_one_per_material_variance(con):
    bridge = _rows(con, "select * from marts.rpt_review_bridge where is_material")
    facts = _rows(con, "select * from marts.rpt_review_commentary_facts order by fact_rank")
    assert len(facts) == len(bridge) > 0
    assert [f["fact_rank"] for f in facts] == list(range(1, len(facts) + 1))
    if any(b["level"] == "total" for b in bridge):
        assert facts[0]["level"] == "total"
    rest = [abs(f["variance_vs_forecast"]) for f in facts if f["level"] != "total"]
    assert rest == sorted(rest, reverse=True)
    effects = ("volume_effect", "mix_effect", "price_effect", "commitment_effect",
               "new_discontinued_effect", "unquantified_effect")
    by_key = {(b["level"], b["team"], b["ml_model"]): b for b in bridge}
    for f in facts:
        b = by_key[(f["level"], f["team"], f["ml_model"])]
        assert f["variance_vs_forecast"] == b["variance_vs_forecast"]
        assert f["direction"] == ("over" if b["variance_vs_forecast"] > 0 else "under")
        biggest = max(effects, key=lambda e: (abs(b[e]), -effects.index(e)))
        assert (f["dominant_effect"], f["dominant_effect_amount"]) == (biggest, b[biggest])
        assert f["source_table"].startswith("marts.rpt_review_bridge")
        if f["level"] == "total":
            assert f["top_driver_key"] is None
            continue
        model = f["ml_model"] if f["level"] == "team_model" else None
        top = con.execute(
            "select driver_key, delta_cost, expected_cost from marts.fct_variance_drivers "
            "where quarter = ? and team = ? and ml_model is not distinct from ? and "
            "driver_kind = 'resource' and driver_rank = 1", [f["quarter"], f["team"], model]
        ).fetchone()
        assert (f["top_driver_kind"], f["top_driver_key"], f["top_driver_delta"]) == (
            "resource", top[0], top[1])
        if top[2]:
            assert f["top_driver_growth_pct"] == (top[1] * 100 / top[2]).quantize(
                D("0.000001"))
        assert "marts.fct_variance_drivers" in f["source_table"]


# ------------------------------------------------------------------ materiality and inputs


def test_defaults_and_a_warehouse_without_variance_or_forecast(review, tmp_path):
    """No MLCOST_MATERIALITY_* and no variance/forecast tables yet: the marts still build, the
    headline compares actuals with budgets only, at the default 1000 / 5."""
    wh = tmp_path / "wh.duckdb"
    shutil.copy(review, wh)
    with duckdb.connect(str(wh)) as c:
        c.execute("DROP SCHEMA variance CASCADE")
        c.execute("DROP SCHEMA forecast CASCADE")
    _dbt(wh, tmp_path / "target", ["build", "--selector", "review"])
    with duckdb.connect(str(wh), read_only=True) as c:
        for sql in ("select count(*) from marts.rpt_review_bridge",
                    "select count(*) from marts.fct_variance_drivers",
                    "select count(*) from marts.rpt_review_commentary_facts"):
            assert c.execute(sql).fetchone() == (0,), sql
        rows = _rows(c, "select * from marts.rpt_review_headline")
    assert rows and {r["forecast_flag"] for r in rows} == {"no_forecast"}
    # a complete quarter compared here covers the whole quarter, a running one its months
    assert {(r["quarter"], r["comparison_basis"], r["months_with_data"]) for r in rows} == {
        ("2026Q2", "months_to_date", 1), ("2026Q3", "quarter", 3)}
    budgets = {r["team"]: r["budget_amount"] for r in rows if r["quarter"] == "2026Q3"}
    assert budgets["search-ranking"] == D("44100")  # the demo's whole-quarter budget
    assert {(r["materiality_amount"], r["materiality_pct"]) for r in rows} == {(D(1000), D(5))}
    for r in rows:
        assert r["is_material_vs_budget"] == _material(
            r["variance_vs_budget"], r["variance_vs_budget_pct"], D(1000), D(5))


def test_a_bad_materiality_value_is_refused(review, tmp_path):
    wh = tmp_path / "wh.duckdb"
    shutil.copy(review, wh)
    res = run_dbt(wh, tmp_path / "target",
                  ["run", "--select", "rpt_review_bridge", "--vars",
                   "{materiality_amount: '10; drop table x'}"], reference_set="demo")
    assert not res.success
    assert "is not a materiality threshold" in res.output


def test_materiality_from_mlcost_toml_and_the_environment(tmp_path, monkeypatch):
    cfg = tmp_path / "mlcost.toml"
    cfg.write_text("materiality_amount = 2500\nmateriality_pct = 2.5\n")
    parsed = parse_config(cfg)
    assert (parsed.materiality_amount, parsed.materiality_pct) == ("2500", "2.5")
    monkeypatch.setenv("MLCOST_CONFIG", str(cfg))
    monkeypatch.delenv("MLCOST_MATERIALITY_AMOUNT", raising=False)
    monkeypatch.delenv("MLCOST_MATERIALITY_PCT", raising=False)
    assert settings.materiality("materiality_amount") == "2500"
    monkeypatch.setenv("MLCOST_MATERIALITY_PCT", "7")
    assert settings.materiality("materiality_pct") == "7"  # environment over the file
    settings.export_env()
    assert settings.os.environ["MLCOST_MATERIALITY_AMOUNT"] == "2500"
    monkeypatch.setenv("MLCOST_CONFIG", "")
    monkeypatch.delenv("MLCOST_MATERIALITY_AMOUNT")
    assert settings.materiality("materiality_amount") == "1000"  # the default
    for bad in ("-5", '"lots"', "true", '"1e3"', "[1]"):
        cfg.write_text(f"materiality_amount = {bad}\n")
        with pytest.raises(ExitError) as err:
            parse_config(cfg)
        assert err.value.code == USAGE and "materiality_amount" in str(err.value)
    monkeypatch.setenv("MLCOST_MATERIALITY_AMOUNT", "ten")
    with pytest.raises(ExitError) as err:
        settings.materiality("materiality_amount")
    assert err.value.code == USAGE and "MLCOST_MATERIALITY_AMOUNT" in str(err.value)
