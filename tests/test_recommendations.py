"""marts.fct_recommendations (docs/recommendations.md) on the small demo, and on a scratch copy
of it where the tests change the inputs (the other helpers' tables, a bad actions file, moved
figures) and rebuild only the recommendation models."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pytest

from .conftest import run_dbt

IDLE_TYPES = ("idle_endpoint", "idle_notebook", "orphaned_storage", "low_gpu_utilization",
              "unused_commitment")
# Everything from the recommendation sources down, never the marts they read.
RECOMMENDATION_MODELS = [
    "stg_mlcost__recommendation_actions+", "int_recommendations__idle_waste+",
    "int_recommendations__auto_shutdown+", "int_recommendations__storage_tiering+",
    "int_recommendations__spot+", "int_recommendations__gpu_quotas+",
    "int_recommendations__commitments+",
]


def rec_id(kind: str, provider: str, key: str) -> str:
    return hashlib.md5(f"{kind}|{provider}|{key}".encode()).hexdigest()


def rows(con, sql: str, params=None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


# ------------------------------------------------------------------ the demo as built

def test_idle_waste_savings_equal_fct_idle_waste(demo_con):
    """Idle-waste rows carry fct_idle_waste's own figures: per resource and waste type the
    saving of its latest finding, and in total the same sum (earlier findings save 0)."""
    recs = {(r["provider"], r["resource_id"], r["recommendation_type"]): r
            for r in rows(demo_con, "select * from marts.fct_recommendations")
            if r["recommendation_type"] in IDLE_TYPES}
    latest = rows(demo_con, """
        select provider, resource_id, waste_type, estimated_monthly_saving, owner, team
        from marts.fct_idle_waste
        qualify row_number() over (partition by provider, resource_id, waste_type
                                   order by period_start desc) = 1""")
    assert len(recs) == len(latest) > 0
    for w in latest:
        r = recs[(w["provider"], w["resource_id"], w["waste_type"])]
        assert r["estimated_monthly_saving"] == w["estimated_monthly_saving"]
        assert r["owner"] == w["owner"] and r["team"] == w["team"]
    (waste_total,) = demo_con.execute(
        "select sum(estimated_monthly_saving) from marts.fct_idle_waste").fetchone()
    assert sum(r["estimated_monthly_saving"] for r in recs.values()) == waste_total > 0


def test_ids_are_the_documented_hash(demo_con):
    for r in rows(demo_con, "select * from marts.fct_recommendations"):
        key = r["resource_id"]
        if r["scope"] == "team_gpu_type":
            key = f"{r['team']}|{key}"
        assert r["recommendation_id"] == rec_id(r["recommendation_type"], r["provider"], key)


def _cost_by_month(con, provider: str, resource_id: str) -> dict[dt.date, Decimal]:
    return dict(con.execute(
        "select billing_month, sum(effective_cost) from marts.fct_cost_allocations "
        "where provider = ? and resource_id = ? group by all", [provider, resource_id]).fetchall())


def test_done_action_realised_saving_is_the_before_after_difference(demo_con, demo):
    """The demo marks the A/B arm endpoint done the day after it was deleted (2026-08-08):
    before = June and July (complete months before August), after = September."""
    (done,) = rows(demo_con, "select * from marts.fct_recommendations where status = 'done'")
    assert done["recommendation_type"] == "idle_endpoint"
    assert "recsys-ab-test-b" in done["resource_id"]
    assert done["status_date"] == dt.date(2026, 8, 8)
    cost = _cost_by_month(demo_con, done["provider"], done["resource_id"])
    before = (cost.get(dt.date(2026, 6, 1), 0) + cost.get(dt.date(2026, 7, 1), 0)) / 2
    after = cost.get(dt.date(2026, 9, 1), Decimal(0)) / 1
    assert before > 0 and after == 0
    assert done["realised_monthly_saving"] == (before - after).quantize(Decimal("0.01"),
                                                                         ROUND_HALF_UP)
    assert "2 month(s) 2026-06-01 to 2026-07-01" in done["realised_basis"]
    # The file's other line: accepted, not measured.
    (accepted,) = rows(demo_con,
                       "select * from marts.fct_recommendations where status = 'accepted'")
    assert "query-ranker-canary" in accepted["resource_id"]
    assert accepted["realised_monthly_saving"] is None and accepted["realised_basis"] == "not done"
    assert demo_con.execute(
        "select count(*) from marts.rpt_recommendation_action_problems").fetchone() == (0,)


def test_no_resource_is_both_idle_and_an_auto_shutdown_or_tiering_candidate(demo_con):
    overlaps = demo_con.execute("""
        select r.recommendation_type, r.resource_id, w.waste_type
        from marts.fct_recommendations as r
        join marts.fct_idle_waste as w
          on w.provider = r.provider and w.resource_id = r.resource_id
         and w.period_end >= r.period_start
        where r.recommendation_type in ('auto_shutdown', 'storage_tiering')""").fetchall()
    assert overlaps == []
    assert demo_con.execute("select count(*) from marts.fct_recommendations "
                            "where recommendation_type = 'auto_shutdown'").fetchone()[0] > 0


def test_auto_shutdown_saves_the_off_hours_share_of_the_window_cost(demo_con):
    """Saving = the window's daily cost x days_per_month (30.4) x (1 - 60 / 168), the window
    being the provider's last 28 days of data."""
    recs = rows(demo_con, "select * from marts.fct_recommendations "
                "where recommendation_type = 'auto_shutdown'")
    assert recs
    for r in recs:
        (data_end,) = demo_con.execute(
            "select max(charge_date) from marts.fct_cost_allocations where provider = ?",
            [r["provider"]]).fetchone()
        assert r["period_end"] == data_end
        assert r["period_start"] == data_end - dt.timedelta(days=27)
        cost, days = demo_con.execute(
            "select sum(day_cost), count(*) from intermediate.int_waste__resource_days "
            "where provider = ? and resource_id = ? and usage_date between ? and ?",
            [r["provider"], r["resource_id"], r["period_start"], data_end]).fetchone()
        share = (Decimal("30.4") / days * (1 - Decimal(60) / 168)).quantize(Decimal("1e-10"))
        expected = (cost.quantize(Decimal("1e-14")) * share).quantize(Decimal("0.01"),
                                                                      ROUND_HALF_UP)
        assert r["estimated_monthly_saving"] == expected > 0


