"""The BigQuery emulator shared by the integration tests (`make test-bigquery`): one
crucible server per test module, on a free port, stopped at the end of the module."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dagster_project import settings

CRUCIBLE = os.environ.get("MLCOST_BQ_EMULATOR")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def emulator():
    exe = Path(CRUCIBLE or "")
    assert exe.exists(), f"MLCOST_BQ_EMULATOR={CRUCIBLE}: no such executable"
    port = _free_port()
    proc = subprocess.Popen([str(exe), "serve", "--dialect", "bigquery", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/_crucible/health", timeout=1) as r:
                    if json.load(r)["status"] == "ok":
                        break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                time.sleep(0.25)
        else:
            pytest.fail("the emulator did not answer on /_crucible/health within 30 s")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def dbt_on_emulator(url: str, project: str, target_path: Path,
                    args: list[str]) -> subprocess.CompletedProcess:
    """dbt (the `emulator` target) against the emulator at `url`, in BigQuery project
    `project`."""
    env = {**os.environ, "MLCOST_BQ_API_ENDPOINT": url, "MLCOST_BQ_PROJECT": project,
           "DBT_TARGET": "emulator"}
    return subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args, "--target", "emulator",
         "--project-dir", str(settings.DBT_PROJECT_DIR),
         "--profiles-dir", str(settings.DBT_PROJECT_DIR), "--target-path", str(target_path)],
        env=env, capture_output=True, text=True, check=False, timeout=1200)
