"""End to end: idle-waste detection on a small generated demo, scored against the planted
idle periods, with the pricing of findings checked against the allocation rows."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.lib.ingest.sql import quote_ident
from dagster_project.lib.scoring import WASTE_TYPES, score_waste


@pytest.fixture(scope="module")
def con(demo_con):
    return demo_con


@pytest.fixture(scope="module")
def score(con, demo: Path) -> dict:
    return score_waste(con, demo / "demo" / "ground_truth")


def test_every_planted_idle_endpoint_and_notebook_is_found(score):
    for waste_type in ("idle_endpoint", "idle_notebook"):
        entry = score["by_type"][waste_type]
        assert entry["true_positives"] >= 2, waste_type
        assert entry["recall"] == 1.0, entry["missed"]
        assert entry["day_recall"] >= 0.95, waste_type


def test_precision_and_recall_per_waste_type(score):
    # Every detector finds exactly the planted resources (per provider: test_waste_truth.py).
    for waste_type in WASTE_TYPES:
        entry = score["by_type"][waste_type]
        assert entry["recall"] == 1.0, (waste_type, entry["missed"])
        assert entry["precision"] == 1.0, (waste_type, entry["unexpected"])
    assert score["overall"]["precision"] == 1.0
    assert score["overall"]["recall"] == 1.0
    assert score["overall"]["day_recall"] >= 0.9


def test_idle_endpoint_is_priced_at_its_cost_on_the_idle_days(con, demo):
    # The forgotten canary: recompute its cost over the planted idle days from the
    # allocations and compare exactly.
    rid, start, end = con.execute(
        """select resource_id, cast(idle_start as date), cast(idle_end as date)
           from read_csv(?, all_varchar = true)
           where resource_id like '%query-ranker-canary'""",
        [str(demo / "demo" / "ground_truth" / "idle_periods.csv")],
    ).fetchone()
    expected = con.execute(
        """select sum(effective_cost) from marts.fct_cost_allocations
           where resource_id = ? and charge_category = 'Usage'
             and charge_date between ? and ?""",
        [rid, start, end],
    ).fetchone()[0]
    found = con.execute(
        """select sum(wasted_cost), min(period_start), max(period_end), max(evidence_value),
                  any_value(recommended_action), any_value(severity)
           from marts.fct_idle_waste where resource_id = ? and waste_type = 'idle_endpoint'""",
        [rid],
    ).fetchone()
    assert isinstance(found[0], Decimal)
    assert found[:3] == (expected, start, end)
    assert found[3] == 0
    days = (end - start).days + 1
    assert found[4].startswith("Delete endpoint query-ranker-canary")
    assert f"0 invocations for {days} days" in found[4]
    assert found[5] in ("high", "medium", "low")


def test_low_gpu_waste_is_the_unused_fraction_of_cost(con):
    rows = con.execute(
        """select w.resource_id, w.billing_month, w.wasted_cost, w.evidence_value,
                  sum(a.effective_cost) as cost
           from marts.fct_idle_waste as w
           join marts.fct_cost_allocations as a
             on a.provider = w.provider and a.resource_id = w.resource_id
            and a.charge_date between w.period_start and w.period_end
            and a.charge_category = 'Usage'
           where w.waste_type = 'low_gpu_utilization'
           group by all"""
    ).fetchall()
    assert rows
    for _rid, _month, wasted, mean_gpu, cost in rows:
        assert mean_gpu < 15
        assert 0 < wasted < cost
        # Roughly (100 - mean GPU %) of the cost; exact per day, so only near the mean.
        assert abs(wasted / cost - (1 - mean_gpu / 100)) < Decimal("0.05")


def test_unused_commitment_matches_focus_unused_rows(con):
    # AWS and Azure publish Unused rows: the findings' cost is exactly theirs.
    pairs = con.execute(
        """with unused as (
               select "x_ProviderCode" as provider, "CommitmentDiscountId" as resource_id,
                      "x_BillingPeriod" as billing_month, sum("EffectiveCost") as cost
               from focus.focus_cost_and_usage
               where "CommitmentDiscountStatus" = 'Unused'
               group by all)
           select w.wasted_cost, u.cost
           from marts.fct_idle_waste as w
           join unused as u using (provider, resource_id, billing_month)
           where w.waste_type = 'unused_commitment'"""
    ).fetchall()
    assert len(pairs) >= 3
    assert all(wasted == cost for wasted, cost in pairs)


def test_orphaned_storage_never_flags_an_owned_resource(con):
    owned = con.execute(
        """select count(*) from marts.fct_idle_waste as w
           where w.waste_type = 'orphaned_storage'
             and exists (select 1 from marts.fct_cost_allocations as a
                         where a.provider = w.provider and a.resource_id = w.resource_id
                           and a.has_owner_tag)"""
    ).fetchone()[0]
    assert owned == 0
    actions = [r[0] for r in con.execute(
        """select recommended_action from marts.fct_idle_waste
           where waste_type = 'orphaned_storage'"""
    ).fetchall()]
    assert actions and all(a.startswith("Find an owner for ") for a in actions)


DETECTORS = {
    "idle_endpoint": "int_waste__idle_endpoints",
    "idle_notebook": "int_waste__idle_notebooks",
    "orphaned_storage": "int_waste__orphaned_storage",
    "low_gpu_utilization": "int_waste__low_gpu_utilization",
    "unused_commitment": "int_waste__unused_commitments",
}


def test_the_fact_is_the_union_of_one_model_per_detector(con):
    # fct_idle_waste adds names and text, never rows or cost: per waste type, its rows and
    # wasted cost are exactly its detector's (models/intermediate/waste, docs/waste.md).
    assert set(DETECTORS) == set(WASTE_TYPES)
    total = 0
    for waste_type, model in DETECTORS.items():
        relation = f"intermediate.{quote_ident(model)}"
        detector = con.execute(
            "select count(*), sum(wasted_cost), count(distinct waste_type), min(waste_type) "
            "from " + relation).fetchone()
        fact = con.execute(
            "select count(*), sum(wasted_cost) from marts.fct_idle_waste where waste_type = ?",
            [waste_type]).fetchone()
        assert detector[0] > 0, model
        assert detector[2:] == (1, waste_type), model
        assert (detector[0], Decimal(detector[1])) == (fact[0], Decimal(fact[1])), model
        total += detector[0]
    assert con.execute("select count(*) from marts.fct_idle_waste").fetchone()[0] == total
