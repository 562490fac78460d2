"""Tables between BigQuery (the `prod` warehouse of record) and the run's local DuckDB working
copy (docs/bigquery.md, "One switch").

On a BigQuery target the Python stages (forecast, variance, budgets, anomalies, what-if, the
report, exports) run their own code unchanged on a local DuckDB file: before a stage, `pull`
copies the BigQuery tables it reads into that file; after it, `push` replaces the BigQuery
tables it wrote. Reads go through Arrow: the BigQuery Storage API where it is available, the
REST path otherwise (an emulator speaks REST only). Money stays exact: NUMERIC and BIGNUMERIC
travel as decimal text and land as DECIMAL on both sides.

SQL text only holds identifiers checked by `table_id` / `quote_ident` and constant predicates
of this project's own stage specs; values are query parameters.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .bigquery_common import BigQuerySettings, schema_fields, table_id
from .ingest.sql import quote_ident

# BigQuery type -> DuckDB type of the local copy. BIGNUMERIC has 38 decimals; the warehouse's
# money is DECIMAL(38, 24) (dbt macro money_type), which it is read back into.
_TO_DUCK = {"STRING": "varchar", "INT64": "bigint", "INTEGER": "bigint", "FLOAT64": "double",
            "FLOAT": "double", "NUMERIC": "decimal(38, 9)", "BIGNUMERIC": "decimal(38, 24)",
            "BIGDECIMAL": "decimal(38, 24)", "BOOL": "boolean", "BOOLEAN": "boolean",
            "DATE": "date", "TIMESTAMP": "timestamp", "DATETIME": "timestamp", "TIME": "time",
            "JSON": "varchar", "BYTES": "blob"}


@dataclass(frozen=True)
class Pull:
    """One BigQuery table a stage reads, and how much of it.

    - `window`: only the rows whose `window` column lies in the run's billing periods replace
      the same rows of the local copy (bytes per run follow what was rebuilt);
    - `group_by` / `sums`: a projection aggregated on BigQuery (a check that only adds up a
      large table gets the same sums from a few rows);
    - `limit`: at most that many rows (a validation sample).
    Otherwise the whole table, pulled again only when BigQuery's copy changed."""

    table: str  # schema.table: the dataset on BigQuery has the DuckDB schema's name
    window: str | None = None
    group_by: tuple[str, ...] = ()
    sums: tuple[str, ...] = ()
    limit: int | None = None

    @property
    def whole(self) -> bool:
        return not (self.window or self.group_by or self.limit)


@dataclass
class SyncReport:
    pulled: dict[str, int] = field(default_factory=dict)  # table -> rows read from BigQuery
    unchanged: list[str] = field(default_factory=list)  # whole tables already current locally
    missing: list[str] = field(default_factory=list)  # not on BigQuery (yet)
    pushed: dict[str, int] = field(default_factory=dict)  # table -> rows written to BigQuery


def _bq_name(settings: BigQuerySettings, table: str) -> str:
    schema, name = table.split(".")
    return table_id(f"{settings.project}.{dataset_for(settings, schema)}.{name}")


def _local(table: str) -> str:
    schema, name = table.split(".")
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def _ensure_sync_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists meta")
    con.execute("""create table if not exists meta.bigquery_pulls (
        table_name varchar primary key, modified timestamp, rows bigint, pulled_at timestamp)""")


def remote_table(client, settings: BigQuerySettings, table: str):
    from google.api_core.exceptions import NotFound

    schema, name = table.split(".")
    try:
        return client.get_table(f"{settings.project}.{dataset_for(settings, schema)}.{name}")
    except NotFound:
        return None


def _read_arrow(client, settings: BigQuerySettings, sql: str, params: list):
    from google.cloud import bigquery

    config = bigquery.QueryJobConfig(query_parameters=params) if params else None
    job = client.query(sql, job_config=config)
    # The Storage API is Google's fast path; an emulator (api_endpoint) speaks REST only.
    return job.result().to_arrow(create_bqstorage_client=settings.api_endpoint is None)


