"""Opening the embedded DuckDB warehouse: one writer at a time, with a readable error."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb

from .ingest.errors import WarehouseBusyError


def busy_message(path: Path | str, detail: str = "") -> str:
    """Who holds the warehouse: the mlcost run (id, pid, since) from its lock file, else the
    process DuckDB names (its pid) in `detail`, DuckDB's own error text."""
    from .run_lock import describe, read_holder

    pid = re.search(r"\(PID (\d+)\)", detail)
    holder = read_holder(Path(path))
    # The lock file names an mlcost run; it is the DuckDB holder only if the pids agree.
    holder_pid = str(holder.get("pid", ""))
    if holder_pid == str(os.getpid()) or (pid and holder_pid != pid.group(1)):
        holder = {}
    who = (describe(holder) if holder else f"process {pid.group(1)}" if pid
           else "another process")
    return (
        f"{path}: the warehouse is open for writing by {who} (a running `mlcost run`, a Dagster "
        "run from the daemon or `dagster dev`, or a SQL client). DuckDB allows one writer. Wait "
        "for the other process to finish (or close the other connection), then retry "
        "(`mlcost run` waits up to MLCOST_BUSY_TIMEOUT seconds, then exits 75)."
    )


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise FileNotFoundError(
            f"{path}: no warehouse here yet. Run `mlcost run` (or `make demo`) first."
        )
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusyError(busy_message(path, str(exc))) from exc
        raise
    con.execute("set TimeZone = 'UTC'")
    # Large loads: keep memory bounded and spill instead of failing. DuckDB's default limit
    # is 80% of RAM; a fixed cap (overridable) keeps 100M-row loads inside 8 GB of RSS, and a
    # file database spills to <warehouse>.tmp beyond it.
    con.execute("set preserve_insertion_order = false")
    con.execute("set memory_limit = ?", [os.environ.get("MLCOST_DUCKDB_MEMORY_LIMIT", "6GB")])
    return con


@contextlib.contextmanager
def connection(path: Path | str, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    # fetchall, not fetchone: this DuckDB refuses further work on a connection whose last
    # result was not read to the end (a later con.sql() would raise ResourceInUseException)
    ((n,),) = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return n > 0


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All statements of the block land together, or none do."""
    con.begin()
    try:
        yield
        con.commit()
    except BaseException:
        con.rollback()
        raise


@contextlib.contextmanager
def arrow_views(con: duckdb.DuckDBPyConnection, **tables) -> Iterator[None]:
    """Arrow tables visible to SQL under the given names for the block, then unregistered."""
    try:
        for name, table in tables.items():
            con.register(name, table)
        yield
    finally:
        for name in tables:
            with contextlib.suppress(duckdb.Error):
                con.unregister(name)
