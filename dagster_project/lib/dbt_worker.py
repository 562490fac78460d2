"""A warm dbt process for the length of one `mlcost run` (docs/operations.md, "The dbt
worker"; its measured effect: docs/benchmarks.md, "Second round").

A run makes four dbt invocations (defs/dbt/assets.py). As separate `dbt` processes each paid
≈ 3-4 s before its first model: Python and dbt's imports, loading the partial-parse state and
writing the manifest again; and a warehouse dbt had not parsed for cost a full parse (6-7 s)
on the run's critical path. The worker is started when the run takes its warehouse lock. It
imports dbt and parses the project for the run's profile while Dagster loads its definitions
and ingests, then serves each invocation in process (`dbtRunner(manifest=…)`), one at a time,
with the invocation's own arguments, environment and working directory. dagster-dbt is
unchanged: it starts `mlcost-dbt` (lib/dbt_client.py), which relays the worker's output.

It also runs the run's great-expectations suites (lib/quality.py), having imported
great-expectations (≈ 3 s) as it started: the run's process would otherwise import it on its
critical path before the first suite.

Isolation kept from separate processes: the worker is its own process (dbt's threads, memory
and DuckDB connection are not the run's), it closes its DuckDB database after every
invocation (the Python assets between invocations write the same file), SIGINT cancels the
running invocation as it cancels `dbt`, and the worker exits when the run's process dies
(kill -9 included: the kernel's parent-death signal, and a check of the parent pid).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import logging
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from dagster_project.lib.dbt_client import EXIT_KEY, WORKER_ENV, worker_disabled

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    with contextlib.suppress(Exception):  # Linux only; elsewhere the pid check below
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        os._exit(0)


def _close_duckdb() -> None:
    """Close dbt-duckdb's cached database: the run's Python assets write the file next."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager as Manager
    except ImportError:
        return
    with Manager._LOCK:
        if Manager._ENV is not None:
            with contextlib.suppress(Exception):
                Manager._ENV.close()
            Manager._ENV = None