def pull(con: duckdb.DuckDBPyConnection, client, settings: BigQuerySettings, specs: list[Pull],
         window: tuple[str, str] | None = None) -> SyncReport:
    """Copy what `specs` name from BigQuery into the local working copy `con`."""
    from google.cloud import bigquery

    _ensure_sync_table(con)
    report = SyncReport()
    for spec in specs:
        remote = remote_table(client, settings, spec.table)
        schema, name = spec.table.split(".")
        con.execute(f"create schema if not exists {quote_ident(schema)}")
        if remote is None:
            report.missing.append(spec.table)
            continue
        if spec.whole:
            known = con.execute("select modified from meta.bigquery_pulls where table_name = ?",
                                [spec.table]).fetchall()
            modified = remote.modified.replace(tzinfo=None) if remote.modified else None
            exists = con.execute(
                "select count(*) from information_schema.tables where table_schema = ? "
                "and table_name = ?", [schema, name]).fetchall()[0][0]
            if known and modified and known[0][0] == modified and exists:
                report.unchanged.append(spec.table)
                continue
        columns = [(f.name, f.field_type) for f in remote.schema
                   if f.mode != "REPEATED" and f.field_type != "RECORD"]
        picked = _pick(columns, spec)
        select = ", ".join(_remote_expr(c, t, spec) for c, t in picked)
        sql = f"select {select} from {_bq_name(settings, spec.table)}"  # noqa: S608 (checked ids)
        params: list = []
        # crucible (the emulator) takes no query parameters: there the window is applied to
        # the rows read, locally (same rows, more bytes read; docs/bigquery.md).
        remote_window = bool(spec.window and window and settings.api_endpoint is None)
        if remote_window:
            sql += f" where `{spec.window}` between @s and @e"
            params = [bigquery.ScalarQueryParameter("s", "DATE", f"{window[0]}-01"),
                      bigquery.ScalarQueryParameter("e", "DATE", f"{window[1]}-01")]
        if spec.group_by:
            sql += " group by " + ", ".join(str(i + 1) for i in range(len(spec.group_by)))
        if spec.limit:
            sql += f" limit {int(spec.limit)}"
        arrow = _read_arrow(client, settings, sql, params)
        local_types = ", ".join(f"cast({quote_ident(c)} as {_TO_DUCK.get(t, 'varchar')}) "
                                f"as {quote_ident(c)}" for c, t in picked)
        local_filter, local_params = "", []
        if spec.window and window and not remote_window:
            local_filter = f" where {quote_ident(spec.window)} between ?::date and ?::date"
            local_params = [f"{window[0]}-01", f"{window[1]}-01"]
        con.register("_mlcost_pulled", arrow)
        try:
            con.begin()
            # Rows of the window replace the same rows of a full local copy; a sample or a
            # projection replaces the local table (another stage may have left a different
            # shape of it there: the aggregate of the reconciliation check, say).
            merge = spec.window and window and not spec.limit and not spec.group_by
            if merge and _local_exists(con, schema, name):
                con.execute(f"delete from {_local(spec.table)} where {quote_ident(spec.window)} "
                            "between ?::date and ?::date", [f"{window[0]}-01", f"{window[1]}-01"])
                con.execute(f"insert into {_local(spec.table)} by name select * from "
                            f"(select {local_types} from _mlcost_pulled){local_filter}",
                            local_params)
            else:
                con.execute(f"create or replace table {_local(spec.table)} as select * from "
                            f"(select {local_types} from _mlcost_pulled){local_filter}",
                            local_params)
            con.execute("insert or replace into meta.bigquery_pulls values (?, ?, ?, now())",
                        [spec.table, remote.modified.replace(tzinfo=None)
                         if spec.whole and remote.modified else None, arrow.num_rows])
            con.commit()
        except BaseException:
            con.rollback()
            raise
        finally:
            con.unregister("_mlcost_pulled")
        report.pulled[spec.table] = arrow.num_rows
    return report


def _local_exists(con, schema: str, name: str) -> bool:
    return con.execute("select count(*) from information_schema.tables where table_schema = ? "
                       "and table_name = ?", [schema, name]).fetchall()[0][0] > 0


def _pick(columns: list[tuple[str, str]], spec: Pull) -> list[tuple[str, str]]:
    if not spec.group_by:
        return columns
    types = dict(columns)
    wanted = [*spec.group_by, *spec.sums]
    if missing := [c for c in wanted if c not in types]:
        raise ValueError(f"{spec.table}: no column {', '.join(missing)} on BigQuery")
    return [(c, types[c]) for c in wanted]


def _remote_expr(column: str, bq_type: str, spec: Pull) -> str:
    col = f"`{column}`"
    if column in spec.sums:
        col = f"sum({col})"
    if bq_type in ("BIGNUMERIC", "BIGDECIMAL", "NUMERIC"):
        # Decimal text: exact whatever Arrow's decimal width, parsed by DuckDB.
        return f"cast({col} as string) as `{column}`"
    if bq_type == "JSON":
        return f"to_json_string({col}) as `{column}`"
    return f"{col} as `{column}`" if column in spec.sums else col


