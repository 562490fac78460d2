"""Proof of open-world attribution on neutral defaults (issue 16): a FOCUS history whose tags name
teams mlcost has never seen, built with `reference_set=default`. Every tagged dollar lands on
the tagged team; none on `unallocated` or on the demo company's teams; shared costs split onto
the tagged teams and sum back to their source row exactly. The same data with the demo's
reference set maps `recsys` onto the demo's `recommendations`: the set is what decides."""

from __future__ import annotations

import csv
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from .conftest import FIXTURES, build_warehouse, run_dbt

FIXTURE = FIXTURES / "attribution" / "focus_unseen_teams"
CSV = FIXTURE / "focus_unseen_teams.csv"
DEMO_TEAMS = {"search-ranking", "fraud-detection", "recommendations", "ml-platform"}
TEAM_KEYS = ("team", "owner-team")  # the fixture's team keys (tag_key_aliases matches any case)
SELECT = ["+fct_cost_allocations", "+dim_teams", "+dim_ml_models",
          "+rpt_attribution_coverage_detail", "+rpt_unattributed_resources",
          "assert_attribution_coverage_meets_target"]


def _slug(value: str) -> str:
    """The documented normalisation (docs/attribution.md), written independently of the SQL."""
    return re.sub(r"[\s_]+", "-", value.strip().lower())


def _tagged_rows() -> dict[str, tuple[str, Decimal]]:
    """ResourceId -> (team the tag names, effective cost) for fixture rows with a team tag."""
    out = {}
    with CSV.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            tags = json.loads(row["Tags"]) if row["Tags"] != "NULL" else {}
            named = [v for k, v in tags.items() if k.lower() in TEAM_KEYS and v.strip()]
            if named:
                out[row["ResourceId"]] = (_slug(named[0]), Decimal(row["EffectiveCost"]))
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("open_world")
    landing = tmp / "landing"
    shutil.copytree(FIXTURE, landing / "focus")
    wh = build_warehouse(tmp, [landing])
    res = run_dbt(wh, tmp / "target", ["build", "--select", *SELECT], reference_set="default")
    assert res.success, res.output[-4000:]
    return wh


@pytest.fixture
def con(built):
    """Per test: the tests that re-run dbt need the warehouse without a reader."""
    c = duckdb.connect(str(built), read_only=True)
    yield c
    c.close()


def test_fixture_tags_name_teams_no_seed_knows():
    tagged = _tagged_rows()
    assert {t for t, _ in tagged.values()} == {"ml-research", "data-eng", "recsys", "platform"}


def test_every_tagged_dollar_lands_on_the_tagged_team(con):
    tagged = _tagged_rows()
    rows = con.execute(
        """select resource_id, team, attribution_method, sum(effective_cost), count(*)
           from marts.fct_cost_allocations where resource_id in (select unnest(?))
           group by all""", [list(tagged)]).fetchall()
    got = {r[0]: (r[1], r[3]) for r in rows}
    assert got == tagged
    assert {r[2] for r in rows} == {"tag_unregistered"}
    assert all(r[4] == 1 for r in rows)  # a tagged row is never split


def test_nothing_lands_on_the_demo_teams_and_only_untagged_cost_is_unallocated(con):
    teams = {r[0] for r in con.execute("select distinct team from marts.fct_cost_allocations")
             .fetchall()}
    assert not teams & DEMO_TEAMS
    unallocated = con.execute(
        """select resource_id, sum(effective_cost) from marts.fct_cost_allocations
           where team = 'unallocated' group by all order by all""").fetchall()
    # The untagged instance and the one whose team tag is empty (no signal), nothing else.
    assert unallocated == [("i-0emptytag00001", Decimal("2")), ("i-0untagged00001", Decimal("10"))]


def test_shared_costs_split_onto_the_tagged_teams_and_sum_back_exactly(con):
    pieces = con.execute(
        """select a.focus_row_id, a.shared_rule_id, a.team, a.effective_cost, a.billed_cost,
                  a.allocation_method_id, a.allocation_method_details
           from marts.fct_cost_allocations as a
           where a.attribution_method = 'shared_split' order by all""").fetchall()
    # FOCUS files carry no provider service code: support matches on its name.
    assert {p[1] for p in pieces} == {"tax", "aws_support_name", "untagged_networking"}
    assert {p[2] for p in pieces} <= {"ml-research", "data-eng", "recsys", "platform"}
    source = dict(con.execute(
        """select "x_RowId", "EffectiveCost" from focus.focus_cost_and_usage""").fetchall())
    sums: dict[str, Decimal] = {}
    for p in pieces:
        sums[p[0]] = sums.get(p[0], Decimal(0)) + p[3]
        details = json.loads(p[6])
        assert p[5] == f"{details['rule_id']}:{details['split_method']}"
        assert details["weight"] == "effective_cost"
    assert sums == {row_id: source[row_id] for row_id in sums}
    # Tax is split within its account (210000000001): only ml-research has direct cost there
    # (the untagged instance is unallocated and never weighs).
    tax = [p for p in pieces if p[1] == "tax"]
    assert [(p[2], p[3]) for p in tax] == [("ml-research", Decimal("12.34"))]
    # Support, provider-wide, in proportion to each team's direct cost (227.27 in all).
    direct = {"ml-research": Decimal("154.85"), "data-eng": Decimal("59.10"),
              "recsys": Decimal("9.99"), "platform": Decimal("3.33")}
    support = {p[2]: p[3] for p in pieces if p[1] == "aws_support_name"}
    assert sum(support.values()) == Decimal("7.77")
    for team, cost in direct.items():
        assert abs(support[team] - Decimal("7.77") * cost / Decimal("227.27")) < Decimal("1e-8")
    # Untagged networking, within its account: all on ml-research.
    assert [(p[2], p[3]) for p in pieces if p[1] == "untagged_networking"] == [
        ("ml-research", Decimal("5.55"))]