def test_missing_commitment_calculator_output_gives_no_rows(demo_con):
    """The small demo runs no what-if asset: planning.whatif_commitment does not exist, the
    recommendations still build, with no commitment-change rows."""
    assert demo_con.execute(
        "select count(*) from information_schema.tables where table_schema = 'planning' "
        "and table_name = 'whatif_commitment'").fetchone() == (0,)
    assert demo_con.execute(
        "select count(*) from marts.fct_recommendations where recommendation_type = "
        "'commitment'").fetchone() == (0,)
    assert demo_con.execute("select count(*) from marts.fct_recommendations").fetchone()[0] > 0


def test_export_recommendations(demo, tmp_path):
    from dagster_project.cli import main

    out = tmp_path / "recs.csv"
    assert main(["export", "recommendations", "--out", str(out),
                 "--warehouse", str(demo / "wh.duckdb")]) == 0
    header = out.read_text(encoding="utf-8").splitlines()[0]
    for col in ("recommendation_id", "estimated_monthly_saving", "status",
                "realised_monthly_saving"):
        assert col in header


# ------------------------------------------------------------------ a changed copy

@pytest.fixture(scope="module")
def changed(demo, tmp_path_factory):
    """A copy of the demo warehouse with: every idle-waste saving doubled, a made-up idle
    finding over the auto-shutdown candidate, the three other helpers' tables created, and a
    reviewed actions file with bad lines landed; then the recommendation models rebuilt."""
    from dagster_project.lib.ingest.loader import ingest_paths
    from dagster_project.lib.warehouse import connection

    tmp = tmp_path_factory.mktemp("recs-changed")
    wh = tmp / "wh.duckdb"
    shutil.copy(demo / "wh.duckdb", wh)
    with duckdb.connect(str(wh), read_only=True) as con:
        before = rows(con, "select * from marts.fct_recommendations")
    shutdown = next(r for r in before if r["recommendation_type"] == "auto_shutdown")
    done = next(r for r in before if r["status"] == "done")
    canary = next(r for r in before if r["status"] == "accepted")
    actions = tmp / "landing" / "actions-2" / "recommendation_actions.csv"
    actions.parent.mkdir(parents=True)
    actions.write_text(
        "recommendation_id,status,date,note,reviewer\n"
        f"{done['recommendation_id']},done,2026-08-08,,\n"
        f"{done['recommendation_id']},finished,2026-08-09,,\n"
        f"{canary['recommendation_id']},accepted,08/32/2026,,\n"
        "0123456789abcdef0123456789abcdef,done,2026-08-01,,\n", encoding="utf-8")
    with connection(wh) as con:
        ingest_paths(con, [actions])
        con.execute("update marts.fct_idle_waste set estimated_monthly_saving = "
                    "estimated_monthly_saving * 2")
        con.execute("""insert into marts.fct_idle_waste by name
            select 'made-up' as waste_id, provider, resource_id, 'idle_notebook' as waste_type,
                   period_end as period_start, period_end, 1 as idle_days,
                   team, owner, 'stop_and_enable_auto_shutdown' as action,
                   cast(0 as decimal(38, 24)) as estimated_monthly_saving, 'x' as saving_basis,
                   'x' as recommended_action, 'x' as evidence, 'low' as severity, ml_model,
                   'none' as workload,
                   resource_id as resource_name, source_month as billing_month,
                   billing_currency, cast(0 as decimal(38, 24)) as wasted_cost,
                   true as is_saving_available_now
            from marts.fct_recommendations where recommendation_id = ?""",
                    [shutdown["recommendation_id"]])
        # An owned bucket nobody read for its last 30 billed days: a tiering candidate.
        con.execute("""update intermediate.int_waste__resource_days set read_requests = 0
            where resource_id = 'mlcost-sandbox-scratch' and usage_date in (
                select usage_date from intermediate.int_waste__resource_days
                where resource_id = 'mlcost-sandbox-scratch'
                order by usage_date desc limit 30)""")
        con.execute("""create or replace table marts.fct_instance_prices as select * from (values
            (date '2026-09-01', 'aws', 'p3.2xlarge', 'V100', 1, 'on_demand', 'training',
             100.0, 306.0, 3.06, 'USD'),
            (date '2026-09-01', 'aws', 'p3.2xlarge', 'V100', 1, 'spot', 'training',
             50.0, 45.9, 0.918, 'USD'),
            (date '2026-08-01', 'aws', 'p3.2xlarge', 'V100', 1, 'on_demand', 'training',
             100.0, 306.0, 3.06, 'USD'),
            (date '2026-09-01', 'aws', 'g5.xlarge', 'A10G', 1, 'on_demand', 'training',
             10.0, 10.06, 1.006, 'USD'))
            as t(billing_month, provider, instance_type, gpu_type, gpus_per_instance,
                 pricing_category, workload, usage_hours, cost, hourly_price, billing_currency)""")
        con.execute("""create or replace table marts.fct_unit_costs as select * from (values
            (date '2026-09-01', 'search-ranking', 'query-ranker', 'training', 'gpu_hour', 'A100',
             7200.0),
            (date '2026-08-01', 'search-ranking', 'query-ranker', 'training', 'gpu_hour', 'A100',
             1488.0),
            (date '2026-09-01', 'fraud-detection', 'fraud-scorer', 'training', 'gpu_hour', 'T4',
             720.0))
            as t(month, team, ml_model, workload, unit, unit_detail, units)""")
        con.execute("create schema if not exists planning")
        con.execute("""create table planning.whatif_commitment as select * from (values
            (timestamp '2026-10-01 00:00:00', 'gcp', 'cud', 10.0, 6.0,
             cast(2000 as decimal(38, 24)), 'USD', 0.9, 0.6, 'test'),
            (timestamp '2026-09-01 00:00:00', 'gcp', 'cud', 10.0, 8.0,
             cast(500 as decimal(38, 24)), 'USD', 0.9, 0.6, 'older'),
            (timestamp '2026-10-01 00:00:00', 'aws', 'savings_plan', 5.0, 5.0,
             cast(0 as decimal(38, 24)), 'USD', 0.9, 0.9, 'no change'))
            as t(computed_at, provider, commitment_type, current_hourly_commitment,
                 recommended_hourly_commitment, expected_monthly_saving, billing_currency,
                 coverage, utilisation, evidence)""")
    res = run_dbt(wh, tmp / "target", ["build", "--select", *RECOMMENDATION_MODELS],
                  reference_set="demo")
    assert res.success, res.output[-4000:]
    with duckdb.connect(str(wh), read_only=True) as con:
        after = rows(con, "select * from marts.fct_recommendations")
        problems = rows(con, "select * from marts.rpt_recommendation_action_problems "
                        "order by source_row_number")
        scratch_cost = con.execute(
            "select sum(day_cost) from (select day_cost from intermediate.int_waste__resource_days"
            " where resource_id = 'mlcost-sandbox-scratch' order by usage_date desc limit 30)"
        ).fetchone()[0]
        unused_gcp = con.execute(
            "select sum(estimated_monthly_saving) from marts.fct_idle_waste "
            "where provider = 'gcp' and waste_type = 'unused_commitment'").fetchone()[0]
    return dict(before=before, after=after, problems=problems, shutdown=shutdown, done=done,
                actions=actions, unused_gcp=unused_gcp, warehouse=wh,
                scratch_cost=scratch_cost)


