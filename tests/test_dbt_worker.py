"""The warm dbt worker of `mlcost run` (lib/dbt_worker.py) and its client, `mlcost-dbt`
(lib/dbt_client.py): what dagster-dbt sees must be what a `dbt` process would have given it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dagster_project import settings

CLIENT = Path(sys.executable).parent / "mlcost-dbt"  # a console script of pyproject.toml


def _client(args: list[str], env: dict[str, str], cwd: Path = settings.DBT_PROJECT_DIR):
    return subprocess.run([str(CLIENT), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is gone as far as we care.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


@pytest.mark.parametrize("worker", [None, "/nonexistent/worker.sock", "off"])
def test_without_a_worker_the_client_is_dbt(worker):
    env = {k: v for k, v in os.environ.items() if k != "MLCOST_DBT_WORKER"}
    if worker:
        env["MLCOST_DBT_WORKER"] = worker
    proc = _client(["--version"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Core:" in proc.stdout  # dbt's own --version text


SERVER = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    from dagster_project.lib import dbt_worker
    with dbt_worker.running(Path(sys.argv[1])) as proc:
        print(json.dumps({"socket": os.environ["MLCOST_DBT_WORKER"], "pid": proc.pid}),
              flush=True)
        time.sleep(600)
""")


def test_worker_serves_invocations_and_dies_with_the_run(tmp_path):
    """Two invocations through one worker (dbt's JSON lines and exit codes as from `dbt`),
    then the run's process is killed with SIGKILL: the worker does not outlive it."""
    env = {**os.environ, "MLCOST_WAREHOUSE": str(tmp_path / "warehouse.duckdb")}
    env.pop("MLCOST_DBT_WORKER", None)
    run = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path / "worker")], env=env,
                           stdout=subprocess.PIPE, text=True)
    try:
        hello = json.loads(run.stdout.readline())
        client_env = {**env, "MLCOST_DBT_WORKER": hello["socket"], "DBT_LOG_FORMAT": "json",
                      "DBT_TARGET_PATH": str(tmp_path / "target")}
        ok = _client(["ls", "--resource-type", "seed", "--output", "name"], client_env)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        events = [json.loads(line) for line in ok.stdout.splitlines()]
        assert all("info" in e for e in events)  # every line is one of dbt's JSON events
        printed = {e["info"]["msg"] for e in events}
        assert "service_categories" in printed  # a seed of the project
        # The parse was the worker's, at start: this invocation did not parse again.
        assert not any(e["info"]["name"].startswith("PartialParsing") for e in events)
        bad = _client(["build", "--select", "no_such_model", "--no-such-flag"], client_env)
        assert bad.returncode == 2  # dbt's exit code for a usage error
        again = _client(["ls", "--resource-type", "seed", "--output", "name"], client_env)
        assert again.returncode == 0  # the worker serves on after a failed invocation
        assert (tmp_path / "worker" / "manifest.json").exists()
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    deadline = time.monotonic() + 10
    while _alive(hello["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(hello["pid"])
    assert not os.path.exists(os.path.dirname(hello["socket"]))  # no socket left behind


def test_worker_runs_great_expectations_suites(tmp_path, monkeypatch):
    """A suite validated by the worker (which imported great-expectations while the run
    started) gives exactly the result of the same suite validated in this process; a
    request it cannot serve (no such warehouse) falls back here and fails here, as before."""
    import duckdb

    from dagster_project.lib import quality

    wh = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(wh)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.t as select i as a, case when i % 3 = 0 then null "
                    "else 'x' end as b, cast(i as decimal(18, 6)) as c from range(10) r(i)")
    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps({"name": "t_suite", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"},
         "meta": {"critical": True}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "b"}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "c", "min_value": 0, "max_value": 5}}]}))
    env = {**os.environ, "MLCOST_WAREHOUSE": str(wh)}
    env.pop("MLCOST_DBT_WORKER", None)
    run = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path / "worker")], env=env,
                           stdout=subprocess.PIPE, text=True)
    try:
        hello = json.loads(run.stdout.readline())
        deadline = time.monotonic() + 60
        while not Path(hello["socket"]).exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # the worker binds its socket as it starts
        monkeypatch.setenv("MLCOST_DBT_WORKER", hello["socket"])
        spec = {"warehouse": str(wh), "schema": "raw", "table": "t", "suite": str(suite),
                "max_rows": 1000}
        answer = quality._ask_worker(spec)
        assert answer is not None  # the worker validated it
        here = quality.validate_warehouse_table(wh, "raw", "t", suite, max_rows=1000,
                                                use_worker=False)
        assert quality.SuiteResult(**answer) == here
        assert not here.success and not here.critical_failed  # b has nulls, c exceeds 5
        assert {f["column"] for f in here.failures} == {"b", "c"}
        # Rows limited by a condition with bound values: a 0 <= a < 5 window passes c.
        window = quality.validate_warehouse_table(wh, "raw", "t", suite, where="a >= ? and a < ?",
                                                  params=[0, 5])
        assert (window.rows_total, window.rows_validated) == (5, 5)
        assert {f["column"] for f in window.failures} == {"b"}
        # The worker answers with an error, the caller validates itself and raises.
        assert quality._ask_worker({**spec, "warehouse": str(tmp_path / "none.duckdb")}) is None
        with pytest.raises(FileNotFoundError):
            quality.validate_warehouse_table(tmp_path / "none.duckdb", "raw", "t", suite)
    finally:
        run.kill()
        run.wait()
