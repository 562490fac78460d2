"""The no-op decision of `mlcost run`: with nothing new in the landing folder, say so and stop
before Dagster or dbt are even imported (they take seconds to start; the answer takes less).

A successful run writes `<warehouse>.mlcost-state.json`: every landed file's (path, size,
mtime_ns) as seen when the run started, the dbt project's fingerprint and the mlcost version.
The next run is a no-op only when all of this still holds (any doubt: a normal run):
  - no --period/--from/--to/--full-refresh, a local landing folder (not s3://...);
  - no pending rebuild of a killed run (`<warehouse>.mlcost-pending.json`), no run holding
    the warehouse lock;
  - the same files with the same size and mtime, none of them young enough to have been left
    for a later run (MLCOST_SETTLE_SECONDS), and every one of them in meta.load_ledger with
    the same size;
  - the same dbt project files (as the manifest freshness check sees them), mlcost version
    and calendar month (a month closing changes what the forecast and variance stages do).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

STATE_VERSION = 1


def state_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".mlcost-state.json")


def snapshot(landing: Path) -> dict[str, list[int]]:
    """{path: [size, mtime_ns]} of every file the loader would look at."""
    from dagster_project.lib.ingest.discover import discover

    out = {}
    for p in discover(landing):
        st = p.stat()
        out[str(p)] = [st.st_size, st.st_mtime_ns]
    return out


def dbt_fingerprint() -> list:
    """Count and newest mtime of the dbt project's files (what ensure_dbt_manifest watches)."""
    from dagster_project.lib.dbt_manifest import _dbt_inputs

    files = _dbt_inputs()
    return [len(files), max((p.stat().st_mtime_ns for p in files), default=0)]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlcost")
    except PackageNotFoundError:
        return "unknown"


def _month(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), UTC).strftime("%Y-%m")


def write_state(warehouse: Path, run_id: str, landing: str, files: dict[str, list[int]],
                taken_at: float, settle: float) -> bool:
    """Record a successful run. Not written (and any older state removed) when a file was
    young at `taken_at`: the loader may have left it for a later run."""
    path = state_path(warehouse)
    young = [p for p, (_, mtime_ns) in files.items() if mtime_ns / 1e9 > taken_at - settle]
    if young:
        path.unlink(missing_ok=True)
        return False
    state = {"version": STATE_VERSION, "run_id": run_id, "landing": landing,
             "finished": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "month": _month(taken_at), "mlcost": _version(), "dbt": dbt_fingerprint(),
             "files": files}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(path)  # never half a state file
    return True


def _lock_free(warehouse: Path) -> bool:
    from dagster_project.lib.run_lock import lock_path

    lock = lock_path(warehouse)
    if not lock.exists():
        return True
    fd = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def _ledger_agrees(warehouse: Path, files: dict[str, list[int]]) -> bool:
    """Every file is in the ledger with the same size (so it was read, whatever its fate)."""
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return False
    try:
        known = dict(con.execute(
            "select path, arg_max(size_bytes, loaded_at) from meta.load_ledger "
            "where list_contains(?, path) group by path", [list(files)]).fetchall())
    except duckdb.Error:
        return False
    finally:
        con.close()
    return all(known.get(p) == size for p, (size, _) in files.items())


def nothing_new(warehouse: Path, landing: str, files: dict[str, list[int]]) -> dict | None:
    """The last successful run's state when this run has nothing to do, else None.
    The caller has already excluded flags, remote landings and pending rebuilds."""
    try:
        state = json.loads(state_path(warehouse).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        return None
    from dagster_project.lib.run_lock import pending_path

    if (not warehouse.exists() or pending_path(warehouse).exists()
            or state.get("landing") != landing or state.get("files") != files
            or state.get("month") != _month() or state.get("mlcost") != _version()
            or state.get("dbt") != dbt_fingerprint() or not _lock_free(warehouse)):
        return None
    if not _ledger_agrees(warehouse, files):
        return None
    return state