def test_ids_stay_when_the_figures_move(changed):
    before = {r["recommendation_id"]: r for r in changed["before"]
              if r["recommendation_type"] in IDLE_TYPES}
    after = {r["recommendation_id"]: r for r in changed["after"]
             if r["recommendation_type"] in IDLE_TYPES}
    # The made-up finding adds one idle_notebook recommendation, nothing else changes id.
    made_up = rec_id("idle_notebook", changed["shutdown"]["provider"],
                     changed["shutdown"]["resource_id"])
    assert set(after) == set(before) | {made_up}
    moved = [i for i in before if before[i]["estimated_monthly_saving"] > 0]
    assert moved
    for i in moved:
        assert after[i]["estimated_monthly_saving"] == 2 * before[i]["estimated_monthly_saving"]


def test_a_resource_flagged_idle_is_not_also_an_auto_shutdown_row(changed):
    ids = {r["recommendation_id"] for r in changed["after"]}
    assert changed["shutdown"]["recommendation_id"] not in ids
    assert sum(r["recommendation_type"] == "auto_shutdown" for r in changed["after"]) == sum(
        r["recommendation_type"] == "auto_shutdown" for r in changed["before"]) - 1


def test_bad_action_lines_are_named_and_the_good_line_applies(changed):
    path = str(changed["actions"])
    got = [(p["source_row_number"], p["problem"]) for p in changed["problems"]]
    assert got == [
        (2, f"{path} (row 2, column 'status'): 'finished' is not a status; expected one of "
            "open, accepted, in_progress, done, rejected."),
        (3, f"{path} (row 3, column 'date'): '08/32/2026' is not a date; expected YYYY-MM-DD, "
            "such as 2026-08-07."),
        (4, f"{path} (row 4, column 'recommendation_id'): '0123456789abcdef0123456789abcdef' is "
            "not the id of any current recommendation (marts.fct_recommendations); the line is "
            "ignored."),
    ]
    by_id = {r["recommendation_id"]: r for r in changed["after"]}
    assert by_id[changed["done"]["recommendation_id"]]["status"] == "done"
    # `mlcost run` exits 65 (data error) naming the same lines (lib/pipeline.py).
    from dagster_project.lib.run_outcome import ignored_action_lines

    assert ignored_action_lines(changed["warehouse"]) == [p for _, p in got]
    relative = ignored_action_lines(changed["warehouse"], changed["actions"].parents[1])
    assert relative[0].startswith("actions-2/recommendation_actions.csv (row 2, column 'status')")
    # The newer file replaced the demo's: the canary's 'accepted' line is gone.
    assert sum(r["status"] != "open" for r in changed["after"]) == 1


