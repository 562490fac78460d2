"""Dagster's SQLite event log, minus three per-event costs (configured in mlcost's dagster.yaml,
lib/instance.py).

Dagster's `SqliteEventLogStorage` creates a new SQLAlchemy engine and SQLite connection for
every event it stores and commits each one with a full fsync: a first `mlcost run` writes about
2,000 events (every dbt model, test and asset check is several), which cost 10-15 s of a
60-90 s run on this project's disk (docs/benchmarks.md). This subclass keeps one engine per
database file and runs SQLite in WAL mode with `synchronous=NORMAL`, SQLite's documented
setting for WAL: a commit is still atomic and survives the process being killed (kill -9, OOM);
only the last commits before a power loss can be lost, which for a run's event log costs a
few log lines, never the warehouse (DuckDB has its own write-ahead log). It also remembers
which tables exist instead of opening a connection to ask before each asset check result.
Same files, same schema: `dagster dev` and Dagster's own class read them unchanged.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as db
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS

_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")
# Engines kept open: the index and the few runs being written or read. A long-lived process
# (`dagster dev`, the daemon) reads many runs' files; each one's engine beyond these is closed.
MAX_OPEN_SHARDS = 8


def _engine(conn_string: str) -> db.engine.Engine:
    # A small pool: the connection stays open between events instead of being reopened.
    engine = db.create_engine(conn_string, pool_size=1, max_overflow=4,
                              connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                                            "check_same_thread": False})

    @db.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        cursor = dbapi_conn.cursor()
        for pragma in _PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    return engine


class MlcostSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with one pooled engine per shard and WAL + synchronous=NORMAL."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, db.engine.Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        self._tables_present: set[str] = set()
        super().__init__(base_dir, inst_data)

    def has_table(self, table_name: str) -> bool:
        """Dagster asks before storing each asset check result or tagged event, each time
        with a new engine and connection (≈ 1.5 s of a first run). A table, once there, stays
        (migrations add tables), so a yes is remembered; a no is asked again."""
        if table_name in self._tables_present:
            return True
        found = super().has_table(table_name)
        if found:
            self._tables_present.add(table_name)
        return found

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # dagster builds it from dagster.yaml
        return cls(inst_data=inst_data, **config_value)

    def _shard_engine(self, shard: str) -> db.engine.Engine:
        """Called under `_db_lock` (as every use of a connection is), so an engine closed
        here has no connection in use."""
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is None:
                engine = self._engines[shard] = _engine(self.conn_string_for_shard(shard))
            self._engines.move_to_end(shard)
            while len(self._engines) > MAX_OPEN_SHARDS:
                _, oldest = self._engines.popitem(last=False)
                oldest.dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[db.engine.Connection]:
        with self._db_lock:
            engine = self._shard_engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _dispose_engines(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._dispose_engines()  # the shard files are deleted: no connection may stay open
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()
