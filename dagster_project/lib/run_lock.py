"""One `mlcost run` per warehouse: an exclusive lock on a file beside the warehouse.

The kernel releases the lock when its process dies, however it dies, so a killed run never
wedges the next one; the file records who holds it (run id, pid, since) for whoever waits.
A run that waits says for whom, sleeps between tries and gives up after
MLCOST_BUSY_TIMEOUT seconds (default 300) with exit code 75. The file
`<warehouse>.mlcost-pending.json` records the billing periods a run was rebuilding until it
finishes, so the next run finishes the job of one that was killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from dagster_project.exit_codes import BUSY, ExitError

DEFAULT_BUSY_TIMEOUT = 300.0
POLL_SECONDS = 1.0


def busy_timeout() -> float:
    raw = os.environ.get("MLCOST_BUSY_TIMEOUT", str(DEFAULT_BUSY_TIMEOUT))
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ExitError(f"MLCOST_BUSY_TIMEOUT={raw!r}: expected a number of seconds >= 0.", 64)
    return value


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".mlcost-lock")


def pending_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".mlcost-pending.json")


def read_holder(warehouse: Path) -> dict:
    try:
        return json.loads(lock_path(warehouse).read_text() or "{}")
    except (OSError, ValueError):
        return {}


def describe(holder: dict) -> str:
    if not holder:
        return "another mlcost process"
    return (f"run {holder.get('run_id', '?')} (pid {holder.get('pid', '?')} on "
            f"{holder.get('host', '?')}, since {holder.get('since', '?')})")


@contextlib.contextmanager
def warehouse_lock(warehouse: Path, run_id: str, *, timeout: float | None = None,
                   say: Callable[[str], None] = print) -> Iterator[None]:
    """Hold the warehouse's run lock for the block, waiting up to `timeout` seconds."""
    timeout = busy_timeout() if timeout is None else timeout
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, warehouse, timeout, say)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({
            "run_id": run_id, "pid": os.getpid(), "host": socket.gethostname(),
            "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, warehouse: Path, timeout: float, say: Callable[[str], None]) -> None:
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = describe(read_holder(warehouse))
        left = deadline - time.monotonic()
        if left <= 0:
            raise ExitError(
                f"{warehouse}: the warehouse is busy: {holder} is writing it; gave up after "
                f"{timeout:g}s (MLCOST_BUSY_TIMEOUT). Retry when it has finished.", BUSY)
        if not announced:
            say(f"mlcost: waiting for {holder} to finish with {warehouse} "
                f"(up to {timeout:g}s, MLCOST_BUSY_TIMEOUT)")
            announced = True
        time.sleep(min(POLL_SECONDS, left))


def wait_for_duckdb(warehouse: Path, deadline: float, say: Callable[[str], None] = print
                    ) -> None:
    """Wait until no other process (a SQL client, a Dagster run) has the DuckDB file open for
    writing; DuckDB's own message names that process's pid."""
    from dagster_project.lib.ingest.errors import WarehouseBusyError
    from dagster_project.lib.warehouse import connection

    announced = False
    while True:
        try:
            with connection(warehouse):
                return
        except WarehouseBusyError as exc:
            if time.monotonic() >= deadline:
                raise ExitError(f"{exc} Gave up waiting after MLCOST_BUSY_TIMEOUT.", BUSY) from None
            if not announced:
                say(f"mlcost: waiting for another process to close {warehouse} "
                    "(up to MLCOST_BUSY_TIMEOUT)")
                announced = True
            time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


@contextlib.contextmanager
def short_lock(path: Path) -> Iterator[None]:
    """An exclusive lock for a short critical section shared by every mlcost process (dbt's
    parse into the shared target folder, creating a fresh Dagster instance's tables)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def read_pending(warehouse: Path) -> dict | None:
    """What a run that did not finish was doing: {"run_id", "window": [first, last] or None
    (killed before it knew, i.e. during ingest), "since"}; None when the last run finished."""
    try:
        return json.loads(pending_path(warehouse).read_text())
    except (OSError, ValueError):
        return None


def write_pending(warehouse: Path, run_id: str, window: tuple[str, str] | None) -> None:
    tmp = pending_path(warehouse).with_suffix(".tmp")
    tmp.write_text(json.dumps({"run_id": run_id, "window": list(window) if window else None,
                               "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}))
    os.replace(tmp, pending_path(warehouse))


def clear_pending(warehouse: Path) -> None:
    pending_path(warehouse).unlink(missing_ok=True)
