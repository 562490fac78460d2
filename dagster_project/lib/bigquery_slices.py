"""Incremental publishing of the DuckDB raw layer to BigQuery (``lib.bigquery``): only the
deliveries BigQuery has not got yet are uploaded, each as its own slice of the family's raw
table; `restore_ledger` gives a fresh local DuckDB BigQuery's ledger first.

A delivery is a landed file (`_file_id` on its raw rows, `file_id` in the meta tables). It is
published when its `loaded` row is in BigQuery's `meta.load_ledger`, which is written last:

1. journal: the deliveries about to be loaded are written to `meta.publish_pending`;
2. repair: rows of journalled deliveries that never reached the ledger (a run killed between
   its load jobs and its ledger) are deleted (`where _file_id = @file_id`);
3. raw: one CSV per new delivery (only its rows), staged in GCS or uploaded with the job, one
   `WRITE_APPEND` load job into the raw table (partitioned by `_billing_period`, clustered by
   `_provider`, `_billing_account_id`); the loaded row count must equal DuckDB's;
4. small tables replaced whole when they changed: `raw.mlflow_runs`, `meta.mlflow_sync_status`
   (by fingerprint, `meta.publish_fingerprints`), `meta.deliveries` (supersession flags), and
   last `meta.load_ledger`, which commits the deliveries;
5. the journal is dropped.

A run killed anywhere leaves either a journal entry (repaired by the next run) or a ledger row
(nothing to do), so a delivery is never counted twice nor recorded without its rows. Rows of the
meta tables that BigQuery has and DuckDB has not (the native GCP export read in place by
`bigquery_export`) are kept. One publisher at a time (the run lock).
"""

from __future__ import annotations

import csv
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from .bigquery_common import BigQuerySettings, meta_schemas, raw_schema, table_id, table_schema
from .bigquery_publish import export_csv, load_file
from .ingest.errors import BadInputError
from .ingest.families import FAMILIES
from .ingest.loader import ensure_meta
from .ingest.sql import quote_ident

PENDING = "publish_pending"
FINGERPRINTS = "publish_fingerprints"
_PENDING_COLUMNS = [("file_id", "STRING"), ("raw_table", "STRING"), ("started_at", "TIMESTAMP")]
_FINGERPRINT_COLUMNS = [("table_name", "STRING"), ("fingerprint", "STRING"),
                        ("published_at", "TIMESTAMP")]
# Replaced whole when their content changes: (DuckDB schema, table, BigQuery dataset attribute).
_WHOLE_TABLES = [("raw", "mlflow_runs", "raw_dataset"),
                 ("meta", "mlflow_sync_status", "meta_dataset")]
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TYPE = re.compile(r"^[A-Z0-9]+$")
_RAW_TABLES = {spec.raw_table: name for name, spec in FAMILIES.items()}


@dataclass
class Upload:
    """One load job: a delivery's rows (file_id set) or a small table replaced whole."""
    table: str
    rows: int
    bytes: int
    file_id: str | None = None


@dataclass
class PublishReport:
    uploads: list[Upload] = field(default_factory=list)
    # Deliveries whose rows a killed earlier run had left without a ledger row: deleted first.
    repaired: list[str] = field(default_factory=list)

    @property
    def deliveries(self) -> list[Upload]:
        return [u for u in self.uploads if u.file_id]

    @property
    def load_jobs(self) -> int:
        return len(self.uploads)

    @property
    def bytes_uploaded(self) -> int:
        return sum(u.bytes for u in self.uploads)


def raw_table_ddl(table: str, columns: list[tuple[str, str]]) -> str:
    """CREATE TABLE of a raw table: one partition per billing month, clustered by provider and
    billing account (the slice key). DDL takes no parameters: names and types are checked."""
    for col, typ in columns:
        if not _COLUMN.match(col) or not _TYPE.match(typ):
            raise BadInputError(table, f"column {col!r} {typ!r} is not a plain name and type.")
    cols = ", ".join(f"`{c}` {t}" for c, t in columns)
    return (f"create table {table_id(table)} ({cols}) "
            "partition by date_trunc(_billing_period, month) "
            "cluster by _provider, _billing_account_id")


