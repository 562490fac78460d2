"""`mlcost sql` and `mlcost tables`: read-only questions to the warehouse without the `duckdb`
CLI (not installed). The warehouse is opened read_only, so DuckDB itself refuses writes; only
queries (select, from, with, describe/show, explain...) are accepted, so a COPY TO or an
ATTACH cannot write files either."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import sys
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from dagster_project.exit_codes import MISSING_INPUT, USAGE, ExitError

# The schemas `mlcost tables` lists: what mlcost publishes (raw and staging are internal).
PUBLISHED_SCHEMAS = ("focus", "marts", "forecast", "variance", "planning", "monitoring",
                     "meta")
TABLE_ROW_LIMIT = 1000  # --format table prints this many rows at most (csv/json: all)
DESCRIPTION_WIDTH = 90  # `mlcost tables`: one line per table (the full text: dbt docs)

# Tables written by Python that dbt does not declare (dbt models and sources describe the rest).
PYTHON_TABLES = {
    ("meta", "load_ledger"): "One row per landed file each time it is seen: status (loaded, "
    "duplicate, quarantined, skipped), rows, totals and the reason of a quarantine.",
    ("meta", "deliveries"): "One row per delivered billing slice (provider, account, period, "
    "currency): which delivery is current and which superseded it.",
}


def _open(warehouse: Path):
    from dagster_project.lib.warehouse import connect

    if not warehouse.exists():
        raise ExitError(f"{warehouse}: no warehouse here yet. Run `mlcost run` (or `make demo`) "
                        "first, or pass --warehouse.", MISSING_INPUT)
    return connect(warehouse, read_only=True)  # busy -> WarehouseBusyError -> exit 75


def _check_read_only(con, statement: str) -> None:
    """One statement, and a query: DuckDB's read-only mode stops writes to the warehouse but not
    COPY ... TO a file, ATTACH of another database or INSTALL."""
    import duckdb

    try:
        statements = con.extract_statements(statement)
    except duckdb.Error as exc:
        raise ExitError(f"sql: the statement does not parse: {_detail(exc)}",
                        USAGE) from None
    if len(statements) != 1:
        raise ExitError(f"sql: expected one statement, got {len(statements)}; run them "
                        "one at a time.", USAGE)
    kind = statements[0].type
    if kind not in (duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN):
        raise ExitError(f"sql is read-only: a {kind.name} statement is refused (only "
                        "queries: select, from, with, describe, show, summarize, explain).",
                        USAGE)


def _detail(exc: Exception) -> str:
    """DuckDB's message (its hints, e.g. "Did you mean ...", included) as one paragraph."""
    return " ".join(str(exc).split()) or type(exc).__name__


BATCH = 10_000  # rows fetched at a time: csv/json stream any result size


def _refused(exc: Exception) -> ExitError:
    if "read-only" in str(exc).lower():
        return ExitError("sql is read-only: the warehouse is opened read-only, so this "
                         f"statement is refused ({_detail(exc)}).", USAGE)
    return ExitError(f"sql: {_detail(exc)}", USAGE)


def run_sql(warehouse: Path, statement: str, fmt: str = "table", out: TextIO | None = None
            ) -> None:
    """Run one read-only query and write its result to `out` (stdout) as table, csv or json."""
    import duckdb

    out = out or sys.stdout
    con = _open(warehouse)
    try:
        _check_read_only(con, statement)
        try:
            cur = con.execute(statement)
            columns = [d[0] for d in cur.description or []]
            if fmt == "table":  # one row more than shown tells whether there are more
                rows = cur.fetchmany(TABLE_ROW_LIMIT + 1)
                write_table(columns, rows[:TABLE_ROW_LIMIT], out,
                            truncated=len(rows) > TABLE_ROW_LIMIT)
                return
            batches = iter(lambda: cur.fetchmany(BATCH), [])
            (_write_csv if fmt == "csv" else _write_json)(columns, batches, out)
        except duckdb.Error as exc:
            raise _refused(exc) from None
    finally:
        con.close()


