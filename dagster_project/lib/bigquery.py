"""Ingestion into BigQuery for the `prod` dbt target (docs/bigquery.md).

The BigQuery raw layer has the DuckDB layout the dbt models read: one `raw` table per export
family (every source value as STRING, plus typed lineage columns) and the `meta.load_ledger` /
`meta.deliveries` tables that say which delivery of each slice is current. Three ways to fill it:

- `publish_warehouse`: detection, validation and supersession run in DuckDB as for the dev
  target (`lib.ingest`); the resulting raw and meta tables are then loaded into BigQuery with
  load jobs, each table replaced as a whole (a re-run never double counts). Files are staged in
  GCS and loaded from there (`load_table_from_uri`) when a staging bucket is configured, or
  uploaded with the job (`load_table_from_file`) otherwise; `external_tables` defines the same
  tables over the staged GCS files instead of loading them.
- `publish_new_deliveries` (the production path): only the deliveries BigQuery's ledger lacks
  are uploaded, each appended as its own slice of a raw table partitioned by billing month and
  clustered by provider and account; supersession flags and the ledger follow, crash-safe
  (`bigquery_slices`). `restore_ledger` first gives a fresh local DuckDB BigQuery's ledger.
- `ingest_gcp_billing_export`: the native GCP Cloud Billing export, which already lives in
  BigQuery, is read where it is: one query job per invoice month copies the month into
  `raw.gcp_billing` in the raw layout and records the delivery, so no data leaves BigQuery.

Everything is configured from the environment (`BigQuerySettings.from_env`). SQL text only ever
contains identifiers checked by `table_id`; values are query parameters.

This module is the public face; the work is split by job: `bigquery_common` (settings, client,
identifiers, schemas), `bigquery_publish` (landed files, whole tables), `bigquery_slices`
(landed files, incremental) and `bigquery_export` (the native export).
"""

from __future__ import annotations

from .bigquery_common import (
    BigQuerySettings,
    client_for,
    meta_schemas,
    raw_schema,
    schema_fields,
    table_id,
)
from .bigquery_export import (
    ExportIngest,
    gcp_export_insert_sql,
    gcp_export_slices_sql,
    ingest_gcp_billing_export,
)
from .bigquery_publish import PublishedTable, external_table, load_from_gcs, publish_warehouse
from .bigquery_slices import (
    PublishReport,
    Upload,
    publish_new_deliveries,
    raw_table_ddl,
    restore_ledger,
)

__all__ = [
    "BigQuerySettings", "ExportIngest", "PublishReport", "PublishedTable", "Upload", "client_for",
    "external_table", "gcp_export_insert_sql", "gcp_export_slices_sql",
    "ingest_gcp_billing_export", "load_from_gcs", "meta_schemas", "publish_new_deliveries",
    "publish_warehouse", "raw_schema", "raw_table_ddl", "restore_ledger", "schema_fields",
    "table_id",
]

