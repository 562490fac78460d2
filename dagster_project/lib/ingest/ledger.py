"""The load's bookkeeping: lineage columns and meta DDL, raw tables, ledger rows and the
outcome types a load returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from .families import FAMILIES, FamilySpec
from .sql import install, quote_ident

LINEAGE_COLUMNS = {
    "_file_id": "varchar",
    "_row_number": "bigint",
    "_billing_account_id": "varchar",
    "_billing_period": "date",
    "_provider": "varchar",
    "_currency": "varchar",
    "_loaded_at": "timestamp",
}

META_DDL = [
    "create schema if not exists raw",
    "create schema if not exists meta",
    """create table if not exists meta.load_ledger (
        file_id varchar not null, path varchar not null, file_name varchar, directory varchar,
        size_bytes bigint, modified_at timestamp, family varchar, provider varchar,
        source_format varchar, schema_version varchar, dataset_type varchar,
        status varchar not null, row_count bigint, billed_total decimal(38, 24),
        effective_total decimal(38, 24), error varchar, loaded_at timestamp not null,
        warnings varchar)""",
    # Warehouses made before warnings existed.
    "alter table meta.load_ledger add column if not exists warnings varchar",
    """create table if not exists meta.deliveries (
        file_id varchar not null, path varchar not null, directory varchar not null,
        family varchar not null, provider varchar not null, billing_account_id varchar,
        billing_period date, dataset_type varchar not null, currency varchar,
        row_count bigint not null, billed_total decimal(38, 24),
        effective_total decimal(38, 24), is_current boolean not null, superseded_by varchar,
        loaded_at timestamp not null)""",
]


@dataclass
class FileOutcome:
    path: str
    file_id: str | None
    status: str  # loaded | duplicate | quarantined | skipped | waiting
    family: str | None = None
    source_format: str | None = None
    schema_version: str | None = None
    dataset_type: str | None = None
    rows: int = 0
    error: str | None = None
    slices: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestResult:
    outcomes: list[FileOutcome]

    def by_status(self, status: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def errors(self) -> list[str]:
        return [o.error for o in self.outcomes if o.status == "quarantined" and o.error]

    @property
    def warnings(self) -> list[str]:
        return [w for o in self.outcomes if o.status == "loaded" for w in o.warnings]


def ensure_meta(con: duckdb.DuckDBPyConnection) -> None:
    install(con)
    for ddl in META_DDL:
        con.execute(ddl)
    for spec in FAMILIES.values():
        ensure_raw_table(con, spec)
    # raw.mlflow_runs is landed by its own asset (lib/mlflow_runs); it exists (maybe empty)
    # from the first load so dbt's staging view binds without an MLflow store.
    from dagster_project.lib.mlflow_runs.land import ensure_tables

    ensure_tables(con)


def ensure_raw_table(con: duckdb.DuckDBPyConnection, spec: FamilySpec) -> None:
    cols = [f"{quote_ident(c)} {t}" for c, t in LINEAGE_COLUMNS.items()]
    cols += [f"{quote_ident(c)} varchar" for c in spec.known_columns]
    con.execute(f"create table if not exists raw.{spec.raw_table} ({', '.join(cols)})")
    # A warehouse made by an older mlcost lacks columns that staging now reads.
    existing = {r[0] for r in con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = ?", [spec.raw_table]).fetchall()}
    for col in spec.known_columns:
        if col not in existing:
            con.execute(f"alter table raw.{spec.raw_table} add column {quote_ident(col)} varchar")


def write_ledger_row(con, **row) -> None:
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    con.execute(f"insert into meta.load_ledger ({cols}) values ({marks})", list(row.values()))