def publish_new_deliveries(con: duckdb.DuckDBPyConnection, client,
                           settings: BigQuerySettings) -> PublishReport:
    """Upload what BigQuery has not got yet (see the module docstring); a second call with
    nothing new makes no load job."""
    ensure_meta(con)
    _ensure_datasets(client, settings)
    _ensure_raw_tables(client, settings)
    meta_tables = _read_bq_meta(con, client, settings)
    _refuse_unknown_deliveries(con, settings)
    new = con.execute(
        "select file_id, any_value(family) from meta.load_ledger where status = 'loaded' "
        "and file_id not in (select file_id from bq_load_ledger where status = 'loaded') "
        "group by file_id order by min(loaded_at), file_id").fetchall()
    published = {r[0] for r in con.execute(
        "select file_id from bq_load_ledger where status = 'loaded'").fetchall()}
    pending_id = _meta_id(settings, PENDING)
    dirty = {r["file_id"]: r["raw_table"] for r in _rows(client, pending_id, meta_tables)
             if r["file_id"] not in published}
    todo = {file_id: FAMILIES[family].raw_table for file_id, family in new}
    report = PublishReport()
    now = datetime.now(UTC).replace(tzinfo=None)
    with tempfile.TemporaryDirectory(prefix="mlcost-bq-") as tmp:
        tmp_dir = Path(tmp)
        journal = {**dirty, **todo}
        if journal:
            report.uploads.append(_write_rows(
                client, settings, tmp_dir / f"meta.{PENDING}.csv", pending_id, _PENDING_COLUMNS,
                [[f, t, now] for f, t in journal.items()]))
        for file_id, table in dirty.items():
            _delete_delivery(client, settings, table, file_id)
            report.repaired.append(file_id)
        for file_id, table in todo.items():
            upload = _upload_delivery(con, client, settings, tmp_dir, file_id, table)
            if upload:
                report.uploads.append(upload)
        report.uploads += _publish_whole_tables(con, client, settings, tmp_dir, meta_tables, now)
        report.uploads += _publish_meta(con, client, settings, tmp_dir, meta_tables)
    if journal or PENDING in meta_tables:
        client.delete_table(pending_id, not_found_ok=True)
    return report


def restore_ledger(con: duckdb.DuckDBPyConnection, client,
                   settings: BigQuerySettings) -> dict[str, int]:
    """Copy BigQuery's `load_ledger` and `deliveries` into the local DuckDB (rows it lacks), so
    that a fresh working copy skips what BigQuery already holds and supersedes it correctly.
    Returns the rows added per table."""
    ensure_meta(con)
    _ensure_datasets(client, settings)
    _read_bq_meta(con, client, settings)
    added = {}
    for table, missing in (
            ("load_ledger", "not exists (select 1 from meta.load_ledger l where "
             "l.file_id = b.file_id and l.path = b.path and l.status = b.status)"),
            ("deliveries", "b.file_id not in (select file_id from meta.deliveries)")):
        (added[table],) = con.execute(
            f"select count(*) from bq_{table} b where {missing}").fetchone()
        con.execute(f"insert into meta.{table} by name select * from bq_{table} b where {missing}")
    return added


def _ensure_datasets(client, settings: BigQuerySettings) -> None:
    from google.cloud import bigquery

    for dataset in (settings.raw_dataset, settings.meta_dataset):
        ds = bigquery.Dataset(f"{settings.project}.{dataset}")
        ds.location = settings.location
        client.create_dataset(ds, exists_ok=True)


def _ensure_raw_tables(client, settings: BigQuerySettings) -> None:
    """Create missing raw tables partitioned and clustered (one DDL job each, first run only).
    Tables made earlier by `publish_warehouse` are used as they are."""
    have = {t.table_id for t in client.list_tables(f"{settings.project}.{settings.raw_dataset}")}
    for name, spec in FAMILIES.items():
        if spec.raw_table not in have:
            client.query(raw_table_ddl(_raw_id(settings, spec.raw_table),
                                       raw_schema(name, settings.money_type))).result()