def test_networking_and_other_workloads_leave_nothing_real_on_shared(con):
    rows = dict(con.execute(
        """select coalesce(resource_id, charge_category),
                  any_value(workload || '/' || workload_rule_id)
           from marts.fct_cost_allocations
           where resource_id in ('nat-0shared0001', 'support-business') or charge_category = 'Tax'
           group by all""").fetchall())
    assert rows == {"nat-0shared0001": "networking/networking_service",
                    "support-business": "other/other_support",
                    "Tax": "other/other_tax"}
    assert con.execute("select count(*) from marts.fct_cost_allocations "
                       "where workload_rule_id is null").fetchone()[0] == 0


def test_known_slice_values_are_registered_or_seen(con):
    teams = {r[0]: r[1:] for r in con.execute(
        "select team, is_registered, is_fallback, receives_shared_costs from marts.dim_teams")
        .fetchall()}
    assert teams == {"ml-research": (False, False, True), "data-eng": (False, False, True),
                     "recsys": (False, False, True), "platform": (False, False, True),
                     "unallocated": (False, True, False)}
    models = dict(con.execute("select ml_model, owner_team from marts.dim_ml_models").fetchall())
    assert models["llm-finetune"] == "ml-research"
    assert "none" in models


def test_coverage_by_account_and_team_and_the_biggest_unattributed_resources(con):
    detail = con.execute(
        """select sub_account_id, team, total_effective_cost, tag_unregistered_share
           from marts.rpt_attribution_coverage_detail where team = 'unallocated'""").fetchall()
    assert detail == [("210000000001", "unallocated", Decimal("12"), 0.0)]
    top = con.execute(
        """select resource_key, unattributed_cost, cost_rank
           from marts.rpt_unattributed_resources order by cost_rank""").fetchall()
    assert top == [("i-0untagged00001", Decimal("10"), 1), ("i-0emptytag00001", Decimal("2"), 2)]


def test_coverage_check_warns_below_its_target_and_names_the_resources(built, tmp_path):
    # Coverage is 1 - 12 / 264.93 = 95.5%: passes at the default 95%, warns at 99%.
    ok = run_dbt(built, tmp_path / "t1", ["test", "--select",
                                          "assert_attribution_coverage_meets_target"])
    assert ok.success and "PASS=1" in ok.output, ok.output[-2000:]
    low = run_dbt(built, tmp_path / "t2", [
        "test", "--select", "assert_attribution_coverage_meets_target", "--store-failures",
        "--vars", json.dumps({"attribution_coverage_target": 0.99})])
    assert low.success and "WARN=1" in low.output, low.output[-2000:]
    with duckdb.connect(str(built), read_only=True) as c:
        (schema,) = c.execute(
            "select table_schema from information_schema.tables "
            "where table_name = 'assert_attribution_coverage_meets_target'").fetchone()
        (names,) = c.execute(
            f"select biggest_unattributed_resources from {schema}."  # noqa: S608
            "assert_attribution_coverage_meets_target").fetchone()
    assert names.startswith("i-0untagged00001 (10.0)")


def test_the_demo_reference_set_maps_the_same_tags_onto_the_demo_company(built, tmp_path):
    # Seeds hold every set: only the models re-run (the demo's aliases: recsys, platform).
    res = run_dbt(built, tmp_path / "t", ["run", "--select", "int_tag_sets_normalized"],
                  reference_set="demo")
    assert res.success, res.output[-2000:]
    with duckdb.connect(str(built), read_only=True) as c:
        (schema,) = c.execute("select table_schema from information_schema.tables "
                              "where table_name = 'int_tag_sets_normalized'").fetchone()
        teams = {r[0] for r in c.execute(
            f"select tag_team from {schema}.int_tag_sets_normalized").fetchall()}  # noqa: S608
    assert {"recommendations", "ml-platform", "ml-research", "data-eng"} <= teams
    assert not {"recsys", "platform"} & teams


def test_the_report_counts_tags_naming_unregistered_teams_as_tags():
    from datetime import date

    from dagster_project.lib.report.sections.data_quality import coverage_summary

    c = duckdb.connect()
    c.execute("create schema marts")
    c.execute(
        """create table marts.rpt_attribution_coverage as
           select date '2026-03-01' as billing_month, 'aws' as provider,
                  'USD' as billing_currency, 200::decimal(38, 24) as total_effective_cost,
                  10::decimal(38, 24) as tag_cost, 0::decimal(38, 24) as tag_alias_cost,
                  150::decimal(38, 24) as tag_unregistered_cost,
                  0::decimal(38, 24) as account_map_cost, 0::decimal(38, 24) as resource_rule_cost,
                  30::decimal(38, 24) as shared_split_cost,
                  10::decimal(38, 24) as unallocated_cost""")
    months = (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1))
    (row,) = coverage_summary(c, months).rows
    # Tags (10 + 150) / 200, account map, resource rule, shared split, unallocated, in percent.
    assert [row[m] for m in ("Tags", "Account map", "Resource rule", "Shared split",
                             "Unallocated")] == [Decimal("80.0"), 0, 0, Decimal("15.0"),
                                                 Decimal("5.0")]
    # A mart without the column (older warehouses): the tags share is what it was.
    c.execute("alter table marts.rpt_attribution_coverage drop column tag_unregistered_cost")
    (old,) = coverage_summary(c, months).rows
    assert old["Tags"] == Decimal("5.0")
