"""Incremental publishing (lib/bigquery_slices.py) on the BigQuery emulator: the real GCP
samples are published delivery by delivery, one of them is re-delivered with restated costs and
published again; BigQuery then holds each delivery's rows exactly once, the old delivery is
superseded, and the current totals equal DuckDB's. A fresh DuckDB restored from the emulator's
ledger has nothing to publish, and the FOCUS reconciliation built by dbt on the partitioned
tables counts the re-delivered slice once, at its restated total. Run by `make test-bigquery`;
what the emulator cannot show (query parameters, DELETE, so the repair path; GCS staging) is in
docs/bigquery.md."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from dagster_project.lib import bigquery as bq
from dagster_project.lib.ingest.loader import discover, ingest_paths

from ..conftest import REAL
from ..test_bigquery_slices import GCP_DETAILED, _file_id, _redeliver_gcp_detailed
from .conftest import dbt_on_emulator

pytestmark = pytest.mark.skipif(
    not os.environ.get("MLCOST_BQ_EMULATOR"),
    reason="needs the BigQuery emulator: run `make test-bigquery`")

PROJECT = "mlcost-slices"  # spelled out in the SQL below


def _by_file(client) -> dict[str, int]:
    return {r["_file_id"]: r["n"] for r in client.query(
        "select _file_id, count(*) as n from `mlcost-slices.raw.gcp_billing` group by _file_id"
    ).result()}


def _current_totals(client) -> set[tuple]:
    return {(r["file_id"], r["billing_period"], Decimal(r["billed_total"]).normalize())
            for r in client.query(
                "select file_id, billing_period, billed_total "
                "from `mlcost-slices.meta.deliveries` where is_current").result()}


def _duck_current_totals(con) -> set[tuple]:
    return {(f, p, Decimal(b).normalize()) for f, p, b in con.execute(
        "select file_id, billing_period, billed_total from meta.deliveries where is_current"
    ).fetchall()}


@pytest.fixture(scope="module")
def redelivered(emulator, tmp_path_factory):
    """(client, settings, DuckDB, old and new file_id, reports of the three publishes)."""
    base = tmp_path_factory.mktemp("bq-slices")
    s = bq.BigQuerySettings(project=PROJECT, api_endpoint=emulator, money_type="NUMERIC")
    client = bq.client_for(s)
    con = duckdb.connect(str(base / "wh.duckdb"))
    ingest_paths(con, discover(REAL / "gcp"))
    first = bq.publish_new_deliveries(con, client, s)
    again = bq.publish_new_deliveries(con, client, s)
    new_path = _redeliver_gcp_detailed(base / "delivery-2" / GCP_DETAILED.name)
    ingest_paths(con, [new_path])
    third = bq.publish_new_deliveries(con, client, s)
    yield (client, s, con, _file_id(con, GCP_DETAILED), _file_id(con, new_path),
           (first, again, third))
    con.close()


def test_each_delivery_is_loaded_once_into_a_partitioned_table(redelivered):
    client, _, con, old, new, (first, again, third) = redelivered
    assert len(first.deliveries) == 2 and again.load_jobs == 0
    assert [(d.file_id, d.rows) for d in third.deliveries] == [(new, 9)]
    duck = dict(con.execute("select _file_id, count(*) from raw.gcp_billing group by 1"
                            ).fetchall())
    assert _by_file(client) == duck and duck[old] == duck[new] == 9
    table = client.get_table(f"{PROJECT}.raw.gcp_billing")
    assert (table.time_partitioning.type_, table.time_partitioning.field) == (
        "MONTH", "_billing_period")
    assert table.clustering_fields == ["_provider", "_billing_account_id"]


def test_redelivery_supersedes_and_current_totals_equal_duckdb(redelivered):
    client, _, con, old, new, _ = redelivered
    flags = {r["file_id"]: (r["is_current"], r["superseded_by"]) for r in client.query(
        "select file_id, is_current, superseded_by from `mlcost-slices.meta.deliveries`").result()}
    assert flags[old] == (False, new) and flags[new] == (True, None)
    assert _current_totals(client) == _duck_current_totals(con)
    assert Decimal("0.090012") in {t for _, _, t in _current_totals(client)}
    ledger = {(r["file_id"], r["status"]) for r in client.query(
        "select file_id, status from `mlcost-slices.meta.load_ledger`").result()}
    assert ledger == set(con.execute("select file_id, status from meta.load_ledger").fetchall())


def test_a_fresh_duckdb_restored_from_the_emulator_has_nothing_to_publish(redelivered):
    client, s, con, *_ = redelivered
    fresh = duckdb.connect()
    added = bq.restore_ledger(fresh, client, s)
    assert added == {"load_ledger": 3, "deliveries": 3}
    assert _duck_current_totals(fresh) == _duck_current_totals(con)
    report = bq.publish_new_deliveries(fresh, client, s)
    assert report.load_jobs == 0
    fresh.close()


def test_focus_counts_the_redelivered_slice_once(redelivered, emulator, tmp_path):
    """dbt on the partitioned raw tables: staging reads the current delivery of each slice, so
    the superseded rows (still in raw) are not counted."""
    client, _, con, *_ = redelivered
    res = dbt_on_emulator(emulator, PROJECT, tmp_path / "target",
                          ["build", "--select", "+rpt_focus_reconciliation",
                           "--exclude-resource-type", "unit_test"])
    assert res.returncode == 0, (res.stdout + res.stderr)[-6000:]
    recon = {(r["billing_period"], r["billing_account_id"]):
             (r["status"], Decimal(r["focus_billed_total"]).normalize())
             for r in client.query("select billing_period, billing_account_id, status, "
                                   "focus_billed_total from "
                                   "`mlcost-slices.focus.rpt_focus_reconciliation`").result()}
    want = {(p, a): ("reconciled", Decimal(b).normalize()) for p, a, b in con.execute(
        "select billing_period, billing_account_id, billed_total from meta.deliveries "
        "where is_current").fetchall()}
    assert recon == want
    assert recon[(date(2022, 8, 1), "018984-D0AAA4-940B88")][1] == Decimal("0.090012")