def _read_bq_meta(con, client, settings: BigQuerySettings) -> set[str]:
    """BigQuery's ledger and deliveries into DuckDB temp tables `bq_load_ledger` and
    `bq_deliveries` (empty before the first publish). Returns the meta tables BigQuery has."""
    have = {t.table_id for t in client.list_tables(f"{settings.project}.{settings.meta_dataset}")}
    for table in ("load_ledger", "deliveries"):
        con.execute(f"create or replace temp table bq_{table} as select * from meta.{table} "
                    "limit 0")
        rows = _rows(client, _meta_id(settings, table), have)
        if not rows:
            continue
        cols = [c for c, _ in meta_schemas()[table] if c in rows[0]]
        con.executemany(
            f"insert into bq_{table} ({', '.join(quote_ident(c) for c in cols)}) "
            f"values ({', '.join('?' for _ in cols)})",
            [[_naive_utc(r[c]) for c in cols] for r in rows])
    return have


def _rows(client, full_id: str, have: set[str]) -> list[dict]:
    if full_id.rsplit(".", 1)[1] not in have:
        return []
    return [dict(r.items()) for r in client.list_rows(full_id)]


def _naive_utc(value):
    # BigQuery returns TIMESTAMPs aware (UTC); DuckDB's ledger holds naive UTC.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _refuse_unknown_deliveries(con, settings: BigQuerySettings) -> None:
    """A DuckDB that has not seen BigQuery's earlier deliveries would publish a re-delivery as
    current next to the delivery it replaces: refuse, naming the fix."""
    n, example = con.execute(
        "select count(*), min(path) from bq_load_ledger where status = 'loaded' "
        "and coalesce(source_format, '') <> 'bigquery_export' "
        "and file_id not in (select file_id from meta.load_ledger)").fetchone()
    if n:
        raise BadInputError(
            _meta_id(settings, "load_ledger"),
            f"records {n} delivered file(s) this DuckDB warehouse has not loaded "
            f"(e.g. {example}).",
            hint="Run restore_ledger on the local warehouse before ingesting, so that "
                 "supersession sees what BigQuery already holds.")


def _upload_delivery(con, client, settings, tmp_dir: Path, file_id: str,
                     table: str) -> Upload | None:
    (expected,) = con.execute(
        f"select count(*) from raw.{quote_ident(table)} where _file_id = ?", [file_id]).fetchone()
    if not expected:
        return None
    columns = raw_schema(_RAW_TABLES[table], settings.money_type)
    path = tmp_dir / f"raw.{table}.{file_id}.csv"
    export_csv(con, f"raw.{quote_ident(table)}", columns, settings.money_type, path,
               "_file_id = ?", [file_id])
    full_id = _raw_id(settings, table)
    got = load_file(client, settings, path, full_id, columns, truncate=False)
    if got != expected:
        raise BadInputError(
            full_id, f"loaded {got} rows of delivery {file_id}, DuckDB has {expected}.",
            hint="Rerun the publish: the delivery stays in meta.publish_pending and its rows "
                 "are replaced.")
    return Upload(full_id, expected, path.stat().st_size, file_id)


def _delete_delivery(client, settings: BigQuerySettings, table: str, file_id: str) -> None:
    from google.cloud import bigquery

    if table not in _RAW_TABLES:
        raise BadInputError(_meta_id(settings, PENDING), f"names {table!r}, not a raw table.")
    client.query(
        f"delete from {table_id(_raw_id(settings, table))} where _file_id = @file_id",
        job_config=bigquery.QueryJobConfig(query_parameters=[
            bigquery.ScalarQueryParameter("file_id", "STRING", file_id)])).result()