# DuckDB type -> BigQuery type of a pushed table.
def _to_bq(duck_type: str, money_type: str) -> str:
    t = duck_type.upper()
    if t in ("VARCHAR", "UUID") or t.startswith(("STRUCT", "MAP", "JSON")) or t.endswith("[]"):
        return "STRING"
    if t in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT",
             "UTINYINT"):
        return "INT64"
    if t == "HUGEINT":
        return "NUMERIC"
    if t in ("DOUBLE", "FLOAT", "REAL"):
        return "FLOAT64"
    if t == "BOOLEAN":
        return "BOOL"
    if t == "DATE":
        return "DATE"
    if t.startswith("TIMESTAMP"):
        return "TIMESTAMP"
    if m := re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", t):
        precision, scale = int(m.group(1)), int(m.group(2))
        return "NUMERIC" if scale <= 9 and precision - scale <= 29 else money_type
    return "STRING"


def dataset_for(settings: BigQuerySettings, schema: str) -> str:
    """The BigQuery dataset of a local schema: raw and meta are configurable, the rest keep
    the schema's name (dbt's generate_schema_name does the same)."""
    return {"raw": settings.raw_dataset, "meta": settings.meta_dataset}.get(schema, schema)


def push(con: duckdb.DuckDBPyConnection, client, settings: BigQuerySettings,
         targets: tuple[str, ...], report: SyncReport | None = None) -> SyncReport:
    """Replace on BigQuery what a stage wrote: each `targets` entry is a local schema (every
    base table in it) or one schema.table — small by construction: forecasts, variance,
    budgets, anomalies. Each table is written to a file and loaded with one WRITE_TRUNCATE
    load job, so a table is replaced whole or not at all; the loaded row count is checked."""
    from google.cloud import bigquery

    report = report or SyncReport()
    with tempfile.TemporaryDirectory(prefix="mlcost-bq-push-") as tmp:
        for entry in targets:
            schema, _, only = entry.partition(".")
            dataset = dataset_for(settings, schema)
            ds = bigquery.Dataset(f"{settings.project}.{dataset}")
            ds.location = settings.location
            client.create_dataset(ds, exists_ok=True)
            tables = [r[0] for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "and table_type = 'BASE TABLE' and (? = '' or table_name = ?) order by 1",
                [schema, only, only]).fetchall()]
            for name in tables:
                cols = con.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, name]).fetchall()
                bq_cols = [(c, _to_bq(t, settings.money_type)) for c, t in cols]
                select = ", ".join(_csv_expr(c, t, b) for (c, t), (_, b) in
                                   zip(cols, bq_cols, strict=True))
                path = Path(tmp) / f"{schema}.{name}.csv"
                rel = f"{quote_ident(schema)}.{quote_ident(name)}"
                con.execute(f"copy (select {select} from {rel}) to "  # noqa: S608 (checked ids)
                            f"'{str(path).replace(chr(39), chr(39) * 2)}' "
                            "(header true, timestampformat '%Y-%m-%d %H:%M:%S.%f')")
                ((expected,),) = con.execute(f"select count(*) from {rel}").fetchall()  # noqa: S608
                target = f"{settings.project}.{dataset}.{name}"
                table_id(target)
                config = bigquery.LoadJobConfig(
                    source_format=bigquery.SourceFormat.CSV, schema=schema_fields(bq_cols),
                    skip_leading_rows=1,
                    write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE)
                if settings.api_endpoint is None:  # the emulator refuses the option
                    config.allow_quoted_newlines = True
                with open(path, "rb") as fh:
                    client.load_table_from_file(fh, target, job_config=config).result()
                got = client.get_table(target).num_rows
                if got != expected:
                    raise RuntimeError(f"{target}: {got} rows after the load job, the local "
                                       f"copy has {expected}; rerun (the load replaces it)")
                report.pushed[f"{schema}.{name}"] = expected
    return report


def _csv_expr(column: str, duck_type: str, bq_type: str) -> str:
    col = quote_ident(column)
    t = duck_type.upper()
    if bq_type in ("NUMERIC", "BIGNUMERIC") and t.startswith("DECIMAL"):
        # No trailing zeros: NUMERIC takes at most 9 decimals. Money wider than that only
        # meets NUMERIC where BIGNUMERIC cannot be loaded (MLCOST_BQ_MONEY_TYPE=NUMERIC, an
        # emulator): rounded to 9 decimals there, which docs/bigquery.md states.
        value = col
        if bq_type == "NUMERIC" and (m := re.search(r",\s*(\d+)\)", t)) and int(m.group(1)) > 9:
            value = f"round({col}, 9)"
        return (f"regexp_replace(regexp_replace(cast({value} as varchar), '(\\.[0-9]*?)0+$', "
                f"'\\1'), '\\.$', '') as {col}")
    if bq_type == "STRING" and (t.startswith(("STRUCT", "MAP")) or t.endswith("[]")):
        return f"cast(to_json({col}) as varchar) as {col}"  # nested values as JSON text
    if bq_type == "STRING" and t != "VARCHAR":
        return f"cast({col} as varchar) as {col}"
    return col
