"""Write a published table to Parquet or CSV, streaming (tables can exceed memory)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .ingest.sql import quote_ident

BATCH_ROWS = 250_000


def _select(con: duckdb.DuckDBPyConnection, schema: str, table: str, fmt: str) -> str:
    cols = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    exprs = []
    for name, dtype in cols:
        q = quote_ident(name)
        if dtype.upper().startswith("TIMESTAMP"):
            # FOCUS date/times are UTC; CSV uses the spec's ISO 8601 `YYYY-MM-DDTHH:mm:ssZ`.
            if fmt == "csv":
                exprs.append(f"strftime({q}, '%Y-%m-%dT%H:%M:%SZ') as {q}")
            else:
                exprs.append(f"timezone('UTC', {q}) as {q}")
        else:
            exprs.append(q)
    return f"select {', '.join(exprs)} from {quote_ident(schema)}.{quote_ident(table)}"


def export_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, out: Path,
                 fmt: str | None = None) -> int:
    out = Path(out)
    fmt = fmt or ("csv" if out.suffix.lower() == ".csv" else "parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    reader = con.sql(_select(con, schema, table, fmt)).to_arrow_reader(BATCH_ROWS)
    rows = 0
    writer = None
    try:
        for batch in reader:
            if writer is None:
                writer = (pacsv.CSVWriter(tmp, batch.schema) if fmt == "csv"
                          else pq.ParquetWriter(tmp, batch.schema, compression="zstd"))
            writer.write_batch(batch)
            rows += batch.num_rows
        if writer is None:  # empty table: still write a file with the schema
            schema_ = reader.schema
            writer = (pacsv.CSVWriter(tmp, schema_) if fmt == "csv"
                      else pq.ParquetWriter(tmp, schema_, compression="zstd"))
            if fmt != "csv":
                writer.write_table(pa.Table.from_batches([], schema=schema_))
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(out)  # readers never see a half-written file
    return rows