def test_spot_candidates_price_at_the_observed_ratio(changed):
    spot = [r for r in changed["after"] if r["recommendation_type"] == "spot"]
    assert [r["resource_id"] for r in spot] == ["p3.2xlarge"]  # g5.xlarge has no spot price
    on_demand = Decimal("612.0") / Decimal("200.0")
    ratio = (Decimal("45.9") / Decimal("50.0")) / on_demand
    expected = (Decimal("612.0") * (1 - ratio) / 2).quantize(Decimal("0.01"))
    assert spot[0]["estimated_monthly_saving"] == expected
    assert spot[0]["recommendation_id"] == rec_id("spot", "aws", "p3.2xlarge")


def test_gpu_quotas_compare_the_peak_monthly_mean(changed):
    quota = {r["team"]: r for r in changed["after"] if r["recommendation_type"] == "gpu_quota"}
    # search-ranking A100: September 7200 GPU-hours / (24 x 30) = 10 GPUs > quota 8.
    assert quota["search-ranking"]["action"].startswith("Raise the A100 GPU quota of "
                                                        "search-ranking to at least 10 GPUs")
    # fraud-detection T4: 720 / 720 = 1 GPU < half of 16; recommendations A10G: no use at all.
    assert quota["fraud-detection"]["action"] == ("Release 15 of the 16 T4 GPUs of the quota "
                                                  "of fraud-detection.")
    assert quota["recommendations"]["action"].startswith("Release 2 of the 2 A10G GPUs")
    assert all(r["estimated_monthly_saving"] == 0 for r in quota.values())


