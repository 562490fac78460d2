"""The FOCUS 1.3 allocation dataset (focus.focus_allocated, docs/focus-allocated.md) on the
small demo: every shared-cost split row carries FOCUS 1.3's allocation columns and its origin
charge's FOCUS columns, split rows sum back to the origin to the cent (exactly, in fact), and
FOCUS 1.3's allocation rules hold. The pinned focus-validator (2.2.1) ships FOCUS 1.2 rules
only, none on the Allocated* columns, so these tests check the 1.3 rules themselves."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.lib.ingest.sql import quote_ident

COST_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost",
                "PricingCurrencyEffectiveCost", "PricingQuantity", "ConsumedQuantity",
                "CommitmentDiscountQuantity")


@pytest.fixture(scope="module")
def con(demo_con):
    return demo_con


@pytest.fixture(scope="module")
def rows(con) -> list[dict]:
    cur = con.execute('select * from focus.focus_allocated order by "x_RowId", "x_AllocationId"')
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_one_row_per_split_row_of_the_allocations(con, rows):
    splits = con.execute(
        """select count(*), count(distinct focus_row_id) from marts.fct_cost_allocations
           where attribution_method = 'shared_split'""").fetchone()
    assert splits[0] > 50
    assert (len(rows), len({r["x_RowId"] for r in rows})) == splits
    assert len({r["x_AllocationId"] for r in rows}) == len(rows)


def test_split_rows_sum_back_to_their_origin_row_exactly(con):
    for col in COST_COLUMNS:
        q = quote_ident(col)
        bad = con.execute(
            "with pieces as (select \"x_RowId\" as row_id, sum(" + q + ") as total "  # noqa: S608
            "from focus.focus_allocated group by 1) "
            "select count(*) filter (where p.total is distinct from f." + q + "), count(*), "
            "sum(abs(coalesce(p.total, 0) - coalesce(f." + q + ", 0))) from pieces as p "
            "join focus.focus_cost_and_usage as f on f.\"x_RowId\" = p.row_id").fetchone()
        assert bad[1] > 50, col
        assert bad[0] == 0 and bad[2] == 0, (col, bad)
    # To the cent per origin row and team: the mart's own split rows carry the same money.
    diff = con.execute(
        """select count(*) from focus.focus_allocated as f
           join marts.fct_cost_allocations as a on a.allocation_id = f."x_AllocationId"
           where f."EffectiveCost" <> a.effective_cost or f."BilledCost" <> a.billed_cost
              or f."AllocatedResourceName" <> a.team""").fetchone()[0]
    assert diff == 0


def test_origin_columns_are_carried_unchanged(con):
    # Every FOCUS column that is neither a cost/quantity nor an Allocated* column is the
    # origin row's.
    origin_cols = [r[0] for r in con.execute("describe focus.focus_cost_and_usage").fetchall()]
    kept = [c for c in origin_cols
            if c not in COST_COLUMNS and not c.startswith("Allocated")]
    assert "ResourceId" in kept and "Tags" in kept and "x_SourceFileId" in kept
    cond = " or ".join("a." + quote_ident(c) + " is distinct from f." + quote_ident(c)
                       for c in kept)
    bad = con.execute(
        "select count(*) from focus.focus_allocated as a "  # noqa: S608
        "join focus.focus_cost_and_usage as f using (\"x_RowId\") where " + cond).fetchone()[0]
    assert bad == 0
    allocated_cols = [r[0] for r in con.execute("describe focus.focus_allocated").fetchall()]
    assert allocated_cols[:len(origin_cols)] == origin_cols
    assert allocated_cols[len(origin_cols):] == ["x_AllocationId"]


def test_focus_13_allocation_rules(rows):
    # AllocatedMethodId: not null on allocated charges, one documented value per method.
    # AllocatedMethodDetails: JSON object with an "Elements" array of objects, each with a
    # numeric AllocatedRatio; extra keys prefixed x_; ratios of one origin charge sum to 1.
    # AllocatedResourceId / Name: not null on the allocated portion. AllocatedTags: key-value
    # JSON, no key already in Tags.
    docs = (Path(__file__).resolve().parents[1] / "docs" / "focus-allocated.md").read_text()
    ratios: dict[str, Decimal] = {}
    for r in rows:
        assert r["AllocatedMethodId"] and r["AllocatedMethodId"].startswith("mlcost/")
        assert f"`{r['AllocatedMethodId']}`" in docs, r["AllocatedMethodId"]
        details = json.loads(r["AllocatedMethodDetails"], parse_float=Decimal)
        assert isinstance(details, dict) and isinstance(details["Elements"], list)
        assert all(k == "Elements" or k.startswith("x_") for k in details)
        for element in details["Elements"]:
            assert isinstance(element, dict)
            assert isinstance(element["AllocatedRatio"], (Decimal, int))
            assert all(k in ("AllocatedRatio", "UsageUnit", "UsageQuantity") or k.startswith("x_")
                       for k in element)
            ratios[r["x_RowId"]] = ratios.get(r["x_RowId"], Decimal(0)) + Decimal(
                element["AllocatedRatio"])
        assert r["AllocatedResourceId"] == f"mlcost/team/{r['AllocatedResourceName']}"
        tags = json.loads(r["AllocatedTags"])
        own = json.loads(r["Tags"]) if r["Tags"] else {}
        assert tags == {"mlcost/team": r["AllocatedResourceName"]}
        assert not set(tags) & set(own)
    assert ratios and all(total == 1 for total in ratios.values()), {
        k: v for k, v in ratios.items() if v != 1}


def test_method_columns_render_the_allocation_marts_own(con):
    # One owner per concept: AllocatedMethodId / AllocatedMethodDetails are the mart's
    # allocation_method_id / allocation_method_details (x_RowId its focus_row_id), rendered.
    pairs = con.execute(
        """select f."x_RowId", f."AllocatedMethodId", f."AllocatedMethodDetails",
                  a.focus_row_id, a.allocation_method_id, a.allocation_method_details,
                  a.allocation_share
           from focus.focus_allocated as f
           join marts.fct_cost_allocations as a on a.allocation_id = f."x_AllocationId"
        """).fetchall()
    assert len(pairs) > 50
    weights = set()
    for row_id, method_id, details, focus_row_id, mart_id, mart_details, share in pairs:
        assert row_id == focus_row_id
        rule_id, split_method = mart_id.split(":")
        assert method_id == f"mlcost/{rule_id}/{split_method}"
        ours, mart = json.loads(details, parse_float=Decimal), json.loads(mart_details)
        assert (ours["x_RuleId"], ours["x_SplitBasis"], ours["x_Weight"]) == (
            mart["rule_id"], f"{mart['split_method']}:{mart['basis']}", mart["weight"])
        assert ours["Elements"] == [{"AllocatedRatio": share}]
        assert Decimal(mart["share"]) == share
        weights.add(ours["x_Weight"])
    assert len(weights) >= 2, weights


def test_export_command_lists_focus_allocated():
    from dagster_project.cli import EXPORTS

    assert EXPORTS["focus_allocated"] == ("focus", "focus_allocated")
