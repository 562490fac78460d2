"""Tests for dagster_project.lib.forecast (synthetic data, temp DuckDB)."""

from __future__ import annotations

import json
import math
from datetime import date
from decimal import Decimal

import duckdb
import numpy as np
import pytest

from dagster_project.lib import calendar
from dagster_project.lib import forecast as fc

from . import planning_marts

START = date(2024, 1, 1)

# (team, workload, ml_model, provider, service_name, pricing_unit, unit price)
SEGMENTS = [
    ("search-ranking", "training", "ranker-v2", "aws", "Amazon SageMaker", "Hours", 32.0),
    ("search-ranking", "training", "ranker-v2", "gcp", "Vertex AI", "Hours", 28.0),
    ("search-ranking", "realtime_inference", "ranker-v2", "aws", "Amazon EC2", "Hours", 4.0),
    ("search-ranking", "storage", "none", "aws", "Amazon S3", "GB-Mo", 0.023),
    ("recsys", "training", "two-tower", "gcp", "Vertex AI", "Hours", 28.0),
    ("recsys", "batch_inference", "two-tower", "gcp", "Compute Engine", "Hours", 2.5),
    ("recsys", "shared", "none", "azure", "Support", None, None),
    ("vision", "experimentation", "detector", "azure", "Azure Machine Learning", "Hours", 3.1),
    ("vision", "realtime_inference", "detector", "aws", "Amazon SageMaker", "Hours", 1.2),
]

DDL = """
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE marts.fct_costs_monthly (
    billing_month DATE, provider VARCHAR, team VARCHAR, ml_model VARCHAR, workload VARCHAR,
    service_category VARCHAR, service_name VARCHAR, pricing_unit VARCHAR,
    billing_currency VARCHAR, billed_cost DECIMAL(38,24), effective_cost DECIMAL(38,24),
    list_cost DECIMAL(38,24), pricing_quantity DECIMAL(38,24)
);
CREATE TABLE raw.budgets (
    fiscal_quarter VARCHAR, team VARCHAR, budget_amount VARCHAR, currency VARCHAR
);
"""


def add_months(d: date, n: int) -> date:
    return fc.add_months(d, n)


