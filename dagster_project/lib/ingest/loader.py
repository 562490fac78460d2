"""Load landed files into the raw layer, one atomic transaction per file.

A file is identified by the sha256 of its content: loading it again is a no-op. Each file is
split into delivery slices (provider, billing account, billing period, dataset type, currency).
A newer delivery of a (provider, billing account, billing period) supersedes the older one,
which stays in raw and in the ledger, marked not current (see `land._supersede` for parts of
one delivery, Azure's complementary actual/amortized exports and conflicting exports of one
slice in one folder). Bad files are quarantined (ledger row with the reason) and never stop good
files from loading; suspicious rows are loaded and flagged (ledger `warnings`). Files younger
than the settle time, or changing while read, are left for the next run.
The catalogue of bad inputs and what happens to each is docs/bad-input.md.

This module runs the steps for each file (discover.py, detect.py, read.py, land.py with
validate.py, ledger.py) and keeps the public names other modules import from it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from .detect import Detection, detect
from .discover import (
    DEFAULT_SETTLE_SECONDS,
    SKIPPED_SUFFIXES,
    discover,
    display_path,
    settle_seconds,
    sha256_file,
    stat_key,
)
from .errors import BadInputError, NotAnExport
from .families import FAMILIES
from .land import land_detected
from .ledger import (
    LINEAGE_COLUMNS,
    META_DDL,
    FileOutcome,
    IngestResult,
    ensure_meta,
    ensure_raw_table,
    write_ledger_row,
)
from .read import read_error_message, stage_query

__all__ = [
    "DEFAULT_SETTLE_SECONDS", "LINEAGE_COLUMNS", "META_DDL", "SKIPPED_SUFFIXES", "FileOutcome",
    "IngestResult", "before_commit", "discover", "display_path", "ensure_meta",
    "ensure_raw_table", "ingest_landing", "ingest_paths", "load_file", "settle_seconds",
    "sha256_file",
]

log = logging.getLogger(__name__)

class _StillWriting(Exception):
    """The file changed while it was being read: someone is still writing it."""


def load_file(con: duckdb.DuckDBPyConnection, path: Path, *, now: datetime | None = None,
              landing: Path | None = None, settle: float | None = None) -> FileOutcome:
    path = Path(path)
    shown = display_path(path, landing)
    now = now or datetime.now(UTC).replace(tzinfo=None)
    settle = settle_seconds() if settle is None else settle
    try:
        stat = path.stat()
    except FileNotFoundError:
        return _waiting(path, shown, "disappeared before it could be read")
    age = time.time() - stat.st_mtime
    if age < settle:
        return _waiting(path, shown, f"was modified {max(age, 0):.0f}s ago (settle time "
                        f"{settle:g}s, MLCOST_SETTLE_SECONDS); it may still be being written")
    try:
        file_id = sha256_file(path)
        changed = stat_key(path.stat()) != stat_key(stat)
    except OSError as exc:  # permissions, a vanished file, an I/O error: nothing to hash
        return _waiting(path, shown, f"cannot be read ({exc.strerror or exc})",
                        level=logging.WARNING)
    if changed:
        return _waiting(path, shown, "changed while it was being read")
    known = {r[0]: (r[1], r[2]) for r in con.execute(
        "select status, arg_max(error, loaded_at), list(path) from meta.load_ledger "
        "where file_id = ? group by status", [file_id]).fetchall()}
    base = dict(
        file_id=file_id, path=str(path), file_name=path.name, directory=str(path.parent),
        size_bytes=stat.st_size, modified_at=datetime.fromtimestamp(stat.st_mtime, UTC)
        .replace(tzinfo=None), loaded_at=now,
    )
    if "loaded" in known:
        # Same bytes under another name: note the copy once, load nothing.
        (seen_here,) = con.execute(
            "select count(*) from meta.load_ledger where file_id = ? and path = ?",
            [file_id, str(path)]).fetchone()
        if not seen_here:
            write_ledger_row(con, **base, family=None, provider=None, source_format=None,
                    schema_version=None, dataset_type=None, status="duplicate", row_count=0,
                    billed_total=None, effective_total=None, error=None, warnings=None)
        return FileOutcome(str(path), file_id, "duplicate")
    if "skipped" in known:
        return FileOutcome(str(path), file_id, "skipped", error=known["skipped"][0])
    if "quarantined" in known and str(path) in known["quarantined"][1]:
        # Same bytes at the same place fail the same way: report again without re-reading.
        # Moved elsewhere (the fix for a same-folder conflict) they are read again.
        return FileOutcome(str(path), file_id, "quarantined", error=known["quarantined"][0])
    det: Detection | None = None
    try:
        det = detect(path)
        spec = FAMILIES[det.family]
        # Built before the transaction: probing the CSV dialect may fail, which would abort it.
        stage = stage_query(con, path, det, spec)
        con.execute("begin transaction")
        try:
            outcome = land_detected(con, path, det, spec, file_id, base, now, stage, shown,
                                    landing)
            if stat_key(path.stat()) != stat_key(stat):
                raise _StillWriting
            before_commit(path)
            con.execute("commit")
            return outcome
        except BaseException:
            con.execute("rollback")
            raise
    except _StillWriting:
        return _waiting(path, shown, "changed while it was being loaded")
    except FileNotFoundError:
        return _waiting(path, shown, "disappeared while it was being read")
    except OSError as exc:
        return _waiting(path, shown, f"cannot be read ({exc.strerror or exc})",
                        level=logging.WARNING)
    except NotAnExport as exc:
        note = str(exc).replace(str(path), shown, 1)
        write_ledger_row(con, **base, family=None, provider=None, source_format=None,
                         schema_version=None, dataset_type=None, status="skipped", row_count=0,
                         billed_total=None, effective_total=None, error=note, warnings=None)
        return FileOutcome(str(path), file_id, "skipped", error=note)
    except BadInputError as exc:
        exc.path = shown
        msg = exc.message
    except duckdb.Error as exc:
        msg = read_error_message(path, shown, exc)
    write_ledger_row(
        con, **base, family=det.family if det else None, provider=None,
        source_format=det.format_label if det else None,
        schema_version=det.schema_version if det else None, dataset_type=None,
        status="quarantined", row_count=0, billed_total=None, effective_total=None, error=msg,
        warnings=None,
    )
    return FileOutcome(str(path), file_id, "quarantined",
                       family=det.family if det else None, error=msg)


def _waiting(path: Path, shown: str, why: str, level: int = logging.INFO) -> FileOutcome:
    msg = f"{shown}: {why}; left for the next run."
    log.log(level, msg)
    return FileOutcome(str(path), None, "waiting", error=msg)


def before_commit(path: Path) -> None:
    """Seam between a file's landing and its commit: its rows are inserted, its deliveries
    recorded and older ones superseded, and nothing is committed yet. A no-op at run time.

    The crash-recovery test replaces it (tests/support/hold_before_commit.py) to kill the load
    at exactly this point; it is called by name through this module so that a monkeypatch of
    `loader.before_commit` takes effect.
    """


def ingest_paths(con: duckdb.DuckDBPyConnection, paths: Iterable[Path], *,
                 landing: Path | None = None, settle: float | None = None) -> IngestResult:
    ensure_meta(con)
    return IngestResult([load_file(con, p, landing=landing, settle=settle) for p in paths])


def ingest_landing(con: duckdb.DuckDBPyConnection, landing: Path, *,
                   settle: float | None = None) -> IngestResult:
    return ingest_paths(con, discover(landing), landing=Path(landing), settle=settle)
