"""A run killed at any point never wedges the next one; SIGTERM stops a run cleanly; a busy
warehouse is reported (who, since when) and given up on after MLCOST_BUSY_TIMEOUT (exit 75);
runs on different warehouses never wait for each other.

Slow by nature (real `mlcost run` processes): one clean baseline, run alongside one warehouse
that is killed at several points and finished by the next run."""

from __future__ import annotations

import csv
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dagster_project.lib.warehouse import connection

from .conftest import REAL

MLCOST = str(Path(sys.executable).parent / "mlcost")
ACTIVE = ("NOT_STARTED", "STARTING", "STARTED", "CANCELING")


def _env(root: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "DAGSTER_HOME": str(root / "dagster_home"),
            "MLCOST_SETTLE_SECONDS": "0", "MLCOST_REPORTS": str(root / "reports"),
            "MLCOST_EXPORTS": str(root / "exports"), **extra}


def _start(root: Path, wh: Path, name: str, **extra: str) -> subprocess.Popen:
    # Own session: the test can kill the whole process group (dbt's subprocess included).
    out = open(root / f"{name}.out", "w")  # noqa: SIM115  (closed with the process)
    return subprocess.Popen([MLCOST, "run", "--landing", str(root / "demo" / "landing"),
                             "--warehouse", str(wh)], env=_env(root, **extra), stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True, text=True)


def _output(root: Path, name: str) -> str:
    return (root / f"{name}.out").read_text()


def _sql(db: Path, query: str, params=()) -> list[tuple]:
    for _ in range(50):  # the running process may hold sqlite's write lock for a moment
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                return con.execute(query, params).fetchall()
            finally:
                con.close()
        except sqlite3.OperationalError:
            time.sleep(0.2)
    raise AssertionError(f"cannot read {db}")


def _steps_started(root: Path, pid: int) -> set[str]:
    """Step keys started by the Dagster runs of the mlcost process `pid` (its owner tag)."""
    history = root / "dagster_home" / "history"
    if not (history / "runs.db").exists():
        return set()
    runs = _sql(history / "runs.db",
                "select run_id from run_tags where key = 'mlcost/pid' and value = ?", (str(pid),))
    steps: set[str] = set()
    for (run_id,) in runs:
        db = history / "runs" / f"{run_id}.db"
        if db.exists():
            steps |= {r[0] for r in _sql(db, "select step_key from event_logs where "
                                             "dagster_event_type = 'STEP_START'")}
    return steps


def _wait_for_step(root: Path, proc: subprocess.Popen, step: str, timeout: float = 400) -> None:
    deadline = time.monotonic() + timeout
    while step not in _steps_started(root, proc.pid):
        assert proc.poll() is None, f"run ended before {step}: {_output(root, 'chain')}"
        assert time.monotonic() < deadline, f"{step} did not start within {timeout}s"
        time.sleep(0.5)


def _group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def _kill9(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _group_gone(proc.pid, 10)


def _totals(wh: Path) -> dict[str, list[tuple]]:
    """Every published figure the kills could have doubled, lost or half-written."""
    with connection(wh, read_only=True) as con:
        return {
            "focus": con.execute(
                """select "ProviderName", "BillingCurrency", strftime("BillingPeriodStart",
                          '%Y-%m'), count(*), sum("BilledCost"), sum("EffectiveCost")
                   from focus.focus_cost_and_usage group by all order by all""").fetchall(),
            "allocations": con.execute(
                "select count(*), sum(effective_cost) from marts.fct_cost_allocations"
            ).fetchall(),
            "monthly": con.execute("select * from marts.fct_costs_monthly order by all"
                                   ).fetchall(),
            "ledger": con.execute("select status, count(*) from meta.load_ledger group by 1 "
                                  "order by 1").fetchall(),
            "deliveries": con.execute("select count(*) from meta.deliveries where is_current"
                                      ).fetchall(),
            "reconciliation": con.execute(
                "select distinct status from focus.rpt_focus_reconciliation").fetchall(),
        }


def _instance_leftovers(root: Path) -> dict[str, list]:
    history = root / "dagster_home" / "history"
    index = history / "runs" / "index.db"
    tables = {r[0] for r in _sql(index, "select name from sqlite_master where type='table'")}
    return {
        "active_runs": [r for r in _sql(history / "runs.db", "select run_id, status from runs")
                        if r[1] in ACTIVE],
        "claimed_slots": _sql(index, "select run_id, step_key from concurrency_slots "
                              "where run_id is not null") if "concurrency_slots" in tables else [],
        "pending_steps": _sql(index, "select run_id, step_key from pending_steps")
        if "pending_steps" in tables else [],
    }


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lifecycle")
    subprocess.run([MLCOST, "generate", "--out", str(root / "demo"), "--months", "4",
                    "--scale", "0.2", "--end-month", "2026-09"], check=True,
                   capture_output=True, env=_env(root))
    _broken_focus_slice(root / "demo" / "landing" / "acme" / "2026-08.csv")
    return root


def _broken_focus_slice(dest: Path) -> None:
    """A small FOCUS file of another provider's account for 2026-08 whose first row has a
    ChargeCategory FOCUS does not allow: the build holds that slice back (exit 65) and
    publishes the rest, in every run of the landing."""
    with open(REAL / "multi" / "focus_1.0_finops_foundation_sample" / "focus_sample.csv",
              newline="") as fh:
        header, *rows = list(csv.reader(fh))
    col = {name: i for i, name in enumerate(header)}
    out = []
    for n, row in enumerate(rows[:3]):
        row = list(row)
        row[col["ProviderName"]] = "ACME Cloud"
        row[col["BillingAccountId"]] = "123456789012"
        row[col["BillingPeriodStart"]] = "2026-08-01 00:00:00"
        row[col["BillingPeriodEnd"]] = "2026-09-01 00:00:00"
        row[col["ChargePeriodStart"]] = f"2026-08-1{n} 00:00:00"
        row[col["ChargePeriodEnd"]] = f"2026-08-1{n} 01:00:00"
        if n == 0:
            row[col["ChargeCategory"]] = "Refund"
        out.append(row)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "w", newline="") as fh:
        csv.writer(fh).writerows([header, *out])