def _publish_whole_tables(con, client, settings, tmp_dir: Path, meta_tables: set[str],
                          now: datetime) -> list[Upload]:
    """MLflow runs and their sync status: small, replaced whole when their fingerprint (a hash
    of the sorted rows) differs from the one recorded in BigQuery."""
    fp_id = _meta_id(settings, FINGERPRINTS)
    recorded = {r["table_name"]: r["fingerprint"] for r in _rows(client, fp_id, meta_tables)}
    current, uploads = {}, []
    for schema, table, dataset_attr in _WHOLE_TABLES:
        (current[f"{schema}.{table}"],) = con.execute(
            f"select md5(coalesce(string_agg(cast(t as varchar), chr(10) "
            f"order by cast(t as varchar)), '')) || ':' || count(*) "
            f"from {schema}.{quote_ident(table)} as t").fetchone()
        if recorded.get(f"{schema}.{table}") == current[f"{schema}.{table}"]:
            continue
        full_id = f"{settings.project}.{getattr(settings, dataset_attr)}.{table}"
        columns = table_schema(con, schema, table, settings.money_type)
        uploads.append(_replace(con, client, settings, tmp_dir, f"{schema}.{quote_ident(table)}",
                                full_id, columns))
    if uploads:
        uploads.append(_write_rows(client, settings, tmp_dir / f"meta.{FINGERPRINTS}.csv", fp_id,
                                   _FINGERPRINT_COLUMNS,
                                   [[t, f, now] for t, f in sorted(current.items())]))
    return uploads


def _publish_meta(con, client, settings, tmp_dir: Path, meta_tables: set[str]) -> list[Upload]:
    """Replace `deliveries`, then `load_ledger`, when DuckDB has rows or supersession flags that
    BigQuery lacks. Rows only BigQuery has (the native export read in place) are kept."""
    state = "file_id, provider, billing_account_id, billing_period, currency, is_current, " \
            "superseded_by"
    checks = {
        "deliveries": (f"select {state} from meta.deliveries except select {state} "
                       "from bq_deliveries",
                       "b.file_id not in (select file_id from meta.deliveries)"),
        "load_ledger": ("select file_id, path, status from meta.load_ledger except "
                        "select file_id, path, status from bq_load_ledger",
                        "not exists (select 1 from meta.load_ledger l where l.file_id = "
                        "b.file_id and l.path = b.path and l.status = b.status)"),
    }
    uploads = []
    for table, (differ, keep) in checks.items():
        if table in meta_tables and not con.execute(f"{differ} limit 1").fetchone():
            continue
        con.execute(f"create or replace temp table publish_{table} as select * from "
                    f"meta.{table} union all by name select * from bq_{table} b where {keep}")
        uploads.append(_replace(con, client, settings, tmp_dir, f"publish_{table}",
                                _meta_id(settings, table),
                                meta_schemas(settings.money_type)[table]))
    return uploads


def _replace(con, client, settings, tmp_dir: Path, source: str, full_id: str,
             columns: list[tuple[str, str]]) -> Upload:
    path = tmp_dir / f"{full_id.split('.', 1)[1]}.csv"
    export_csv(con, source, columns, settings.money_type, path)
    (expected,) = con.execute(f"select count(*) from {source}").fetchone()
    got = load_file(client, settings, path, full_id, columns, truncate=True)
    if got != expected:
        raise BadInputError(full_id, f"has {got} rows after the load job, DuckDB has {expected}.",
                            hint="Rerun the publish (it replaces the table).")
    return Upload(full_id, expected, path.stat().st_size)


def _write_rows(client, settings, path: Path, full_id: str, columns, rows) -> Upload:
    """A small bookkeeping table (journal, fingerprints) replaced by one load job."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow([c for c, _ in columns])
        for row in rows:
            out.writerow([v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v
                          for v in row])
    load_file(client, settings, path, full_id, columns, truncate=True)
    return Upload(full_id, len(rows), path.stat().st_size)


def _raw_id(settings: BigQuerySettings, table: str) -> str:
    return f"{settings.project}.{settings.raw_dataset}.{table}"


def _meta_id(settings: BigQuerySettings, table: str) -> str:
    return f"{settings.project}.{settings.meta_dataset}.{table}"