def synthetic_rows(months: int = 24, start: date = START, seed: int = 7) -> list[tuple]:
    """Trend + yearly seasonality + a launch (vision realtime inference from month 15)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s_idx, (team, wl, model, prov, svc, unit, price) in enumerate(SEGMENTS):
        base = 2000.0 + 1500.0 * s_idx
        for t in range(months):
            month = add_months(start, t)
            if (team, wl) == ("vision", "realtime_inference") and t < 15:
                continue  # launch
            season = 1.0 + 0.15 * math.sin(2 * math.pi * (month.month - 1) / 12)
            cost = (base + 60.0 * t * (1 + s_idx % 3)) * season * rng.normal(1.0, 0.02)
            if (team, wl) == ("vision", "realtime_inference"):
                cost = 9000.0 + 400.0 * (t - 15)
            cost = round(cost, 6)
            qty = None if unit is None else Decimal(repr(round(cost / price, 6)))
            rows.append(
                (month, prov, team, model, wl, "AI and Machine Learning", svc, unit, "USD",
                 Decimal(repr(cost)), Decimal(repr(cost)), Decimal(repr(cost)), qty)
            )
    return rows


def make_db(
    con: duckdb.DuckDBPyConnection, rows: list[tuple] | None = None, budgets: bool = True
) -> duckdb.DuckDBPyConnection:
    con.execute(DDL)
    rows = synthetic_rows() if rows is None else rows
    if rows:
        con.executemany(
            "INSERT INTO marts.fct_costs_monthly VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    if budgets:
        con.executemany(
            "INSERT INTO raw.budgets VALUES (?, ?, ?, ?)",
            [
                ("2025Q3", "search-ranking", "150000.00", "USD"),
                ("2025Q3", "recsys", "120000.00", "USD"),
                ("2025Q3", "vision", "90000.00", "USD"),
                ("2025Q4", "search-ranking", "160000.00", "USD"),
            ],
        )
    return con


@pytest.fixture
def con():
    c = duckdb.connect()
    make_db(c)
    yield c
    c.close()


def values(con, snapshot_id, **filters):
    sql = (
        "SELECT month, point, lo_80, hi_80, lo_95, hi_95, method, base_point "
        "FROM forecast.forecast_values WHERE snapshot_id = ? AND scenario = ? AND level = ? "
        "AND series_id = ? ORDER BY month"
    )
    return con.execute(
        sql,
        [snapshot_id, filters.get("scenario", "baseline"), filters["level"], filters["series_id"]],
    ).fetchall()


def sid(level, *parts):
    return json.dumps([level, *parts])


# --------------------------------------------------------------------------------------------


def test_forecast_series_linear_trend_is_accurate():
    y = 1000.0 + 50.0 * np.arange(24)
    f = fc.forecast_series(y, 6)
    expected = 1000.0 + 50.0 * np.arange(24, 30)
    assert np.allclose(f.mean, expected, rtol=0.01), (f.model, f.mean)
    selected = [m for m in f.metrics if m.selected]
    assert len(selected) == 1 and selected[0].model == f.model
    assert selected[0].n_windows == fc.BACKTEST_WINDOWS and selected[0].mase is not None


def test_forecast_series_short_and_zero_series():
    f = fc.forecast_series(np.array([0.0, 0.0, 10.0, 12.0, 11.0]), 3)
    assert f.model == "Naive" and np.allclose(f.mean, 11.0)
    assert "too short" in f.metrics[0].note
    z = fc.forecast_series(np.zeros(12), 3)
    assert z.model == "Zero" and not z.mean.any()


def test_build_forecasts_levels_intervals_and_backtests(con):
    res = fc.build_forecasts(con, as_of_month=date(2025, 12, 1), horizon=6)
    assert res.status == "created" and res.snapshot_id.startswith("fc_202512_")
    levels = dict(
        con.execute(
            "SELECT level, count(DISTINCT series_id) FROM forecast.forecast_values "
            "WHERE snapshot_id = ? AND scenario = 'baseline' GROUP BY level",
            [res.snapshot_id],
        ).fetchall()
    )
    assert levels == {"total": 1, "team": 3, "team_workload": 8, "team_model": 5, "segment": 9}
    # money columns are DECIMAL
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'forecast' AND table_name = 'forecast_values'"
        ).fetchall()
    )
    assert all(types[c] == "DECIMAL(38,6)" for c in ("point", "lo_80", "hi_80", "lo_95", "hi_95"))
    # every interval contains its point, 95% contains 80%, and intervals widen with horizon
    rows = con.execute(
        "SELECT series_id, step, point, lo_80, hi_80, lo_95, hi_95 FROM forecast.forecast_values "
        "WHERE snapshot_id = ? AND level <> 'segment' AND scenario = 'baseline' "
        "ORDER BY series_id, step",
        [res.snapshot_id],
    ).fetchall()
    assert rows
    widths: dict[str, list[Decimal]] = {}
    for series, _step, p, lo80, hi80, lo95, hi95 in rows:
        assert lo95 <= lo80 <= p <= hi80 <= hi95
        widths.setdefault(series, []).append(hi95 - lo95)
    total_w = widths[sid("total")]
    assert total_w[-1] > total_w[0]
    assert all(b >= a - Decimal("0.01") for a, b in zip(total_w, total_w[1:], strict=False))
    # backtest metrics stored for every level series, exactly one selected model each
    bt = con.execute(
        "SELECT series_id, count(*) FILTER (WHERE selected), max(n_windows), "
        "count(*) FILTER (WHERE mase IS NOT NULL AND coverage_80 IS NOT NULL) "
        "FROM forecast.backtest_metrics WHERE snapshot_id = ? GROUP BY series_id",
        [res.snapshot_id],
    ).fetchall()
    assert len(bt) == 1 + 3 + 8 + 5
    assert all(r[1] == 1 for r in bt)
    assert any(r[2] == fc.BACKTEST_WINDOWS and r[3] >= 4 for r in bt)


def test_reconciled_levels_are_coherent(con):
    res = fc.build_forecasts(con, as_of_month=date(2025, 12, 1), horizon=3)
    rows = con.execute(
        "SELECT month, level, sum(point) FROM forecast.forecast_values "
        "WHERE snapshot_id = ? AND scenario = 'baseline' GROUP BY ALL",
        [res.snapshot_id],
    ).fetchall()
    by_month: dict[date, dict[str, Decimal]] = {}
    for month, level, total in rows:
        by_month.setdefault(month, {})[level] = total
    for sums in by_month.values():
        for level in ("team", "team_workload", "team_model", "segment"):
            assert abs(sums[level] - sums["total"]) < Decimal("0.0001"), (level, sums)


def test_total_trend_forecast_within_tolerance():
    rows = []
    for t in range(18):
        cost = Decimal(1000 + 100 * t)
        rows.append((fc.add_months(START, t), "aws", "t", "none", "training", "AI", "EC2",
                     "Hours", "USD", cost, cost, cost, cost / 2))
    c = make_db(duckdb.connect(), rows, budgets=False)
    res = fc.build_forecasts(c, as_of_month=fc.add_months(START, 17), horizon=4)
    got = values(c, res.snapshot_id, level="total", series_id=sid("total"))
    expected = [1000 + 100 * t for t in range(18, 22)]
    for (_m, point, *_), exp in zip(got, expected, strict=True):
        assert abs(float(point) - exp) / exp < 0.02
    seg = c.execute(
        "SELECT pricing_quantity, point FROM forecast.forecast_values "
        "WHERE snapshot_id = ? AND level = 'segment' ORDER BY month",
        [res.snapshot_id],
    ).fetchall()
    assert all(abs(q * 2 - p) < Decimal("0.001") for q, p in seg)  # plan price = run rate


def test_snapshots_are_immutable_and_reused(con):
    first = fc.build_forecasts(con, as_of_month=date(2025, 9, 1))
    before = con.execute(
        "SELECT * FROM forecast.forecast_values WHERE snapshot_id = ? ORDER BY ALL",
        [first.snapshot_id],
    ).fetchall()
    again = fc.build_forecasts(con, as_of_month=date(2025, 9, 1))
    assert again.status == "reused" and again.snapshot_id == first.snapshot_id
    assert con.execute("SELECT count(*) FROM forecast.forecast_snapshots").fetchall()[0][0] == 1
    # data after the as_of month does not change the snapshot
    con.execute(
        "UPDATE marts.fct_costs_monthly SET effective_cost = effective_cost * 2 "
        "WHERE billing_month > DATE '2025-09-01'"
    )
    assert fc.build_forecasts(con, as_of_month=date(2025, 9, 1)).snapshot_id == first.snapshot_id
    # a restatement inside the history creates a new snapshot and leaves the old one alone
    con.execute(
        "UPDATE marts.fct_costs_monthly SET effective_cost = effective_cost + 1 "
        "WHERE billing_month = DATE '2025-03-01' AND team = 'recsys'"
    )
    changed = fc.build_forecasts(con, as_of_month=date(2025, 9, 1))
    assert changed.status == "created" and changed.snapshot_id != first.snapshot_id
    after = con.execute(
        "SELECT * FROM forecast.forecast_values WHERE snapshot_id = ? ORDER BY ALL",
        [first.snapshot_id],
    ).fetchall()
    assert after == before
    runs = con.execute(
        "SELECT status, count(*) FROM forecast.forecast_runs GROUP BY status"
    ).fetchall()
    assert dict(runs) == {"created": 2, "reused": 2}


def test_scenarios_change_only_what_they_target(con):
    scenarios = [
        {"name": "recsys_growth", "adjustments": [
            {"kind": "growth_pct", "team": "recsys", "pct": 10.0}]},
        {"name": "new_llm", "adjustments": [
            {"kind": "launch", "team": "genai", "workload": "training", "ml_model": "llm-1",
             "from_month": date(2026, 2, 1), "monthly_cost": 5000.0}]},
        {"name": "savings_plan", "adjustments": [
            {"kind": "commitment_coverage", "provider": "aws", "pct": 50.0,
             "discount_pct": 40.0}]},
    ]
    res = fc.build_forecasts(con, as_of_month=date(2025, 12, 1), horizon=3, scenarios=scenarios)
    assert res.scenarios == ["baseline", "base", "best", "worst", "recsys_growth", "new_llm",
                             "savings_plan"]

    def total(scenario, level="total", series=None):
        return [r[1] for r in values(con, res.snapshot_id, scenario=scenario, level=level,
                                     series_id=series or sid("total"))]

    base = total("baseline")
    recsys = total("baseline", "team", sid("team", "recsys"))
    grown = total("recsys_growth")
    for b, r, g in zip(base, recsys, grown, strict=True):
        assert abs(g - (b + r * Decimal("0.1"))) < Decimal("0.001")
    launched = total("new_llm")
    assert launched[0] == base[0] and abs(launched[1] - base[1] - 5000) < Decimal("0.001")
    genai = total("new_llm", "team", sid("team", "genai"))
    assert genai == [0, 5000, 5000]  # zero before the launch month
    aws = con.execute(
        "SELECT sum(point) FROM forecast.forecast_values WHERE snapshot_id = ? "
        "AND scenario = 'baseline' AND level = 'segment' AND provider = 'aws' GROUP BY month "
        "ORDER BY month",
        [res.snapshot_id],
    ).fetchall()
    saved = total("savings_plan")
    for b, a, s in zip(base, aws, saved, strict=True):
        assert abs(s - (b - a[0] * Decimal("0.2"))) < Decimal("0.001")
    # intervals of scenarios still contain the point
    lo, hi = con.execute(
        "SELECT min(point - lo_80), min(hi_80 - point) FROM forecast.forecast_values "
        "WHERE snapshot_id = ? AND lo_80 IS NOT NULL",
        [res.snapshot_id],
    ).fetchall()[0]
    assert lo >= 0 and hi >= 0


def test_short_history_is_skipped_with_reason():
    rows = [r for r in synthetic_rows(months=2)]
    c = make_db(duckdb.connect(), rows)
    res = fc.build_forecasts(c, as_of_month=date(2024, 2, 1))
    assert res.status == "skipped" and res.snapshot_id is None
    assert "history too short" in res.reason
    run = c.execute("SELECT status, reason FROM forecast.forecast_runs").fetchall()
    assert run == [("skipped", res.reason)]
    assert fc.ensure_locked_forecast(c, "2024Q2") is None
    empty = make_db(duckdb.connect(), [])
    assert fc.build_forecasts(empty).status == "skipped"
    none = duckdb.connect()
    assert "not found" in fc.build_forecasts(none).reason


def test_locked_forecast_uses_only_data_before_the_quarter(con):
    snap = fc.ensure_locked_forecast(con, "2025Q3")
    meta = con.execute(
        "SELECT as_of_month FROM forecast.forecast_snapshots WHERE snapshot_id = ?", [snap]
    ).fetchall()
    assert meta == [(date(2025, 6, 1),)]
    truncated = duckdb.connect()
    make_db(truncated, [r for r in synthetic_rows() if r[0] <= date(2025, 6, 1)])
    direct = fc.build_forecasts(truncated, as_of_month=date(2025, 6, 1),
                                horizon=fc.DEFAULT_HORIZON)
    assert direct.snapshot_id == snap  # same data fingerprint -> same id
    # the lock never moves, even when history is restated later
    con.execute("UPDATE marts.fct_costs_monthly SET effective_cost = effective_cost + 5")
    assert fc.ensure_locked_forecast(con, "2025Q3") == snap
    assert fc.locked_snapshot(con, "2025Q4") is None
    with pytest.raises(ValueError):
        fc.parse_quarter("2025-Q3")


def test_open_month_is_not_used(con, monkeypatch):
    monkeypatch.setattr(calendar, "_today", lambda: date(2025, 12, 15))
    res = fc.build_forecasts(con)
    assert res.as_of_month == date(2025, 11, 1)
    res = fc.build_forecasts(con, as_of_month=date(2025, 12, 1))
    assert res.status == "skipped" and "not closed" in res.reason


def test_null_keys_and_repeated_launches():
    rows = [r if r[4] != "storage" else (*r[:4], None, *r[5:]) for r in synthetic_rows(12)]
    c = make_db(duckdb.connect(), rows)
    launch = {"kind": "launch", "team": "t", "workload": "training", "monthly_cost": 100.0}
    res = fc.build_forecasts(
        c, as_of_month=date(2024, 12, 1), horizon=2,
        scenarios=[{"name": "twice", "adjustments": [launch, launch]}],
    )
    assert res.status == "created"
    got = c.execute(
        "SELECT point FROM forecast.forecast_values WHERE snapshot_id = ? AND scenario = 'twice' "
        "AND level = 'team' AND team = 't'",
        [res.snapshot_id],
    ).fetchall()
    assert got == [(Decimal(200),), (Decimal(200),)]
    nulls = c.execute(
        "SELECT count(*) FROM forecast.forecast_values WHERE snapshot_id = ? "
        "AND level = 'team_workload' AND workload IS NULL",
        [res.snapshot_id],
    ).fetchall()[0][0]
    assert nulls == 5 * 2  # one series per scenario (baseline, base, best, worst, twice)


def test_parallel_fits_give_identical_results():
    rng = np.random.default_rng(3)
    items = [((i,), 100 + rng.normal(0, 5, 10).cumsum()) for i in range(fc.PARALLEL_MIN_SERIES)]
    one = fc.forecast_all(items, 3, 1)
    two = fc.forecast_all(items, 3, 2)
    assert list(one) == list(two)
    for k in one:
        assert one[k].model == two[k].model and np.array_equal(one[k].hi_95, two[k].hi_95)


def test_quarter_locks_are_an_asset_of_the_forecast_stage(tmp_path, monkeypatch):
    import dagster as dg

    from dagster_project.definitions import defs
    from dagster_project.defs.forecast import locks as lock_defs
    from dagster_project.defs.resources import WarehouseResource

    graph = defs.resolve_asset_graph()
    key = dg.AssetKey(["forecast", "forecast_locks"])
    assert dg.AssetKey(["forecast", "forecast_snapshots"]) in graph.get(key).parent_keys

    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as c:
        make_db(c)  # actuals 2024-01 .. 2025-12
        planning_marts.build(c, as_of="2026-01-15")  # the complete-quarter rule is dbt's
    monkeypatch.setattr(calendar, "_today", lambda: date(2026, 1, 15))
    monkeypatch.setattr(lock_defs, "VARIANCE_QUARTERS", 2)
    res = dg.materialize([lock_defs.forecast_locks],
                         resources={"warehouse": WarehouseResource(path=str(path))})
    assert res.success
    meta = res.asset_materializations_for_node("forecast__forecast_locks")[0].metadata
    # the two complete quarters, and the current one (locked at its start)
    assert meta["locked"].value == 3 and meta["unlocked"].value == []
    with duckdb.connect(str(path)) as c:
        locks = c.execute(
            "SELECT quarter, as_of_month, snapshot_id FROM forecast.forecast_locks ORDER BY 1"
        ).fetchall()
        assert [(q, a) for q, a, _ in locks] == [("2025Q3", date(2025, 6, 1)),
                                                ("2025Q4", date(2025, 9, 1)),
                                                ("2026Q1", date(2025, 12, 1))]
        assert meta["locks"].value == {q: s for q, _, s in locks}
        # the locked snapshot is the forecast of the months before the quarter
        assert c.execute(
            "SELECT as_of_month FROM forecast.forecast_snapshots WHERE snapshot_id = ?",
            [locks[0][2]]).fetchall() == [(date(2025, 6, 1),)]
    again = dg.materialize([lock_defs.forecast_locks],
                           resources={"warehouse": WarehouseResource(path=str(path))})
    meta2 = again.asset_materializations_for_node("forecast__forecast_locks")[0].metadata
    assert meta2["locks"].value == meta["locks"].value  # a lock is never rewritten


def test_table_exists_leaves_the_connection_usable():
    c = duckdb.connect()
    assert not fc.table_exists(c, "forecast", "forecast_locks")
    fc.ensure_schema(c)
    assert fc.table_exists(c, "forecast", "forecast_locks")
    # a streamed read right after: fails if table_exists left a result half-read
    assert c.sql("SELECT 1 AS x").to_arrow_reader(10).read_all().num_rows == 1
