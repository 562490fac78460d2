"""`mlcost-dbt`: the dbt executable dagster-dbt starts (defs/dbt/assets.py `dbt_resource`).

During `mlcost run` the environment names a warm dbt worker (lib/dbt_worker.py): this client
hands it the invocation (arguments, environment, working directory) and copies dbt's output
back to its own stdout, which is what dagster-dbt reads, then exits with dbt's exit code.
Anywhere else (`dagster dev`, the daemon, a worker that is gone) it becomes the real `dbt`
with the same arguments. Standard library only: it starts in a few milliseconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys

WORKER_ENV = "MLCOST_DBT_WORKER"  # the worker's socket path
EXIT_KEY = "mlcost_dbt_exit"  # the worker's last line: {"mlcost_dbt_exit": code}
NO_ANSWER = 2  # dbt's own code for an unhandled error


def worker_disabled() -> bool:
    """MLCOST_DBT_WORKER=off (or 0, false): no worker, a `dbt` process per invocation."""
    return os.environ.get(WORKER_ENV, "").lower() in ("off", "0", "false")


def worker_path() -> str | None:
    """The worker's socket from the environment; None when unset or switched off."""
    value = os.environ.get(WORKER_ENV, "")
    return None if not value or worker_disabled() else value


def real_dbt() -> str:
    here = os.path.dirname(os.path.abspath(sys.argv[0]))
    local = os.path.join(here, "dbt")
    return local if os.access(local, os.X_OK) else "dbt"


def _connect(path: str | None) -> socket.socket | None:
    if not path:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def main() -> int:
    args = sys.argv[1:]
    sock = _connect(worker_path())
    if sock is None:
        exe = real_dbt()
        os.execvp(exe, [exe, *args])
    request = {"args": args, "env": dict(os.environ), "cwd": os.getcwd()}
    sock.sendall(json.dumps(request).encode() + b"\n")
    stream = sock.makefile("rb")
    hello = json.loads(stream.readline() or b"{}")
    worker_pid = hello.get("pid")

    def _forward(signum, _frame):
        # dagster-dbt stops dbt with SIGINT; the worker turns it into dbt's own cancel.
        if worker_pid:
            os.kill(worker_pid, signal.SIGINT)

    signal.signal(signal.SIGINT, _forward)
    signal.signal(signal.SIGTERM, _forward)
    out = sys.stdout.buffer
    for line in stream:
        if line.startswith(b'{"' + EXIT_KEY.encode()):
            return int(json.loads(line)[EXIT_KEY])
        out.write(line)
        out.flush()
    out.write(b"mlcost-dbt: the dbt worker closed the connection before dbt finished\n")
    return NO_ANSWER


if __name__ == "__main__":
    sys.exit(main())
