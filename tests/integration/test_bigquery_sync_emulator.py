"""lib/bigquery_sync.py on the emulator: what a `--target prod` stage pushes comes back with
the same values and exact money, and each kind of pull (whole, window, projection, sample)
leaves the working copy holding exactly what it should, whatever an earlier pull left there.
Run by `make test-bigquery`."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from dagster_project.lib import bigquery as bq
from dagster_project.lib.bigquery_sync import Pull, pull, push

from .conftest import CRUCIBLE

pytestmark = pytest.mark.skipif(
    not CRUCIBLE, reason="needs the BigQuery emulator: run `make test-bigquery`")

PROJECT = "mlcost-sync"


@pytest.fixture(scope="module")
def pushed(emulator):
    """A stage's output pushed once: 3 billing months, money with 9 decimals, text that needs
    CSV quoting, a list, NULLs."""
    settings = bq.BigQuerySettings(project=PROJECT, api_endpoint=emulator, money_type="NUMERIC")
    client = bq.client_for(settings)
    con = duckdb.connect()
    con.execute("create schema focus")
    con.execute("""create table focus.costs as select * from (values
        (1, date '2026-07-01', 'aws', 'say "hi", ok', 10.123456789::decimal(38, 24), 1.5, ['a']),
        (2, date '2026-08-01', 'aws', 'line', 20.000000001::decimal(38, 24), 2.5, []),
        (3, date '2026-08-01', 'gcp', null, 0.333333333::decimal(38, 24), null, null),
        (4, date '2026-09-01', 'gcp', 'x', 5::decimal(38, 24), 0.0, ['b', 'c']))
        t(id, period, provider, note, cost, hours, tags)""")
    report = push(con, client, settings, ("focus",))
    assert report.pushed == {"focus.costs": 4}
    return settings, client


def test_a_pushed_table_comes_back_with_exact_money(pushed):
    settings, client = pushed
    local = duckdb.connect()
    report = pull(local, client, settings, [Pull("focus.costs")])
    assert report.pulled == {"focus.costs": 4}
    rows = local.execute("select id, period, provider, note, cost, hours, tags from focus.costs "
                         "order by id").fetchall()
    assert [r[4] for r in rows] == [Decimal("10.123456789"), Decimal("20.000000001"),
                                    Decimal("0.333333333"), Decimal("5")]
    assert rows[0][3] == 'say "hi", ok' and rows[2][3] is None
    assert [r[5] for r in rows] == [1.5, 2.5, None, 0.0]
    assert rows[3][6] == '["b","c"]'  # nested values travel as JSON text
    assert str(rows[1][1]) == "2026-08-01"


def test_a_missing_table_is_reported_not_created(pushed):
    settings, client = pushed
    local = duckdb.connect()
    report = pull(local, client, settings, [Pull("focus.nothing_here")])
    assert report.missing == ["focus.nothing_here"] and not report.pulled
    assert local.execute("select count(*) from information_schema.tables "
                         "where table_name = 'nothing_here'").fetchall() == [(0,)]


def test_a_window_replaces_only_its_months(pushed):
    settings, client = pushed
    local = duckdb.connect()
    pull(local, client, settings, [Pull("focus.costs")])
    local.execute("update focus.costs set note = 'stale'")
    pull(local, client, settings, [Pull("focus.costs", window="period")],
         window=("2026-08", "2026-08"))
    notes = dict(local.execute("select id, note from focus.costs").fetchall())
    # August came back from BigQuery; July and September kept the local copy's rows.
    assert notes == {1: "stale", 2: "line", 3: None, 4: "stale"}


def test_a_projection_then_a_sample_of_the_same_table(pushed):
    """Two checks read the same table in two shapes (sums per slice, then a sample of rows):
    the second pull must replace the first's shape, not merge into it."""
    settings, client = pushed
    local = duckdb.connect()
    pull(local, client, settings,
         [Pull("focus.costs", group_by=("provider",), sums=("cost",))])
    assert sorted(local.execute("select provider, cost from focus.costs").fetchall()) == [
        ("aws", Decimal("30.123456790")), ("gcp", Decimal("5.333333333"))]
    pull(local, client, settings, [Pull("focus.costs", window="period", limit=2)],
         window=("2026-07", "2026-09"))
    cols = [r[0] for r in local.execute("describe focus.costs").fetchall()]
    assert cols == ["id", "period", "provider", "note", "cost", "hours", "tags"]
    assert local.execute("select count(*) from focus.costs").fetchall() == [(2,)]
