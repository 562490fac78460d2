"""Shared parts of the BigQuery ingestion (``lib.bigquery``): settings from the
environment, the client, checked table identifiers and the raw and meta table schemas."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import duckdb

from .ingest.errors import BadInputError
from .ingest.families import FAMILIES
from .ingest.loader import LINEAGE_COLUMNS, META_DDL

# DuckDB type of a lineage / meta column -> BigQuery type ("money" is BIGNUMERIC, or NUMERIC on
# an emulator without BIGNUMERIC).
_BQ_TYPES = {"varchar": "STRING", "bigint": "INT64", "integer": "INT64", "date": "DATE",
             "timestamp": "TIMESTAMP", "boolean": "BOOL", "decimal(38, 24)": "money"}
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
    # The same credentials as dbt's prod profile (MLCOST_BQ_METHOD; lib/bigquery_preflight.py).
    method = os.environ.get("MLCOST_BQ_METHOD") or "oauth"
    if method == "service-account":
        return bigquery.Client.from_service_account_json(
            os.environ["MLCOST_BQ_KEYFILE"], project=settings.project, location=settings.location)
    if method == "oauth-secrets":
        from google.oauth2.credentials import Credentials

        return bigquery.Client(project=settings.project, location=settings.location,
                               credentials=Credentials(token=os.environ["MLCOST_BQ_TOKEN"]))
    return bigquery.Client(project=settings.project, location=settings.location)


def table_id(name: str) -> str:
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


def table_schema(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                 money_type: str = "BIGNUMERIC") -> list[tuple[str, str]]:
    """(column, BigQuery type) of a DuckDB table of the warehouse being published."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table]).fetchall()
    return [(c, _bq_type(_duck_name(t), money_type)) for c, t in rows]


def _duck_name(data_type: str) -> str:
    t = data_type.lower()
    return {"decimal(38,24)": "decimal(38, 24)"}.get(t, t)


def schema_fields(columns: list[tuple[str, str]]):
    from google.cloud import bigquery

    return [bigquery.SchemaField(c, t) for c, t in columns]
