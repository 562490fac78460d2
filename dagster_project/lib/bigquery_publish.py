"""Publishing the DuckDB raw layer to BigQuery (``lib.bigquery``): every family's raw table,
the two meta tables and the MLflow runs with their load status, with load jobs (from GCS when
a staging bucket is set, else uploaded with the job) or as external tables over the staged
files."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .bigquery_common import BigQuerySettings, meta_schemas, raw_schema, schema_fields, table_schema
from .ingest.errors import BadInputError
from .ingest.families import FAMILIES
from .ingest.loader import ensure_meta
from .ingest.sql import quote_ident


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
    # The MLflow runs and their load status (lib/mlflow_runs, not a landing family).
    tables += [(settings.raw_dataset, "mlflow_runs",
                table_schema(con, "raw", "mlflow_runs", settings.money_type)),
               (settings.meta_dataset, "mlflow_sync_status",
                table_schema(con, "meta", "mlflow_sync_status", settings.money_type))]
    published = []
    with tempfile.TemporaryDirectory(prefix="mlcost-bq-") as tmp:
        for dataset, table, columns in tables:
            duck_schema = "meta" if dataset == settings.meta_dataset else "raw"
            path = Path(tmp) / f"{duck_schema}.{table}.csv"
            export_csv(con, f"{duck_schema}.{quote_ident(table)}", columns,
                       settings.money_type, path)
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


def export_csv(con: duckdb.DuckDBPyConnection, source: str, columns: list[tuple[str, str]],
               money_type: str, path: Path, where: str = "", params: list | None = None) -> None:
    """Write `columns` of the DuckDB relation `source` (a checked/quoted name) as the CSV the
    load jobs read; `where` is a condition with `?` placeholders for `params`."""
    select = ", ".join(_export_expr(c, t, money_type) for c, t in columns)
    con.execute(
        f"copy (select {select} from {source} {'where ' + where if where else ''}) to "
        f"'{_sql_path(path)}' (header true, timestampformat '%Y-%m-%d %H:%M:%S.%f')",
        params or [])


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
        schema=schema_fields(columns),
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
    if mode == "external":
        external_table(client, table_id, [_stage_to_gcs(settings, path)], columns)
        return
    load_file(client, settings, path, table_id, columns, truncate=True)


def load_file(client, settings: BigQuerySettings, path: Path, table_id: str,
              columns: list[tuple[str, str]], *, truncate: bool) -> int:
    """One load job of a CSV written by `export_csv`: staged in GCS first when
    `settings.staging_uri` is set, else uploaded with the job. Returns the rows loaded."""
    if settings.staging_uri:
        return load_from_gcs(client, [_stage_to_gcs(settings, path)], table_id, columns,
                             truncate=truncate)
    config = _csv_job_config(columns, truncate=truncate,
                             quoted_newlines=settings.api_endpoint is None)
    with open(path, "rb") as fh:
        job = client.load_table_from_file(fh, table_id, job_config=config)
        job.result()
    return int(job.output_rows or 0)


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
    config.schema = schema_fields(columns)
    config.options.skip_leading_rows = 1
    config.options.allow_quoted_newlines = True
    table = bigquery.Table(table_id)
    table.external_data_configuration = config
    client.delete_table(table_id, not_found_ok=True)
    return client.create_table(table)
