"""The production start command (Dockerfile, docs/bigquery.md "Deploying to production"):
mlcost's code location as a Dagster gRPC code server, `python deploy/code_server.py`.

The webserver and the daemon reach it through deploy/workspace.yaml; runs the daemon launches
execute in this process's container (default run launcher). Address from the environment:
MLCOST_GRPC_HOST (default 0.0.0.0) and MLCOST_GRPC_PORT (default 4000).
"""

from __future__ import annotations

import os
import runpy
import signal
import sys

from dagster_project import settings
from dagster_project.exit_codes import MISSING_INPUT, USAGE

LOCATION_NAME = "mlcost"  # the [tool.dagster] code_location_name in pyproject.toml
DEFAULT_HOST, DEFAULT_PORT = "0.0.0.0", 4000  # noqa: S104 (a container listens on all interfaces)


def address(env: dict[str, str]) -> tuple[str, int]:
    """(host, port) from MLCOST_GRPC_HOST / MLCOST_GRPC_PORT; ValueError names a bad one."""
    host = env.get("MLCOST_GRPC_HOST", "").strip() or DEFAULT_HOST
    raw = env.get("MLCOST_GRPC_PORT", "").strip() or str(DEFAULT_PORT)
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ValueError(f"MLCOST_GRPC_PORT={raw!r} is not a TCP port (1-65535)")
    return host, int(raw)


def main() -> int:
    try:
        host, port = address(dict(os.environ))
    except ValueError as exc:
        print(f"mlcost code server: {exc}.", file=sys.stderr)
        return USAGE
    # A wrong BigQuery configuration stops the server before it serves anything, naming the
    # variable (the same check as `mlcost run --target prod`).
    from dagster_project.exit_codes import ExitError
    from dagster_project.lib.bigquery_preflight import check_target

    try:
        check_target(settings.dbt_target(), command="mlcost code server")
    except ExitError as exc:
        print(f"mlcost code server: {exc}", file=sys.stderr)
        return exc.code
    manifest = settings.DBT_PROJECT_DIR / "target" / "manifest.json"
    if not manifest.exists():
        # Without it every dbt asset fails to load and the server would only serve that error.
        print(f"mlcost code server: {manifest} is missing; build it with `dbt parse "
              "--project-dir dbt_models --profiles-dir dbt_models` (the image does so).",
              file=sys.stderr)
        return MISSING_INPUT
    # Dagster's code server stops cleanly on SIGINT and handles SIGTERM (docker stop, Kubernetes)
    # the same way, with SIGINT's handler: a SIGINT ignored by whatever started us (nohup, a
    # background job of a script) would make both signals no-ops, so take Python's own handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.argv = ["dagster", "code-server", "start", "-m", "dagster_project.definitions",
                "--location-name", LOCATION_NAME, "-h", host, "-p", str(port)]
    try:
        runpy.run_module("dagster", run_name="__main__", alter_sys=True)
    except SystemExit as exc:  # click ends with SystemExit(0) after a clean shutdown
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
