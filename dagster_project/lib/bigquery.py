"""Ingestion into BigQuery for the `prod` dbt target (docs/bigquery.md).

The BigQuery raw layer has the DuckDB layout the dbt models read: one `raw` table per export
family (every source value as STRING, plus typed lineage columns) and the `meta.load_ledger` /
`meta.deliveries` tables that say which delivery of each slice is current. Two ways to fill it:

- `publish_warehouse`: detection, validation and supersession run in DuckDB as for the dev
  target (`lib.ingest`); the resulting raw and meta tables are then loaded into BigQuery with
  load jobs, each table replaced as a whole (a re-run never double counts). Files are staged in
  GCS and loaded from there (`load_table_from_uri`) when a staging bucket is configured, or
  uploaded with the job (`load_table_from_file`) otherwise; `external_tables` defines the same
  tables over the staged GCS files instead of loading them.
- `ingest_gcp_billing_export`: the native GCP Cloud Billing export, which already lives in
  BigQuery, is read where it is: one query job per invoice month copies the month into
  `raw.gcp_billing` in the raw layout and records the delivery, so no data leaves BigQuery.

Everything is configured from the environment (`BigQuerySettings.from_env`). SQL text only ever
contains identifiers checked by `_table_id`; values are query parameters.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from .ingest.errors import BadInputError
from .ingest.families import FAMILIES
from .ingest.loader import LINEAGE_COLUMNS, META_DDL, ensure_meta
from .ingest.sql import quote_ident

# DuckDB type of a lineage / meta column -> BigQuery type ("money" is BIGNUMERIC, or NUMERIC on
# an emulator without BIGNUMERIC).
_BQ_TYPES = {"varchar": "STRING", "bigint": "INT64", "date": "DATE", "timestamp": "TIMESTAMP",
             "boolean": "BOOL", "decimal(38, 24)": "money"}
_IDENT = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,2}$")


@dataclass(frozen=True)
class BigQuerySettings:
    project: str
    location: str = "US"
    raw_dataset: str = "raw"
    meta_dataset: str = "meta"
    # gs://bucket/prefix where publish_warehouse stages its files (None: upload with the job).
    staging_uri: str | None = None
    # The emulator's URL (crucible); None for Google's API.
    api_endpoint: str | None = None
    money_type: str = "BIGNUMERIC"
    # project.dataset.table of the native GCP billing export, read in place.
    gcp_billing_export_table: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> BigQuerySettings:
        env = dict(os.environ if env is None else env)
        project = env.get("MLCOST_BQ_PROJECT", "").strip()
        if not project:
            raise BadInputError(
                "MLCOST_BQ_PROJECT", "is not set.",
                hint="Set it to the Google Cloud project that holds the mlcost datasets.")
        return cls(
            project=project,
            location=env.get("MLCOST_BQ_LOCATION") or "US",
            raw_dataset=env.get("MLCOST_BQ_RAW_DATASET") or "raw",
            meta_dataset=env.get("MLCOST_BQ_META_DATASET") or "meta",
            staging_uri=env.get("MLCOST_BQ_STAGING_URI") or None,
            api_endpoint=env.get("MLCOST_BQ_API_ENDPOINT") or None,
            money_type=env.get("MLCOST_BQ_MONEY_TYPE") or "BIGNUMERIC",
            gcp_billing_export_table=env.get("MLCOST_GCP_BILLING_EXPORT_TABLE") or None,
        )


def client_for(settings: BigQuerySettings):
    """A google-cloud-bigquery client: application default credentials against Google, or
    anonymous ones against an emulator endpoint."""
    from google.cloud import bigquery

    if settings.api_endpoint:
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(project=settings.project, location=settings.location,
                               credentials=AnonymousCredentials(),
                               client_options={"api_endpoint": settings.api_endpoint})
    return bigquery.Client(project=settings.project, location=settings.location)


def _table_id(name: str) -> str:
    """A BigQuery table or dataset path checked to be a plain identifier, backquoted."""
    if not _IDENT.match(name):
        raise BadInputError(name, "is not a BigQuery table name (project.dataset.table).",
                            hint="Use letters, digits, '_' and '-' only, dot-separated.")
    return f"`{name}`"


def _bq_type(duck_type: str, money_type: str) -> str:
    bq = _BQ_TYPES[duck_type.lower()]
    return money_type if bq == "money" else bq


def raw_schema(family: str, money_type: str = "BIGNUMERIC") -> list[tuple[str, str]]:
    """(column, BigQuery type) of a raw table: the lineage columns, then every known column."""
    spec = FAMILIES[family]
    cols = [(c, _bq_type(t, money_type)) for c, t in LINEAGE_COLUMNS.items()]
    return cols + [(c, "STRING") for c in spec.known_columns]


def meta_schemas(money_type: str = "BIGNUMERIC") -> dict[str, list[tuple[str, str]]]:
    """(column, BigQuery type) of meta.load_ledger and meta.deliveries, from their DuckDB DDL."""
    con = duckdb.connect()
    try:
        for ddl in META_DDL:
            con.execute(ddl)
        out: dict[str, list[tuple[str, str]]] = {}
        for table in ("load_ledger", "deliveries"):
            rows = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'meta' and table_name = ? order by ordinal_position",
                [table]).fetchall()
            out[table] = [(c, _bq_type(_duck_name(t), money_type)) for c, t in rows]
        return out
    finally:
        con.close()


def _duck_name(data_type: str) -> str:
    t = data_type.lower()
    return {"decimal(38,24)": "decimal(38, 24)"}.get(t, t)


def _schema_fields(columns: list[tuple[str, str]]):
    from google.cloud import bigquery

    return [bigquery.SchemaField(c, t) for c, t in columns]


@dataclass
class PublishedTable:
    table: str
    rows: int


def publish_warehouse(con: duckdb.DuckDBPyConnection, client, settings: BigQuerySettings,
                      *, mode: str = "load") -> list[PublishedTable]:
    """Copy the DuckDB raw layer (every family's raw table and the two meta tables) to BigQuery.

    mode "load": load jobs replace each table (from GCS when `settings.staging_uri` is set,
    else uploaded with the job). mode "external": external tables over the staged GCS files.
    After each load the BigQuery row count is compared with DuckDB's: a difference fails
    loudly instead of publishing a partial table.
    """
    if mode not in ("load", "external"):
        raise ValueError(f"mode must be 'load' or 'external', not {mode!r}")
    if mode == "external" and not settings.staging_uri:
        raise BadInputError("MLCOST_BQ_STAGING_URI", "is not set.",
                            hint="External tables read staged files from GCS: set a gs:// URI.")
    ensure_meta(con)
    from google.cloud import bigquery

    for dataset in (settings.raw_dataset, settings.meta_dataset):
        ds = bigquery.Dataset(f"{settings.project}.{dataset}")
        ds.location = settings.location
        client.create_dataset(ds, exists_ok=True)

    tables: list[tuple[str, str, list[tuple[str, str]]]] = [
        (settings.raw_dataset, spec.raw_table, raw_schema(name, settings.money_type))
        for name, spec in FAMILIES.items()]
    tables += [(settings.meta_dataset, t, cols)
               for t, cols in meta_schemas(settings.money_type).items()]
    published = []
    with tempfile.TemporaryDirectory(prefix="mlcost-bq-") as tmp:
        for dataset, table, columns in tables:
            duck_schema = "meta" if dataset == settings.meta_dataset else "raw"
            path = Path(tmp) / f"{duck_schema}.{table}.csv"
            select = ", ".join(_export_expr(c, t, settings.money_type) for c, t in columns)
            con.execute(
                f"copy (select {select} from {duck_schema}.{quote_ident(table)}) to "
                f"'{_sql_path(path)}' "
                "(header true, timestampformat '%Y-%m-%d %H:%M:%S.%f')")
            expected = con.execute(
                f"select count(*) from {duck_schema}.{quote_ident(table)}").fetchone()[0]
            table_id = f"{settings.project}.{dataset}.{table}"
            _publish_file(client, settings, path, table_id, columns, mode)
            got = client.get_table(table_id).num_rows if mode == "load" else expected
            if mode == "load" and got != expected:
                raise BadInputError(
                    table_id, f"has {got} rows after the load job, DuckDB has {expected}.",
                    hint="The load was incomplete; rerun the publish (it replaces the table).")
            published.append(PublishedTable(table_id, expected))
    return published


def _export_expr(column: str, bq_type: str, money_type: str) -> str:
    """A column as written to the CSV; money without DuckDB's trailing zeros (NUMERIC takes
    at most 9 decimals, so 0.000012000000000000000000 must arrive as 0.000012)."""
    col = quote_ident(column)
    if bq_type != money_type:
        return col
    return (f"regexp_replace(regexp_replace(cast({col} as varchar), '(\\.[0-9]*?)0+$', '\\1'), "
            f"'\\.$', '') as {col}")


def _sql_path(path: Path) -> str:
    # A temporary path of our own making; quotes doubled all the same.
    return str(path).replace("'", "''")


def _csv_job_config(columns, *, truncate: bool, quoted_newlines: bool = True):
    """CSV as DuckDB writes it: NULL is an empty field, an empty string is quoted ("")."""
    from google.cloud import bigquery

    config = bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.CSV,
        schema=_schema_fields(columns),
        skip_leading_rows=1,
        write_disposition=(bigquery.WriteDisposition.WRITE_TRUNCATE if truncate
                           else bigquery.WriteDisposition.WRITE_APPEND),
    )
    if quoted_newlines:
        # Billing text (descriptions, tags) may hold line breaks. The emulator refuses the
        # option, so it is only sent to BigQuery itself.
        config.allow_quoted_newlines = True
    return config


def _publish_file(client, settings: BigQuerySettings, path: Path, table_id: str, columns,
                  mode: str) -> None:
    if settings.staging_uri:
        uri = _stage_to_gcs(settings, path)
        if mode == "external":
            external_table(client, table_id, [uri], columns)
            return
        client.load_table_from_uri(uri, table_id,
                                   job_config=_csv_job_config(columns, truncate=True)).result()
        return
    config = _csv_job_config(columns, truncate=True,
                             quoted_newlines=settings.api_endpoint is None)
    with open(path, "rb") as fh:
        client.load_table_from_file(fh, table_id, job_config=config).result()


def _stage_to_gcs(settings: BigQuerySettings, path: Path) -> str:
    from google.cloud import storage

    match = re.match(r"^gs://([^/]+)/?(.*)$", settings.staging_uri or "")
    if not match:
        raise BadInputError("MLCOST_BQ_STAGING_URI",
                            f"{settings.staging_uri!r} is not a gs:// URI.",
                            hint="Example: gs://my-bucket/mlcost-staging")
    bucket, prefix = match.group(1), match.group(2).strip("/")
    name = f"{prefix}/{path.name}" if prefix else path.name
    storage.Client(project=settings.project).bucket(bucket).blob(name).upload_from_filename(
        str(path))
    return f"gs://{bucket}/{name}"


def load_from_gcs(client, uris: Iterable[str], table_id: str, columns: list[tuple[str, str]],
                  *, truncate: bool = False) -> int:
    """Load CSV files already in GCS (raw layout, header row, NULL as an empty field)."""
    job = client.load_table_from_uri(list(uris), table_id,
                                     job_config=_csv_job_config(columns, truncate=truncate))
    job.result()
    return int(job.output_rows or 0)


def external_table(client, table_id: str, uris: list[str], columns: list[tuple[str, str]]):
    """Define (or replace) `table_id` as an external table over CSV files in GCS."""
    from google.cloud import bigquery

    config = bigquery.ExternalConfig(bigquery.ExternalSourceFormat.CSV)
    config.source_uris = uris
    config.schema = _schema_fields(columns)
    config.options.skip_leading_rows = 1
    config.options.allow_quoted_newlines = True
    table = bigquery.Table(table_id)
    table.external_data_configuration = config
    client.delete_table(table_id, not_found_ok=True)
    return client.create_table(table)


# --- The native GCP billing export, read in place --------------------------------------------

# raw.gcp_billing column -> expression over the export row `e` (standard or detailed export).
# FLOAT64 amounts are read as their shortest decimal text, as Google's CSV exports write them.
_GCP_EXPORT_COLUMNS = {
    "billing_account_id": "e.billing_account_id",
    "service_id": "e.service.id",
    "service_description": "e.service.description",
    "sku_id": "e.sku.id",
    "sku_description": "e.sku.description",
    "usage_start_time": "format_timestamp('%Y-%m-%dT%H:%M:%SZ', e.usage_start_time)",
    "usage_end_time": "format_timestamp('%Y-%m-%dT%H:%M:%SZ', e.usage_end_time)",
    "project_id": "e.project.id",
    "project_number": "e.project.number",
    "project_name": "e.project.name",
    "project_labels": "to_json_string(e.project.labels)",
    "project_ancestry_numbers": "e.project.ancestry_numbers",
    "labels": "to_json_string(e.labels)",
    "system_labels": "to_json_string(e.system_labels)",
    "location_location": "e.location.location",
    "location_country": "e.location.country",
    "location_region": "e.location.region",
    "location_zone": "e.location.zone",
    "tags": "to_json_string(e.tags)",
    "export_time": "format_timestamp('%Y-%m-%dT%H:%M:%E6SZ', e.export_time)",
    "cost": "cast(e.cost as string)",
    "cost_at_list": "cast(e.cost_at_list as string)",
    "currency": "e.currency",
    "currency_conversion_rate": "cast(e.currency_conversion_rate as string)",
    "usage_amount": "cast(e.usage.amount as string)",
    "usage_unit": "e.usage.unit",
    "usage_amount_in_pricing_units": "cast(e.usage.amount_in_pricing_units as string)",
    "usage_pricing_unit": "e.usage.pricing_unit",
    "credits": "to_json_string(e.credits)",
    "invoice_month": "e.invoice.month",
    "invoice_publisher_type": "e.invoice.publisher_type",
    "cost_type": "e.cost_type",
    "adjustment_info": "to_json_string(e.adjustment_info)",
    "transaction_type": "e.transaction_type",
    "seller_name": "e.seller_name",
    "price_effective_price": "cast(e.price.effective_price as string)",
    "price_tier_start_amount": "cast(e.price.tier_start_amount as string)",
    "price_unit": "e.price.unit",
    "price_pricing_unit_quantity": "cast(e.price.pricing_unit_quantity as string)",
}
# Only the detailed (resource-level) export has these.
_GCP_DETAILED_COLUMNS = {
    "resource_name": "e.resource.name",
    "resource_global_name": "e.resource.global_name",
}


def _gcp_amount(money_type: str) -> str:
    """cost + credits of one export row, exact (the invoice basis, as lib.ingest computes it)."""
    return (f"cast(cast(e.cost as string) as {money_type}) + coalesce((select "
            f"sum(cast(cast(c.amount as string) as {money_type})) from unnest(e.credits) as c), 0)")


def gcp_export_slices_sql(export_table: str, money_type: str = "BIGNUMERIC") -> str:
    """Delivery slices of one invoice month (@invoice_month) of the native export."""
    return f"""select
    billing_account_id,
    currency,
    count(*) as row_count,
    sum(amount) as billed_total,
    max(export_time) as last_export_time
