"""The review pack's section marts (issue #17, contracts 6-11; docs/review-marts.md) on the
pinned demo run end to end (`mlcost demo`: forecasts, locks, anomalies, recommendations),
each figure recomputed here in Python from the tables the marts read; and the data-quality
checks on a scratch copy whose ledger and deliveries the tests change."""

from __future__ import annotations

import datetime as dt
import decimal
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.calendar import add_months, quarter_of

from .conftest import run_dbt

TOL = Decimal("1e-9")


@pytest.fixture(autouse=True)
def _exact_sums():
    """Python's default 28 significant digits would round sums of DECIMAL(38,24) money."""
    with decimal.localcontext(decimal.Context(prec=80)):
        yield


def rows(con, sql: str, params=None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


@pytest.fixture(scope="module")
def review(pinned_demo) -> Path:
    """The pinned demo (`mlcost demo --end-month 2026-09`, 36 months: locked forecasts of past
    quarters), whose run built the review marts and their tests (asset
    dbt_recommendations_and_review). Read-only: the data-quality test changes a copy."""
    return pinned_demo


@pytest.fixture(scope="module")
def con(review):
    c = duckdb.connect(str(review / "wh.duckdb"), read_only=True)
    yield c
    c.close()


# ------------------------------------------------------------------ accuracy

def _scored(con) -> list[dict]:
    """forecast.forecast_accuracy at total/team level, horizons 1-18, base (else baseline)."""
    raw = rows(con, """select snapshot_id, scenario, level, team, month, horizon, point, actual,
                              in_band_80, in_band_95
                       from forecast.forecast_accuracy
                       where level in ('total', 'team') and horizon between 1 and 18""")
    has_base = {r["snapshot_id"] for r in raw if r["scenario"] == "base"}
    return [r for r in raw
            if r["scenario"] == ("base" if r["snapshot_id"] in has_base else "baseline")]


def test_accuracy_recomputed_from_the_track_record(con):
    points = _scored(con)
    assert {p["level"] for p in points} == {"total", "team"}, "the demo has no locked forecast"
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for p in points:
        for scope in ("all", quarter_of(p["month"])):
            groups[(p["level"], p["horizon"], scope)].append(p)
    mart = {(r["level"], r["horizon"], r["quarter_scope"]): r
            for r in rows(con, "from marts.rpt_review_accuracy")}
    assert set(mart) == set(groups)
    for key, ps in groups.items():
        r = mart[key]
        abs_err = sum(abs(Decimal(p["actual"]) - Decimal(p["point"])) for p in ps)
        abs_act = sum(abs(Decimal(p["actual"])) for p in ps)
        err = sum(Decimal(p["actual"]) - Decimal(p["point"]) for p in ps)
        act = sum(Decimal(p["actual"]) for p in ps)
        assert r["n_points"] == len(ps), key
        assert r["snapshots"] == len({p["snapshot_id"] for p in ps}), key
        assert abs(r["wape"] - abs_err / abs_act) < TOL, key
        assert abs(r["bias_pct"] - 100 * err / act) < TOL, key
        cov80 = Decimal(sum(p["in_band_80"] for p in ps)) / len(ps)
        assert abs(r["coverage_80"] - cov80) < TOL, key
    # several horizons are scored: the locks of several past quarters
    assert len({h for (lvl, h, s) in mart if lvl == "total" and s == "all"}) >= 3


def test_accuracy_points_are_the_total_level_one_per_snapshot_and_month(con):
    expected = {(p["snapshot_id"], p["month"]): p for p in _scored(con) if p["level"] == "total"}
    got = rows(con, "from marts.rpt_review_accuracy_points")
    assert len(got) == len(expected) > 0
    for r in got:
        p = expected[(r["snapshot_id"], r["month"])]
        assert r["quarter"] == quarter_of(r["month"])
        assert r["horizon"] == p["horizon"] and r["scenario"] == p["scenario"]
        assert r["point"] == p["point"] and r["actual"] == p["actual"]
        assert r["error"] == r["actual"] - r["point"]
    locked = {q for (q,) in con.execute("select quarter from forecast.forecast_locks").fetchall()}
    assert {r["locked_quarter"] for r in got} <= locked


# ------------------------------------------------------------------ outlook

def test_outlook_is_the_latest_snapshot_with_its_scenarios_and_a_year_of_actuals(con):
    latest, as_of = con.execute(
        "select snapshot_id, as_of_month from forecast.forecast_snapshots "
        "order by as_of_month desc, created_at desc, snapshot_id desc limit 1").fetchone()
    got = rows(con, "from marts.rpt_review_outlook order by scenario, month")
    assert {r["snapshot_id"] for r in got} == {latest}
    by_scenario = defaultdict(list)
    for r in got:
        by_scenario[r["scenario"]].append(r)
    assert set(by_scenario) == {"actual", "base", "best", "worst"}  # the demo has scenarios
    values = {(s, m): Decimal(p) for s, m, p in con.execute(
        "select scenario, month, point from forecast.forecast_values where snapshot_id = ? "
        "and level = 'total' and step between 1 and 18", [latest]).fetchall()}
    for scenario in ("base", "best", "worst"):
        months = [r["month"] for r in by_scenario[scenario]]
        assert months == [add_months(as_of, i) for i in range(1, len(months) + 1)]
        assert 1 <= len(months) <= 18
        for r in by_scenario[scenario]:
            assert r["point"] == values[(scenario, r["month"])]
            assert r["lo_80"] <= r["point"] <= r["hi_80"] and r["lo_95"] <= r["lo_80"]
    actuals = dict(con.execute(
        "select billing_month, sum(effective_cost) from marts.fct_costs_monthly "
        "where billing_month > ? and billing_month <= ? group by 1",
        [add_months(as_of, -12), as_of]).fetchall())
    assert {r["month"]: r["point"] for r in by_scenario["actual"]} == actuals
    assert len(actuals) == 12
    assert all(r["lo_80"] is None and r["hi_95"] is None for r in by_scenario["actual"])


# ------------------------------------------------------------------ anomalies

def test_anomalies_are_those_overlapping_each_quarter_ranked_by_impact(con):
    anomalies = rows(con, "select anomaly_id, start_date, end_date, cost_impact "
                          "from monitoring.cost_anomalies")
    assert anomalies, "the demo plants anomalies"
    quarters = [q for (q,) in con.execute(
        "select distinct quarter from marts.dim_calendar order by 1").fetchall()]
    got = rows(con, "from marts.rpt_review_anomalies order by quarter, anomaly_rank")
    for q in quarters:
        first = dt.date(int(q[:4]), 3 * int(q[5]) - 2, 1)
        nxt = add_months(first, 3)
        want = {a["anomaly_id"]: a for a in anomalies
                if a["start_date"] < nxt and a["end_date"] >= first}
        mine = [r for r in got if r["quarter"] == q]
        assert {r["anomaly_id"] for r in mine} == set(want), q
        assert [r["anomaly_rank"] for r in mine] == list(range(1, len(mine) + 1))
        impacts = [abs(r["cost_impact"]) for r in mine]
        assert impacts == sorted(impacts, reverse=True)
        assert all(r["cost_impact"] == want[r["anomaly_id"]]["cost_impact"] for r in mine)


# ------------------------------------------------------------------ savings

def test_waste_found_equals_the_idle_waste_of_each_quarter(con):
    want: dict[tuple, Decimal] = defaultdict(Decimal)
    for month, team, cost in con.execute(
            "select billing_month, team, wasted_cost from marts.fct_idle_waste").fetchall():
        want[(quarter_of(month), team)] += cost
    got = {(q, t): w for q, t, w in con.execute(
        "select quarter, team, sum(waste_found) from marts.rpt_review_savings "
        "where source = 'idle_waste' group by all").fetchall()}
    assert got == dict(want) and got
    # no savings figure on the idle_waste rows (the recommendations carry them)
    assert con.execute("select count(*) from marts.rpt_review_savings where source = "
                       "'idle_waste' and estimated_monthly_saving is not null").fetchone()[0] == 0


def test_savings_equal_the_recommendations(con):
    recs = rows(con, "select recommendation_type, team, status, status_date, source_month, "
                     "estimated_monthly_saving, realised_monthly_saving "
                     "from marts.fct_recommendations")
    assert recs
    items, estimated = defaultdict(int), defaultdict(Decimal)
    done, realised = defaultdict(int), defaultdict(Decimal)
    for r in recs:
        key = (quarter_of(r["source_month"]), r["team"], r["recommendation_type"])
        items[key] += 1
        if r["status"] in ("open", "accepted", "in_progress"):
            estimated[key] += r["estimated_monthly_saving"] or 0
        if r["status"] == "done" and r["status_date"]:
            k = (quarter_of(r["status_date"]), r["team"], r["recommendation_type"])
            done[k] += 1
            realised[k] += r["realised_monthly_saving"] or 0
    got = rows(con, "select quarter, team, source, sum(items) as items, "
                    "sum(estimated_monthly_saving) as est, sum(implemented_items) as done, "
                    "coalesce(sum(realised_monthly_saving), 0) as realised "
                    "from marts.rpt_review_savings where source <> 'idle_waste' group by all")
    by_key = {(r["quarter"], r["team"], r["source"]): r for r in got}
    assert {k: r["items"] for k, r in by_key.items() if r["items"]} == dict(items)
    assert {k: r["est"] for k, r in by_key.items() if r["items"]} == \
        {k: estimated[k] for k in items}
    assert {k: r["done"] for k, r in by_key.items() if r["done"]} == dict(done)
    assert {k: r["realised"] for k, r in by_key.items() if r["done"]} == dict(realised)


# ------------------------------------------------------------------ unit costs

def test_unit_costs_are_quarter_sums_of_the_available_months(con):
    src = rows(con, "select month, team, ml_model, workload, unit, unit_detail, "
                    "billing_currency, units, cost, is_available from marts.fct_unit_costs")
    sums: dict[tuple, list] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in src:
        if r["is_available"]:
            key = (quarter_of(r["month"]), r["team"], r["ml_model"], r["workload"], r["unit"],
                   r["unit_detail"], r["billing_currency"])
            sums[key][0] += r["units"]
            sums[key][1] += r["cost"]
    got = {(r["quarter"], r["team"], r["ml_model"], r["workload"], r["unit"],
            r["unit_detail"], r["billing_currency"]): r
           for r in rows(con, "from marts.rpt_review_unit_costs")}
    assert set(got) == set(sums) and got
    for key, (units, cost) in sums.items():
        r = got[key]
        assert r["units"] == units and r["cost"] == cost
        if units:
            assert abs(r["cost_per_unit"] - cost / units) < Decimal("1e-9") * max(1, cost / units)
    # the previous quarter's ratio is that row's, one quarter back, and only then
    trends = 0
    for key, r in got.items():
        q = key[0]
        first = dt.date(int(q[:4]), 3 * int(q[5]) - 2, 1)
        prev = got.get((quarter_of(add_months(first, -3)), *key[1:]))
        assert r["prev_quarter_cost_per_unit"] == (prev["cost_per_unit"] if prev else None)
        if prev and prev["cost_per_unit"]:
            trends += 1
            change = 100 * (r["cost_per_unit"] - prev["cost_per_unit"]) / prev["cost_per_unit"]
            assert abs(r["change_pct"] - change) < Decimal("1e-5")
    assert trends > 0


def test_unavailable_unit_costs_keep_their_reason(con):
    src = rows(con, "select month, team, ml_model, workload, unit, unit_detail, "
                    "billing_currency, unavailable_reason from marts.fct_unit_costs "
                    "where not is_available")
    got = rows(con, "from marts.rpt_review_unit_costs_unavailable")
    assert sum(r["months_unavailable"] for r in got) == len(src)
    assert all(r["reason"] for r in got)
    reasons = {r["unavailable_reason"] for r in src}
    assert {r["reason"] for r in got} <= reasons


# ------------------------------------------------------------------ data quality

CHECKS = {"attribution_coverage", "reconciliation", "held_back_slices", "quarantined_files",
          "late_deliveries", "redeliveries"}


def _dq(con) -> dict[tuple, dict]:
    return {(r["quarter"], r["provider"], r["check_name"]): r
            for r in rows(con, "from marts.rpt_review_data_quality")}


def test_every_quarter_and_provider_has_every_check(con):
    dq = _dq(con)
    pairs = {(q, p) for q, p, _ in dq}
    assert {("2026Q3", p) for p in ("aws", "gcp", "azure")} <= pairs
    for q, p in pairs:
        assert {c for qq, pp, c in dq if (qq, pp) == (q, p)} == CHECKS


def test_coverage_and_reconciliation_match_their_marts(con):
    dq = _dq(con)
    cov = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for month, provider, total, unallocated in con.execute(
            "select billing_month, provider, total_effective_cost, unallocated_cost "
            "from marts.rpt_attribution_coverage").fetchall():
        cov[(quarter_of(month), provider)][0] += total
        cov[(quarter_of(month), provider)][1] += unallocated
    for (q, p), (total, unallocated) in cov.items():
        r = dq[(q, p, "attribution_coverage")]
        pct = 100 * (1 - unallocated / total)
        assert abs(r["value"] - pct) < Decimal("0.000001")
        assert r["status"] == ("ok" if pct >= 95 else "warn" if pct >= 80 else "fail")
    slices = defaultdict(int)
    for period, provider in con.execute("select billing_period, provider "
                                        "from focus.rpt_focus_reconciliation").fetchall():
        slices[(quarter_of(period), provider)] += 1
    for (q, p), n in slices.items():
        r = dq[(q, p, "reconciliation")]
        assert (r["status"], r["value"], r["checked_rows"]) == ("ok", 0, n)  # demo reconciles


def test_quarantined_count_equals_the_ledger(con):
    dq = _dq(con)
    ledger = con.execute("select count(*) from meta.load_ledger "
                         "where status = 'quarantined'").fetchone()[0]
    got = sum(r["value"] for (q, p, c), r in dq.items() if c == "quarantined_files")
    assert got == ledger


def test_the_demo_history_is_a_backfill_not_late(con):
    """The demo loads every month in one run: nothing is late, and the detail says why."""
    late = [r for (q, p, c), r in _dq(con).items() if c == "late_deliveries"]
    assert late and all(r["value"] == 0 and r["status"] == "ok" for r in late)
    assert any("backfill" in (r["detail"] or "") for r in late)


@pytest.fixture(scope="module")
def scratch(review, tmp_path_factory) -> Path:
    """A copy of the warehouse with a late account, a quarantined file, a re-delivery and a
    slice that does not reconcile; only the data-quality mart rebuilt."""
    tmp = tmp_path_factory.mktemp("review_dq")
    wh = tmp / "wh.duckdb"
    shutil.copy(review / "wh.duckdb", wh)
    with duckdb.connect(str(wh)) as c:
        def delivery(file_id, period, loaded_at, current=True):
            c.execute("""insert into meta.deliveries values
                (?, ?, 'landing/late', 'aws_cur2', 'aws', 'late-acct', ?, 'cost', 'USD', 1, 1, 1,
                 ?, null, ?)""", [file_id, f"landing/late/{file_id}.csv", period, current,
                                  loaded_at])
        # The account's first load starts before midnight and delivers June after it: one
        # backfill (within 24 hours), not a late June.
        delivery("f-jul", dt.date(2026, 7, 1), dt.datetime(2026, 7, 20, 23, 30))  # first load
        delivery("f-jun", dt.date(2026, 6, 1), dt.datetime(2026, 7, 21, 0, 30))   # same backfill
        delivery("f-aug", dt.date(2026, 8, 1), dt.datetime(2026, 9, 20))    # 20 days: late
        delivery("f-sep", dt.date(2026, 9, 1), dt.datetime(2026, 10, 5, 12))  # 4.5 days: on time
        delivery("f-sep-old", dt.date(2026, 9, 1), dt.datetime(2026, 10, 5, 12), current=False)
        c.execute("""insert into meta.load_ledger (file_id, path, file_name, provider, status,
                     error, loaded_at) values ('q-1', 'landing/bad.csv', 'bad.csv', 'aws',
                     'quarantined', 'no header row', '2026-08-10 09:00:00')""")
        c.execute("""update focus.rpt_focus_reconciliation set status = 'billed_mismatch'
                     where (provider, billing_account_id, billing_period) in (
                        select provider, billing_account_id, billing_period
                        from focus.rpt_focus_reconciliation
                        where provider = 'gcp' and billing_period = date '2026-08-01'
                        limit 1)""")
    res = run_dbt(wh, tmp / "target", ["build", "--select", "rpt_review_data_quality"],
                  reference_set="demo")
    # The failing checks are data, not a failed build.
    assert res.success, res.output[-4000:]
    return wh


def test_data_quality_flags_what_went_wrong(review, scratch):
    with duckdb.connect(str(review / "wh.duckdb"), read_only=True) as c:
        before = _dq(c)
    with duckdb.connect(str(scratch), read_only=True) as c:
        after = _dq(c)
    late = after[("2026Q3", "aws", "late_deliveries")]
    assert late["status"] == "warn" and late["value"] == 1
    # The backfill's June: one more slice checked in 2026Q2, none of them late.
    june, june_before = (d[("2026Q2", "aws", "late_deliveries")] for d in (after, before))
    assert june["value"] == june_before["value"] == 0 and june["status"] == "ok"
    assert june["checked_rows"] == june_before["checked_rows"] + 1
    assert "late-acct 2026-08-01 first loaded 2026-09-20" in late["detail"]
    quarantined = after[("2026Q3", "aws", "quarantined_files")]
    assert quarantined["value"] == before[("2026Q3", "aws", "quarantined_files")]["value"] + 1
    assert quarantined["status"] == "warn" and "bad.csv (no header row)" in quarantined["detail"]
    redelivered = after[("2026Q3", "aws", "redeliveries")]
    assert redelivered["value"] == before[("2026Q3", "aws", "redeliveries")]["value"] + 1
    assert redelivered["status"] == "warn" and "landing/late/f-sep-old.csv" in redelivered["detail"]
    recon = after[("2026Q3", "gcp", "reconciliation")]
    assert (recon["status"], recon["value"]) == ("fail", 1)
    assert "2026-08-01: billed_mismatch" in recon["detail"]
    # the other quarters and checks did not move
    moved = {k for k in after if after[k] != before.get(k)}
    assert moved == {("2026Q3", "aws", "late_deliveries"), ("2026Q3", "aws", "quarantined_files"),
                     ("2026Q3", "aws", "redeliveries"), ("2026Q3", "gcp", "reconciliation"),
                     ("2026Q2", "aws", "late_deliveries")}