def test_a_held_warehouse_names_its_holder_and_gives_up_with_75(root):
    wh = root / "held.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path;"
         "from dagster_project.lib.run_lock import warehouse_lock\n"
         "with warehouse_lock(Path(sys.argv[1]), 'holder-run-1', timeout=0):\n"
         "    print('ready', flush=True); time.sleep(120)", str(wh)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        proc = subprocess.run([MLCOST, "run", "--landing", str(root / "demo" / "landing"),
                               "--warehouse", str(wh)], env=_env(root, MLCOST_BUSY_TIMEOUT="3"),
                              capture_output=True, text=True, timeout=120, check=False)
        waited = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 75, proc.stderr
    first, *_, last = proc.stderr.strip().splitlines()
    # Says what it waits for at once, then gives up naming the holder: run id, pid, since.
    assert "waiting for run holder-run-1" in first and f"pid {holder.pid}" in first
    assert "holder-run-1" in last and f"pid {holder.pid}" in last and "since 20" in last
    assert "MLCOST_BUSY_TIMEOUT" in last and "Traceback" not in proc.stderr
    assert 3 <= waited < 60
    # It slept while waiting: far less CPU than wall time (a spinning wait burns it all).
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert cpu < waited - 1.5, (cpu, waited)
    assert not (root / "held.duckdb").exists()  # gave up before touching the warehouse


def test_killed_runs_never_wedge_the_next_and_sigterm_stops_cleanly(root):
    # The baseline: a clean run on its own warehouse, under the same DAGSTER_HOME, started
    # alongside the killed runs (runs on different warehouses never wait for each other). The
    # landing holds one broken FOCUS slice: every run holds it back, publishes the rest and
    # exits 65.
    base_wh = root / "base" / "wh.duckdb"
    base_wh.parent.mkdir()
    baseline = _start(root, base_wh, "baseline")

    wh = root / "chain" / "wh.duckdb"
    for step in ("ingest_landed_exports", "dbt_billing_history", "forecast__forecast_snapshots"):
        proc = _start(root, wh, "chain")
        _wait_for_step(root, proc, step)
        time.sleep(1.5)  # inside the step: mid-transaction, mid-dbt, mid-forecast
        _kill9(proc)

    # SIGTERM (what `timeout`, systemd and schedulers send) during dbt: a clean stop in seconds.
    # If the last killed run had in fact finished, this one would have nothing new and stop
    # before dbt (docs/operations.md, "A run with nothing new"): forget that run's state.
    (wh.parent / "wh.duckdb.mlcost-state.json").unlink(missing_ok=True)
    proc = _start(root, wh, "chain")
    _wait_for_step(root, proc, "dbt_reference_and_staging")
    time.sleep(2)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    stopped_in = time.monotonic() - sent
    assert code == 130, _output(root, "chain")  # exit_codes.INTERRUPTED
    assert stopped_in < 15, stopped_in
    said = _output(root, "chain")
    assert "stopped" in said and "Traceback" not in said and "Stack Trace" not in said, said
    assert _group_gone(proc.pid, 10), "dbt's subprocess outlived the stopped run"
    statuses = {s for (rid,) in _sql(root / "dagster_home" / "history" / "runs.db",
                                     "select run_id from run_tags where key = 'mlcost/pid' "
                                     "and value = ?", (str(proc.pid),))
                for (s,) in _sql(root / "dagster_home" / "history" / "runs.db",
                                 "select status from runs where run_id = ?", (rid,))}
    assert statuses and not statuses & set(ACTIVE), statuses  # its Dagster runs ended
    assert (wh.parent / "wh.duckdb.mlcost-pending.json").exists()  # the next run finishes it

    final = _start(root, wh, "final")
    assert final.wait(timeout=600) == 65, _output(root, "final")
    assert "did not finish" in _output(root, "final")  # it rebuilt the unfinished periods
    assert baseline.wait(timeout=600) == 65, _output(root, "baseline")
    for name in ("baseline", "final"):
        out = _output(root, name)
        assert "1 billing slice(s) were held back" in out, out
        assert "accepted_values:ChargeCategory" in out and "123456789012 2026-08" in out, out

    assert _totals(wh) == _totals(base_wh)
    assert _totals(wh)["reconciliation"] == [("reconciled",)]
    leftovers = _instance_leftovers(root)
    assert leftovers == {"active_runs": [], "claimed_slots": [], "pending_steps": []}
    assert not (wh.parent / "wh.duckdb.mlcost-pending.json").exists()
    assert (wh.parent / "wh.duckdb.mlcost-lock").read_text() == ""  # released, no holder


