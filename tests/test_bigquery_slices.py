"""Incremental publishing to BigQuery (lib/bigquery_slices.py, issue #19 "Ingestion that
scales"), against a recording fake client that keeps BigQuery's tables in memory: only new
deliveries are uploaded, a re-delivery reloads only its own slice and supersedes the old one,
a killed run is repaired, and a fresh DuckDB restored from BigQuery's ledger carries on."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from dagster_project.lib import bigquery as bq
from dagster_project.lib.ingest.errors import BadInputError
from dagster_project.lib.ingest.loader import ingest_paths

from .conftest import REAL

FOCUS = REAL / "multi/focus_1.0_finops_foundation_sample/focus_sample.csv"
GCP_STANDARD = REAL / "gcp/bigquery_standard_export_csv_with_credits/evidence-2019-06-03.csv"
GCP_DETAILED = REAL / "gcp/bigquery_detailed_export_csv/2022-08-01_5.csv"
SETTINGS = bq.BigQuerySettings(project="p")


class RecordingBigQuery:
    """Keeps tables as lists of typed rows; records every load job and query in order."""

    def __init__(self):
        self.tables: dict[str, list[dict]] = {}
        self.ddl: dict[str, str] = {}
        self.loads: list[dict] = []  # {"table", "rows", "bytes", "disposition"}
        self.queries: list[tuple[str, dict]] = []
        self.fail_load_into: str | None = None  # simulate a run killed at this load job
        self.staged: dict[str, bytes] = {}  # gs:// URI -> content

    def create_dataset(self, dataset, exists_ok=False):
        return dataset

    def list_tables(self, dataset: str):
        return [SimpleNamespace(table_id=t.rsplit(".", 1)[1]) for t in self.tables
                if t.rsplit(".", 1)[0] == dataset]

    def list_rows(self, table_id: str):
        return [dict(r) for r in self.tables[table_id]]  # Row.items() as a dict has it

    def delete_table(self, table_id: str, not_found_ok=False):
        self.tables.pop(table_id, None)

    def query(self, sql, job_config=None):
        params = {p.name: p.value for p in (job_config.query_parameters if job_config else [])}
        self.queries.append((sql, params))
        if sql.startswith("create table"):
            name = re.match(r"create table `([^`]+)`", sql).group(1)
            self.tables[name], self.ddl[name] = [], sql
        elif sql.startswith("delete from"):
            name = re.match(r"delete from `([^`]+)` where _file_id = @file_id$", sql).group(1)
            self.tables[name] = [r for r in self.tables[name]
                                 if r["_file_id"] != params["file_id"]]
        else:
            raise AssertionError(f"unexpected query: {sql}")
        return SimpleNamespace(result=lambda: [])

    def load_table_from_uri(self, uris, table_id, job_config):
        """Loads from the files `staged` (see test_staging_uploads_each_delivery_once)."""
        [uri] = uris
        return self.load_table_from_file(io.BytesIO(self.staged[uri]), table_id, job_config)

    def load_table_from_file(self, fh, table_id, job_config):
        data = fh.read()
        if table_id == self.fail_load_into:
            self.fail_load_into = None
            raise RuntimeError("killed")
        types = {f.name: f.field_type for f in job_config.schema}
        reader = csv.DictReader(io.StringIO(data.decode()))
        rows = [{c: _typed(v, types[c]) for c, v in r.items()} for r in reader]
        truncate = job_config.write_disposition == "WRITE_TRUNCATE"
        assert truncate or table_id in self.tables, f"append to missing {table_id}"
        self.tables[table_id] = rows if truncate else self.tables[table_id] + rows
        self.loads.append({"table": table_id, "rows": len(rows), "bytes": len(data),
                           "disposition": job_config.write_disposition})
        return SimpleNamespace(result=lambda: None, output_rows=len(rows))

    def rows_by_file(self, table_id: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.tables[table_id]:
            out[r["_file_id"]] = out.get(r["_file_id"], 0) + 1
        return out


def _typed(value: str, field_type: str):
    """CSV text as BigQuery would type it (an empty field is NULL, as DuckDB writes it)."""
    if value == "":
        return None
    if field_type in ("INT64", "INTEGER"):
        return int(value)
    if field_type in ("NUMERIC", "BIGNUMERIC"):
        return Decimal(value)
    if field_type in ("BOOL", "BOOLEAN"):
        return value == "true"
    if field_type == "DATE":
        return date.fromisoformat(value)
    if field_type == "TIMESTAMP":
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    return value


def _redeliver_gcp_detailed(dest: Path) -> Path:
    """The same GCP export slice (account, August 2022) delivered again with restated costs."""
    with open(GCP_DETAILED, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    i = rows[0].index("cost")
    for r in rows[1:]:
        r[i] = str(Decimal(r[i]) + Decimal("0.01"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return dest


def _file_id(con, path: Path) -> str:
    return con.execute("select file_id from meta.load_ledger where path = ? and status = 'loaded'",
                       [str(path)]).fetchone()[0]


def _raw_loads(fake) -> list[dict]:
    return [j for j in fake.loads if ".raw." in j["table"] and "mlflow" not in j["table"]]


@pytest.fixture
def published(tmp_path):
    """A DuckDB with three deliveries (FOCUS, two GCP months) published once."""
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    files = [FOCUS, GCP_STANDARD, GCP_DETAILED]
    ingest_paths(con, files)
    fake = RecordingBigQuery()
    report = bq.publish_new_deliveries(con, fake, SETTINGS)
    yield con, fake, report
    con.close()


def test_first_publish_loads_every_delivery_once_then_commits_the_ledger(published):
    con, fake, report = published
    duck = dict(con.execute("select _file_id, count(*) from raw.focus group by 1").fetchall())
    duck_gcp = dict(con.execute(
        "select _file_id, count(*) from raw.gcp_billing group by 1").fetchall())
    assert fake.rows_by_file("p.raw.focus") == duck
    assert fake.rows_by_file("p.raw.gcp_billing") == duck_gcp
    raw = _raw_loads(fake)
    assert len(raw) == 3 and {j["disposition"] for j in raw} == {"WRITE_APPEND"}
    assert {(d.table, d.rows, d.bytes) for d in report.deliveries} == {
        (j["table"], j["rows"], j["bytes"]) for j in raw}
    order = [j["table"] for j in fake.loads]
    # Journal first, the raw slices, then the ledger last: it commits the deliveries.
    assert order[0] == "p.meta.publish_pending" and order[-1] == "p.meta.load_ledger"
    assert max(order.index(j["table"]) for j in raw) < order.index("p.meta.deliveries")
    assert "p.meta.publish_pending" not in fake.tables  # dropped once committed
    ledger = {(r["file_id"], r["status"]) for r in fake.tables["p.meta.load_ledger"]}
    assert ledger == set(con.execute("select file_id, status from meta.load_ledger").fetchall())
    # Every family's raw table exists, partitioned by month, clustered by the slice key.
    ddl = fake.ddl["p.raw.aws_cur_legacy"]
    assert "partition by date_trunc(_billing_period, month)" in ddl
    assert "cluster by _provider, _billing_account_id" in ddl and "`_billing_period` DATE" in ddl
    assert {"p.raw.mlflow_runs", "p.meta.mlflow_sync_status"} <= fake.tables.keys()


def test_second_publish_with_nothing_new_makes_no_load_job(published):
    con, fake, _ = published
    before = len(fake.loads)
    report = bq.publish_new_deliveries(con, fake, SETTINGS)
    assert report.load_jobs == 0 and report.bytes_uploaded == 0
    assert len(fake.loads) == before
    assert not [q for q, _ in fake.queries[-20:] if q.startswith("delete")]


def test_redelivery_reloads_only_its_slice_and_supersedes_the_old_one(published, tmp_path):
    con, fake, _ = published
    old = _file_id(con, GCP_DETAILED)
    new_path = _redeliver_gcp_detailed(tmp_path / "delivery-2" / "2022-08-01_5.csv")
    ingest_paths(con, [new_path])
    new = _file_id(con, new_path)
    before = len(fake.loads)
    report = bq.publish_new_deliveries(con, fake, SETTINGS)
    jobs = fake.loads[before:]
    assert [(j["table"], j["rows"]) for j in _raw_loads(fake)[3:]] == [("p.raw.gcp_billing", 9)]
    assert [(d.file_id, d.rows) for d in report.deliveries] == [(new, 9)]
    # Nothing else is reloaded: journal, the delivery, then the two small meta tables.
    assert [j["table"] for j in jobs] == ["p.meta.publish_pending", "p.raw.gcp_billing",
                                          "p.meta.deliveries", "p.meta.load_ledger"]
    assert fake.rows_by_file("p.raw.gcp_billing")[new] == 9
    assert fake.rows_by_file("p.raw.gcp_billing")[old] == 9  # kept for audit
    deliveries = {r["file_id"]: r for r in fake.tables["p.meta.deliveries"]}
    assert deliveries[old]["is_current"] is False and deliveries[old]["superseded_by"] == new
    assert deliveries[new]["is_current"] is True
    assert deliveries[new]["billed_total"] == Decimal("0.090012")
    current = sorted((r["file_id"], r["billing_period"], r["billed_total"])
                     for r in fake.tables["p.meta.deliveries"] if r["is_current"])
    assert current == sorted(con.execute(
        "select file_id, billing_period, billed_total from meta.deliveries where is_current"
    ).fetchall())


@pytest.mark.parametrize("killed_at", ["p.raw.gcp_billing", "p.meta.deliveries",
                                       "p.meta.load_ledger"])
def test_run_killed_before_the_ledger_is_repaired_without_double_counting(
        published, tmp_path, killed_at):
    con, fake, _ = published
    new_path = _redeliver_gcp_detailed(tmp_path / "delivery-2" / "2022-08-01_5.csv")
    ingest_paths(con, [new_path])
    new = _file_id(con, new_path)
    fake.fail_load_into = killed_at  # a load job that never happens: the run dies there
    with pytest.raises(RuntimeError):
        bq.publish_new_deliveries(con, fake, SETTINGS)
    loaded_before_kill = killed_at != "p.raw.gcp_billing"
    assert (new in fake.rows_by_file("p.raw.gcp_billing")) is loaded_before_kill
    assert new not in {r["file_id"] for r in fake.tables["p.meta.load_ledger"]}
    assert {r["file_id"] for r in fake.tables["p.meta.publish_pending"]} == {new}

    report = bq.publish_new_deliveries(con, fake, SETTINGS)
    assert report.repaired == [new]
    assert ("delete from `p.raw.gcp_billing` where _file_id = @file_id",
            {"file_id": new}) in fake.queries
    assert fake.rows_by_file("p.raw.gcp_billing")[new] == 9  # once, not twice
    assert new in {r["file_id"] for r in fake.tables["p.meta.load_ledger"]}
    assert "p.meta.publish_pending" not in fake.tables


def test_fresh_duckdb_restored_from_bigquery_publishes_only_the_redelivery(published, tmp_path):
    _, fake, _ = published
    fresh = duckdb.connect()
    added = bq.restore_ledger(fresh, fake, SETTINGS)
    assert added == {"load_ledger": 3, "deliveries": 6}
    # Files BigQuery already holds are duplicates now: nothing is read again.
    assert {o.status for o in ingest_paths(fresh, [FOCUS, GCP_STANDARD]).outcomes} == {
        "duplicate"}
    new_path = _redeliver_gcp_detailed(tmp_path / "delivery-2" / "2022-08-01_5.csv")
    ingest_paths(fresh, [new_path])
    before = len(fake.loads)
    report = bq.publish_new_deliveries(fresh, fake, SETTINGS)
    assert [(d.table, d.rows) for d in report.deliveries] == [("p.raw.gcp_billing", 9)]
    assert "p.raw.focus" not in {j["table"] for j in fake.loads[before:]}
    current = [r for r in fake.tables["p.meta.deliveries"]
               if r["is_current"] and r["billing_period"] == date(2022, 8, 1)]
    assert [r["file_id"] for r in current] == [_file_id(fresh, new_path)]
    assert len(fake.tables["p.meta.deliveries"]) == 7


def test_a_fresh_duckdb_without_the_ledger_is_refused(published, tmp_path):
    _, fake, _ = published
    fresh = duckdb.connect()
    ingest_paths(fresh, [_redeliver_gcp_detailed(tmp_path / "d2" / "x.csv")])
    before = len(fake.loads)
    with pytest.raises(BadInputError, match="restore_ledger"):
        bq.publish_new_deliveries(fresh, fake, SETTINGS)
    assert len(fake.loads) == before


def test_rows_bigquery_has_and_duckdb_has_not_are_kept(published, tmp_path):
    """Deliveries of the native GCP export, read in place by BigQuery, survive a meta
    replace."""
    con, fake, _ = published
    export_row = dict(fake.tables["p.meta.deliveries"][0], file_id="export-1", path="bigquery://x",
                      family="gcp_billing", provider="gcp", billing_period=date(2026, 11, 1))
    fake.tables["p.meta.deliveries"].append(export_row)
    ingest_paths(con, [_redeliver_gcp_detailed(tmp_path / "d2" / "x.csv")])
    bq.publish_new_deliveries(con, fake, SETTINGS)
    assert "export-1" in {r["file_id"] for r in fake.tables["p.meta.deliveries"]}


def test_raw_table_ddl_refuses_odd_names():
    with pytest.raises(BadInputError):
        bq.raw_table_ddl("p.raw.t", [("a; drop", "STRING")])
    with pytest.raises(BadInputError):
        bq.raw_table_ddl("p.raw.t`x", [("a", "STRING")])


def test_staging_uploads_each_delivery_once_and_loads_it_from_gcs(tmp_path, monkeypatch):
    from dagster_project.lib import bigquery_publish
    from dagster_project.lib import bigquery_slices as bq_slices

    fake = RecordingBigQuery()
    uploads: list[str] = []

    def stage(settings, path):  # stands in for the GCS upload: records what went up
        uri = f"{settings.staging_uri}/{path.name}"
        fake.staged[uri] = path.read_bytes()
        uploads.append(uri)
        return uri

    monkeypatch.setattr(bigquery_publish, "_stage_to_gcs", stage)
    staged = bq.BigQuerySettings(project="p", staging_uri="gs://bucket/mlcost")
    con = duckdb.connect()
    ingest_paths(con, [GCP_DETAILED])
    report = bq.publish_new_deliveries(con, fake, staged)
    [delivery] = report.deliveries
    uri = f"gs://bucket/mlcost/raw.gcp_billing.{delivery.file_id}.csv"
    assert len(fake.staged[uri]) == delivery.bytes and delivery.rows == 9
    assert fake.rows_by_file("p.raw.gcp_billing") == {delivery.file_id: 9}
    new_path = _redeliver_gcp_detailed(tmp_path / "d2" / "x.csv")
    ingest_paths(con, [new_path])
    del uploads[:]
    bq.publish_new_deliveries(con, fake, staged)
    # Only the re-delivery's rows go up, besides the journal and the two meta tables.
    assert uploads == [f"gs://bucket/mlcost/meta.{bq_slices.PENDING}.csv",
                       f"gs://bucket/mlcost/raw.gcp_billing.{_file_id(con, new_path)}.csv",
                       "gs://bucket/mlcost/meta.deliveries.csv",
                       "gs://bucket/mlcost/meta.load_ledger.csv"]