def _replace(src: Path, dst: Path) -> None:
    """Copy atomically: another run's worker may be reading `dst`."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _parse(project_dir: str, target_path: Path) -> bytes | None:
    """The manifest for this process's profile, pickled; None if the project does not parse
    (each invocation then parses itself and reports the error as `dbt` would).

    Pickled because an invocation changes its manifest: dbt compiles nodes into it and does
    not compile an already compiled ephemeral model again, so a manifest shared between
    invocations would give the second one the first one's SQL (its billing window). Each
    invocation gets its own fresh copy (≈ 30 ms)."""
    from dbt.cli.main import dbtRunner

    from dagster_project.lib.dbt_manifest import canonical_warehouse, shared_parse_state

    target_path.mkdir(parents=True, exist_ok=True)
    warehouse = os.environ.get("MLCOST_WAREHOUSE", "warehouse.duckdb")
    shared = shared_parse_state(warehouse)
    local = target_path / "partial_parse.msgpack"
    if shared.exists():  # unchanged project files: dbt skips parsing (≈ 1 s, not 6-7 s)
        _replace(shared, local)
    # Parsed for the canonical path of this file name (dbt_manifest.canonical_warehouse);
    # every invocation runs against the real one (its environment names it).
    os.environ["MLCOST_WAREHOUSE"] = canonical_warehouse(warehouse)
    try:
        res = dbtRunner().invoke(["parse", "--quiet", "--project-dir", project_dir,
                                  "--profiles-dir", project_dir,
                                  "--target-path", str(target_path)])
    finally:
        os.environ["MLCOST_WAREHOUSE"] = warehouse
    _close_duckdb()
    if not res.success:
        return None
    if local.exists():
        _replace(local, shared)
    # The manifest's data fields only: its private fields are caches dbt rebuilds on demand,
    # and its own __reduce_ex__ (dbt-core 1.11) omits `fixtures`, shifting every later field.
    manifest = res.result
    data = {f.name: getattr(manifest, f.name) for f in dataclasses.fields(manifest)
            if f.init and not f.name.startswith("_")}
    return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)


def _import_quietly(name: str) -> None:
    logging.getLogger(name).setLevel(logging.WARNING)  # its INFO lines would fill worker.log
    with contextlib.suppress(Exception):  # a request that needs it reports the error itself
        importlib.import_module(name)


def _fresh_manifest(blob: bytes | None):
    if blob is None:
        return None
    from dbt.contracts.graph.manifest import Manifest

    return Manifest(**pickle.loads(blob))  # noqa: S301 (this process pickled it)


def _serve_one(conn: socket.socket, manifest: Callable[[], bytes | None]) -> None:
    stream = conn.makefile("rwb")
    request = json.loads(stream.readline())
    stream.write(json.dumps({"pid": os.getpid()}).encode() + b"\n")
    stream.flush()
    from dagster_project.lib.quality import GX_REQUEST, serve_request

    if request.get("kind") == GX_REQUEST:  # a great-expectations suite
        stream.write(json.dumps(serve_request(request), default=str).encode() + b"\n")
        stream.flush()
        return
    from dbt.cli.main import dbtRunner

    blob = manifest()  # waits for the parse
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    out = conn.makefile("w", encoding="utf-8", newline="\n")
    saved = sys.stdout
    sys.stdout = out  # dbt's console logger writes to sys.stdout as it is at each invocation
    try:
        res = dbtRunner(manifest=_fresh_manifest(blob)).invoke(request["args"])
    finally:
        sys.stdout = saved
        with contextlib.suppress(OSError):
            out.flush()
        _close_duckdb()
    code = 0 if res.success else (2 if res.exception is not None else 1)
    if res.exception is not None and not isinstance(res.exception, KeyboardInterrupt):
        out.write(f"mlcost-dbt worker: {type(res.exception).__name__}: {res.exception}\n")
    out.write(json.dumps({EXIT_KEY: code}) + "\n")
    out.flush()


def serve(sock_path: str, parent: int, project_dir: str, target_path: str) -> None:
    _die_with_parent(parent)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock_path)  # before parsing: a client that comes early waits in the backlog
    server.listen(4)
    # The run's first requests are great-expectations suites on the raw tables the ingest
    # step loaded (lib/quality.py), before its first dbt invocation: import great-expectations
    # first (≈ 3 s), then parse in the background and answer suites meanwhile (they waited
    # for the parse, ≈ 1.5 s of every run); a dbt invocation waits for the parse.
    _import_quietly("great_expectations")
    parsed: list[bytes | None] = []
    parser = threading.Thread(
        target=lambda: parsed.append(_parse(project_dir, Path(target_path))),
        name="mlcost-dbt-parse", daemon=True)
    parser.start()

    def manifest() -> bytes | None:
        parser.join()
        return parsed[0] if parsed else None  # no manifest: each invocation parses itself

    server.settimeout(1.0)
    while True:
        try:
            conn, _ = server.accept()
        except TimeoutError:
            if os.getppid() != parent:
                return
            continue
        except KeyboardInterrupt:  # a cancel that came between invocations
            continue
        with conn:
            conn.settimeout(None)
            try:
                _serve_one(conn, manifest)
            except (OSError, KeyboardInterrupt):  # the client went away: serve the next one
                _close_duckdb()


@contextlib.contextmanager
def running(target_path: Path) -> Iterator[subprocess.Popen | None]:
    """A worker for the dbt invocations made inside (MLCOST_DBT_WORKER names its socket);
    yields its process. MLCOST_DBT_WORKER=off starts none (each invocation is then its own
    `dbt` process)."""
    if worker_disabled():
        yield None
        return
    saved = os.environ.get(WORKER_ENV)
    from dagster_project import settings

    folder = tempfile.mkdtemp(prefix="mlcost-dbt-")  # short: a socket path has ≤ 107 bytes
    sock_path = os.path.join(folder, "worker.sock")
    target_path.mkdir(parents=True, exist_ok=True)
    # Its stderr (Python warnings, a crash) goes to a log beside dbt's: dbt's own output
    # reaches dagster-dbt through the client.
    with open(target_path / "worker.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster_project.lib.dbt_worker", sock_path,
             str(os.getpid()), str(settings.DBT_PROJECT_DIR), str(target_path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            start_new_session=True)
    os.environ[WORKER_ENV] = sock_path
    try:
        yield proc
    finally:
        if saved is None:
            os.environ.pop(WORKER_ENV, None)
        else:
            os.environ[WORKER_ENV] = saved
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _main(sock_path: str, parent: str, project_dir: str, target_path: str) -> None:
    folder = os.path.dirname(sock_path)

    def _stop(*_):
        # The run ended or died (the parent-death signal is SIGTERM): leave no socket behind.
        shutil.rmtree(folder, ignore_errors=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, _stop)
    try:
        serve(sock_path, int(parent), project_dir, target_path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    _main(*sys.argv[1:5])