def test_a_dead_runs_slots_are_freed_and_the_run_marked_failed(tmp_path, monkeypatch):
    # An instance with op-level pools (an operator's dagster.yaml, or an older mlcost's): the
    # run of a process that died holds a slot and a pending claim; the next run frees both.
    import dagster as dg
    from dagster._core.test_utils import create_run_for_test

    from dagster_project.lib.instance import PID_START_TAG, owner_tags, reap_dead_runs

    (tmp_path / "dagster.yaml").write_text(
        "concurrency:\n  pools:\n    default_limit: 1\n")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        tags = {**owner_tags(tmp_path / "wh.duckdb"), "mlcost/pid": str(dead.pid),
                PID_START_TAG: ""}
        run = create_run_for_test(instance, job_name="ingest", tags=tags,
                                  status=dg.DagsterRunStatus.STARTED)
        alive = create_run_for_test(instance, job_name="ingest",
                                    tags=owner_tags(tmp_path / "wh.duckdb"),
                                    status=dg.DagsterRunStatus.STARTED)
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default("duckdb_warehouse")
        assert storage.claim_concurrency_slot("duckdb_warehouse", run.run_id, "a").is_claimed
        assert not storage.claim_concurrency_slot("duckdb_warehouse", run.run_id, "b").is_claimed
        assert reap_dead_runs(instance) == [run.run_id]
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED
        info = storage.get_concurrency_info("duckdb_warehouse")
        assert info.active_slot_count == 0 and info.pending_step_count == 0
        assert reap_dead_runs(instance) == []  # nothing left to do


def test_an_older_mlcost_dagster_yaml_is_replaced_an_operators_kept(tmp_path, monkeypatch):
    from dagster_project.lib.instance import dagster_yaml, ensure_dagster_home

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "ours"))
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "dagster.yaml").write_text(
        "# Written by mlcost (docs/operations.md). old\nconcurrency:\n  pools:\n"
        "    default_limit: 1\n")
    ensure_dagster_home()
    ours = (tmp_path / "ours" / "dagster.yaml").read_text()
    assert ours == dagster_yaml(tmp_path / "ours")
    assert "granularity: run" in ours
    assert str(tmp_path / "ours" / "history" / "runs") in ours
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "theirs"))
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    ensure_dagster_home()
    assert (tmp_path / "theirs" / "dagster.yaml").read_text() == "telemetry:\n  enabled: true\n"


def test_an_interrupted_step_prints_no_stack_trace_other_errors_still_do(capfd):
    # The console logger every job gets (definitions.py): Ctrl-C/SIGTERM inside a step ends the
    # run failed without a screen of stack trace; a real failure still shows its error.
    import dagster as dg

    from dagster_project.lib.console_logger import console_logger

    @dg.op
    def interrupted_op():
        os.kill(os.getpid(), signal.SIGINT)  # Dagster turns it into an interruption
        time.sleep(5)

    @dg.op
    def broken_op():
        raise ValueError("a real failure")

    for op, shown in ((interrupted_op, False), (broken_op, True)):
        job = dg.GraphDefinition(name=f"g_{op.name}", node_defs=[op]).to_job(
            logger_defs={"console": console_logger})
        result = job.execute_in_process(raise_on_error=False, run_config={
            "loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        assert not result.success
        err = capfd.readouterr().err
        assert ("Stack Trace" in err) is shown, err
        assert ("a real failure" in err) is shown