def _write_csv(columns, batches, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for batch in batches:
        writer.writerows([_text(v) for v in row] for row in batch)


def _write_json(columns, batches, out: TextIO) -> None:
    """A JSON array of objects, one per row, written as the rows arrive."""
    out.write("[")
    sep = "\n"
    for batch in batches:
        for row in batch:
            out.write(sep + json.dumps({c: _json_value(v) for c, v in zip(columns, row,
                                                                           strict=True)}))
            sep = ",\n"
    out.write("\n]\n")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):  # exact money: as stored, without trailing zeros
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _json_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN and infinities are not JSON
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return _text(value)  # Decimal as a string: JSON numbers would lose exactness in most readers


def write_table(columns: list[str], rows: list[tuple], out: TextIO, *,
                truncated: bool = False) -> None:
    """A plain aligned table, numbers right-aligned; `truncated`: the result had more rows."""
    shown = rows
    cells = [[_text(v) for v in row] for row in shown]
    numeric = [bool(shown) and all(isinstance(r[i], int | float | Decimal) or r[i] is None
                                   for r in shown) and not all(r[i] is None for r in shown)
               for i in range(len(columns))]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    out.write(line(columns) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells:
        out.write(line(row) + "\n")
    if truncated:
        out.write(f"(first {len(rows):,} rows shown; more not shown: use --format csv or json "
                  "for all)\n")
    else:
        out.write(f"({len(rows):,} row{'s' if len(rows) != 1 else ''})\n")


def _manifest_descriptions(manifest: Path) -> dict[tuple[str, str], str]:
    """(schema, table) -> description, from dbt's manifest (models, seeds, snapshots, sources)."""
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return {}
    out: dict[tuple[str, str], str] = {}
    for node in list(data.get("nodes", {}).values()) + list(data.get("sources", {}).values()):
        name = node.get("alias") or node.get("identifier") or node.get("name")
        schema = node.get("schema")
        if name and schema and node.get("description"):
            out[(schema, name)] = " ".join(node["description"].split())
    return out


def published_tables(warehouse: Path, manifest: Path) -> list[tuple[str, str, int, str]]:
    """(schema, table, rows, description) of every table and view in PUBLISHED_SCHEMAS."""
    from dagster_project.lib.ingest.sql import quote_ident

    descriptions = {**_manifest_descriptions(manifest), **PYTHON_TABLES}
    con = _open(warehouse)
    try:
        names = con.execute(
            """select table_schema, table_name from information_schema.tables
               where list_contains(?, table_schema)
               order by list_position(?, table_schema), table_name""",
            [list(PUBLISHED_SCHEMAS)] * 2).fetchall()
        out = []
        for schema, table in names:
            ((n,),) = con.execute(
                f"select count(*) from {quote_ident(schema)}.{quote_ident(table)}"  # noqa: S608
            ).fetchall()
            out.append((schema, table, n, _one_line(descriptions.get((schema, table), ""))))
    finally:
        con.close()
    return out


def _one_line(text: str, width: int = DESCRIPTION_WIDTH) -> str:
    """The first sentence, cut at a word boundary to `width` characters."""
    first = text.split(". ")[0].rstrip(".")
    if len(first) <= width:
        return first
    return first[:width - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def print_tables(warehouse: Path, manifest: Path, out: TextIO | None = None) -> None:
    rows = published_tables(warehouse, manifest)
    out = out or sys.stdout
    if not rows:
        out.write(f"{warehouse}: nothing published yet. Run `mlcost run` first.\n")
        return
    write_table(["table", "rows", "description"],
                [(f"{s}.{t}", n, d) for s, t, n, d in rows], out)
    out.write('Query one: mlcost sql "from marts.fct_costs_monthly limit 10"\n')