from (
    select
        e.billing_account_id,
        e.currency,
        e.export_time,
        {_gcp_amount(money_type)} as amount
    from {_table_id(export_table)} as e
    where e.invoice.month = @invoice_month
) as rows_of_month
group by billing_account_id, currency"""


def gcp_export_insert_sql(export_table: str, raw_table: str, detailed: bool) -> str:
    """Copy one invoice month (@invoice_month) of the native export into raw.gcp_billing,
    with lineage (@file_id, @loaded_at); row numbers follow the export's own order."""
    columns = dict(_GCP_EXPORT_COLUMNS)
    if detailed:
        columns.update(_GCP_DETAILED_COLUMNS)
    target = ["_file_id", "_row_number", "_billing_account_id", "_billing_period", "_provider",
              "_currency", "_loaded_at", *columns]
    select = [
        "@file_id",
        "row_number() over (order by e.export_time, e.usage_start_time, e.billing_account_id, "
        "e.sku.id, e.project.id, e.cost)",
        "e.billing_account_id",
        "parse_date('%Y%m', e.invoice.month)",
        "'gcp'",
        "e.currency",
        "@loaded_at",
        *columns.values(),
    ]
    body = ",\n    ".join(f"{expr} as {col}" for col, expr in zip(target, select, strict=True))
    return (f"insert into {_table_id(raw_table)} ({', '.join(target)})\n"
            f"select\n    {body}\nfrom {_table_id(export_table)} as e\n"
            f"where e.invoice.month = @invoice_month")


