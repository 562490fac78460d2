"""The authorized-view variant of `mlcost bigquery-access` (lib/bigquery_access.py) on the
local BigQuery emulator: each team's views return that team's rows only, with exact totals.

Skipped unless MLCOST_BQ_EMULATOR names the `crucible` executable (`make test-bigquery`
installs it in .venv-crucible). The emulator has no IAM: it cannot set dataset access entries
(authorizing the views) nor run row access policies; the two tests at the end pin that down,
and docs/bigquery.md lists it under "What the emulator cannot show"."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from dagster_project import settings
from dagster_project.lib import bigquery as bq
from dagster_project.lib import bigquery_access as ba

from .conftest import CRUCIBLE

pytestmark = pytest.mark.skipif(
    not CRUCIBLE, reason="needs the BigQuery emulator: run `make test-bigquery`")

PROJECT = "mlcost-emulator"
# (billing_period, provider, team, effective_cost): two teams, and cost no team owns.
ROWS = [
    ("2026-10", "gcp", "search-ranking", "1200.125000000"),
    ("2026-11", "gcp", "search-ranking", "800.000000001"),
    ("2026-11", "aws", "search-ranking", "0.333333333"),
    ("2026-10", "aws", "fraud-detection", "450.500000000"),
    ("2026-11", "aws", "fraud-detection", "49.499999999"),
    ("2026-11", "gcp", "unallocated", "77.000000000"),
]


@pytest.fixture(scope="module")
def client(emulator):
    from google.cloud import bigquery

    s = bq.BigQuerySettings(project=PROJECT, api_endpoint=emulator, money_type="NUMERIC")
    c = bq.client_for(s)
    c.create_dataset(bigquery.Dataset(f"{PROJECT}.marts"), exists_ok=True)
    # Every team-grained mart must exist for its views; only fct_cost_allocations has rows.
    allocations = bq.schema_fields([("billing_period", "STRING"), ("provider", "STRING"),
                                    ("team", "STRING"), ("effective_cost", "NUMERIC")])
    for table in ba.TEAM_TABLES:
        schema = allocations if table == "fct_cost_allocations" else allocations[2:]
        c.create_table(bigquery.Table(f"{PROJECT}.marts.{table}", schema=schema),
                       exists_ok=True)
    # A CSV load job (the emulator's only load format), not INSERT: no query parameters there.
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(ROWS)
    job = c.load_table_from_file(
        io.BytesIO(text.getvalue().encode()), f"{PROJECT}.marts.fct_cost_allocations",
        job_config=bigquery.LoadJobConfig(schema=allocations, source_format="CSV",
                                          write_disposition="WRITE_TRUNCATE"))
    job.result()
    return c


@pytest.fixture(scope="module")
def rules():
    return ba.load_rules(settings.PROJECT_ROOT / "seeds", "demo")


def _view_rows(client, team: str) -> list[tuple]:
    view = ba.table_id(f"{PROJECT}.marts_team_{ba.slug(team)}.fct_cost_allocations")
    # The view is a checked identifier; the statement has no data values.
    return [tuple(r.values()) for r in client.query(
        f"select billing_period, provider, team, effective_cost from {view} "  # noqa: S608
        "order by billing_period, provider").result()]


def test_each_team_view_returns_only_that_teams_rows(client, rules):
    n = ba.create_team_views(client, rules, PROJECT, "US")
    assert n == len(rules.teams) * len(ba.TEAM_TABLES)
    for team in ("search-ranking", "fraud-detection"):
        got = _view_rows(client, team)
        expected = sorted((p, v, t, Decimal(e)) for p, v, t, e in ROWS if t == team)
        assert got == expected
        total = sum(Decimal(e) for *_, t, e in ROWS if t == team)
        assert sum(r[3] for r in got) == total
    assert _view_rows(client, "recommendations") == []  # a team with no cost sees nothing
    seen = {r[2] for team in rules.teams for r in _view_rows(client, team)}
    assert "unallocated" not in seen  # cost no team owns: finance and platform only


def test_exact_totals_per_team(client, rules):
    """The totals as BigQuery sums them through each view (NUMERIC, exact)."""
    ba.create_team_views(client, rules, PROJECT, "US")  # idempotent: replaces the views
    expected = {"search-ranking": Decimal("2000.458333334"),
                "fraud-detection": Decimal("499.999999999")}
    for team, total in expected.items():
        view = ba.table_id(f"{PROJECT}.marts_team_{ba.slug(team)}.fct_cost_allocations")
        rows = client.query(f"select team, sum(effective_cost) as total from {view} "  # noqa: S608
                            "group by team").result()
        assert [(r["team"], r["total"]) for r in rows] == [(team, total)]


@pytest.mark.parametrize("value", ['x"); drop table t --', "a'b", "a\\b", "line\nbreak",
                                   "semi;colon", "`tick`"])
def test_escaped_literals_round_trip_on_the_emulator(client, value):
    rows = list(client.query(f"select {ba.sql_string(value)} as v").result())
    assert [r["v"] for r in rows] == [value]


def test_the_emulator_cannot_authorize_views(client, rules):
    """Crucible has no PATCH on datasets, so the access entries (authorized views, team
    readers) cannot be set there; when it gains them, this fails: assert them instead."""
    from google.api_core.exceptions import MethodNotImplemented

    ba.create_team_views(client, rules, PROJECT, "US")
    with pytest.raises(MethodNotImplemented, match="PATCH"):
        ba.authorize_views(client, rules, PROJECT)


def test_the_emulator_cannot_run_row_access_policies(client, rules):
    from google.api_core.exceptions import BadRequest

    statement = ba.policy_statements(rules, PROJECT)[0]
    with pytest.raises(BadRequest, match="Not supported by Crucible"):
        client.query(statement).result()