def test_commitment_change_nets_out_the_unused_commitment_saving(changed):
    commit = [r for r in changed["after"] if r["recommendation_type"] == "commitment"]
    assert [(r["provider"], r["resource_id"]) for r in commit] == [("gcp", "cud")]
    assert commit[0]["estimated_monthly_saving"] == max(
        Decimal(2000) - changed["unused_gcp"], Decimal(0))
    assert changed["unused_gcp"] > 0


def test_storage_tiering_prices_with_the_list_price_ratio(changed):
    """The bucket unread for 30 billed days moves S3 Standard -> Standard-IA (0.023 -> 0.0125
    per GB-month in seeds/storage_tier_prices.csv); days_per_month 30.4 (waste_thresholds)."""
    assert not any(r["recommendation_type"] == "storage_tiering" for r in changed["before"])
    (tier,) = [r for r in changed["after"] if r["recommendation_type"] == "storage_tiering"]
    assert tier["resource_id"] == "mlcost-sandbox-scratch" and tier["scope"] == "resource"
    share = (Decimal("30.4") / 30 * (1 - Decimal("0.0125") / Decimal("0.023")))
    expected = (changed["scratch_cost"].quantize(Decimal("1e-14"))
                * share.quantize(Decimal("1e-10"))).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert tier["estimated_monthly_saving"] == expected > 0
    assert "S3 Standard-Infrequent Access" in tier["action"]