@dataclass
class ExportIngest:
    invoice_month: str
    file_id: str
    status: str  # loaded | duplicate | empty
    rows: int = 0


def ingest_gcp_billing_export(client, settings: BigQuerySettings, invoice_months: Iterable[str],
                              *, now: datetime | None = None) -> list[ExportIngest]:
    """Read invoice months (YYYYMM) of the native GCP billing export in place into the raw layer.

    Each month is one delivery identified by the export table, month, last export time and row
    count: reading an unchanged month again is a no-op; a month the export has since updated
    (late costs, corrections) supersedes the earlier read of that month.
    """
    from google.cloud import bigquery

    export = settings.gcp_billing_export_table
    if not export:
        raise BadInputError("MLCOST_GCP_BILLING_EXPORT_TABLE", "is not set.",
                            hint="Set it to project.dataset.gcp_billing_export_v1_XXXXXX.")
    now = now or datetime.now(UTC).replace(tzinfo=None)
    raw = f"{settings.project}.{settings.raw_dataset}.gcp_billing"
    ledger = f"{settings.project}.{settings.meta_dataset}.load_ledger"
    deliveries = f"{settings.project}.{settings.meta_dataset}.deliveries"
    detailed = any(f.name == "resource" for f in client.get_table(export).schema)
    out = []
    for month in invoice_months:
        if not re.fullmatch(r"\d{6}", month):
            raise BadInputError(month, "is not an invoice month.", hint="Write it as YYYYMM.")
        params = [bigquery.ScalarQueryParameter("invoice_month", "STRING", month)]
        slices = list(client.query(
            gcp_export_slices_sql(export, settings.money_type),
            job_config=bigquery.QueryJobConfig(query_parameters=params)).result())
        if not slices:
            out.append(ExportIngest(month, "", "empty"))
            continue
        fingerprint = "|".join([export, month] + sorted(
            f"{r.billing_account_id}:{r.currency}:{r.row_count}:{r.last_export_time.isoformat()}"
            for r in slices))
        file_id = hashlib.sha256(fingerprint.encode()).hexdigest()
        p_file = bigquery.ScalarQueryParameter("file_id", "STRING", file_id)
        seen = list(client.query(
            f"select count(*) as n from {_table_id(ledger)} where file_id = @file_id "
            "and status = 'loaded'",
            job_config=bigquery.QueryJobConfig(query_parameters=[p_file])).result())[0].n
        if seen:
            out.append(ExportIngest(month, file_id, "duplicate"))
            continue
        p_now = bigquery.ScalarQueryParameter("loaded_at", "TIMESTAMP", now)
        # An interrupted earlier attempt may have left rows of this delivery: replace them.
        client.query(f"delete from {_table_id(raw)} where _file_id = @file_id",
                     job_config=bigquery.QueryJobConfig(query_parameters=[p_file])).result()
        client.query(gcp_export_insert_sql(export, raw, detailed),
                     job_config=bigquery.QueryJobConfig(
                         query_parameters=[*params, p_file, p_now])).result()
        rows = sum(r.row_count for r in slices)
        path = f"bigquery://{export}/invoice_month={month}"
        period = date(int(month[:4]), int(month[4:]), 1)
        billed = sum((r.billed_total for r in slices), start=0)
        _insert_rows(client, ledger, [dict(
            file_id=file_id, path=path, file_name=export, directory=f"bigquery://{export}",
            size_bytes=None, modified_at=max(r.last_export_time for r in slices),
            family="gcp_billing", provider="gcp", source_format="bigquery_export", schema_version=(
                "detailed" if detailed else "standard"), dataset_type="actual",
            status="loaded", row_count=rows, billed_total=billed, effective_total=billed,
            error=None, loaded_at=now)])
        # The earlier read of the same slices stops being current.
        for r in slices:
            client.query(
                f"update {_table_id(deliveries)} set is_current = false, superseded_by = @file_id "
                "where provider = 'gcp' and family = 'gcp_billing' and is_current "
                "and billing_account_id = @account and billing_period = @period "
                "and currency = @currency and file_id <> @file_id",
                job_config=bigquery.QueryJobConfig(query_parameters=[
                    p_file,
                    bigquery.ScalarQueryParameter("account", "STRING", r.billing_account_id),
                    bigquery.ScalarQueryParameter("period", "DATE", period),
                    bigquery.ScalarQueryParameter("currency", "STRING", r.currency),
                ])).result()
        _insert_rows(client, deliveries, [dict(
            file_id=file_id, path=path, directory=f"bigquery://{export}", family="gcp_billing",
            provider="gcp", billing_account_id=r.billing_account_id, billing_period=period,
            dataset_type="actual", currency=r.currency, row_count=r.row_count,
            billed_total=r.billed_total, effective_total=r.billed_total, is_current=True,
            superseded_by=None, loaded_at=now) for r in slices])
        out.append(ExportIngest(month, file_id, "loaded", rows))
    return out


def _insert_rows(client, table_id: str, rows: list[dict]) -> None:
    """Append rows with a DML INSERT of query parameters (streaming inserts would leave the
    rows in the streaming buffer, where the supersession UPDATE cannot touch them)."""
    from google.cloud import bigquery

    table = client.get_table(table_id)
    types = {f.name: f.field_type for f in table.schema}
    cols = list(rows[0])
    values, params = [], []
    for i, row in enumerate(rows):
        names = []
        for c in cols:
            name = f"p{i}_{c}"
            names.append(f"@{name}")
            params.append(bigquery.ScalarQueryParameter(name, _param_type(types[c]), row[c]))
        values.append(f"({', '.join(names)})")
    sql = (f"insert into {_table_id(table_id)} ({', '.join(cols)}) values "
           + ", ".join(values))
    client.query(sql, job_config=bigquery.QueryJobConfig(query_parameters=params)).result()


def _param_type(field_type: str) -> str:
    return {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}.get(field_type, field_type)
