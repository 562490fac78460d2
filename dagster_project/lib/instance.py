"""The Dagster instance `mlcost` runs in: its dagster.yaml, the owner tags of a CLI run, and
freeing what a run whose process died (kill -9, OOM, power loss) left behind."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from dagster_project import settings

# The header marks the file as mlcost's: an older mlcost's file is replaced, an operator's kept.
DAGSTER_YAML_HEADER = "# Written by mlcost"
DAGSTER_YAML = f"""\
{DAGSTER_YAML_HEADER} (docs/operations.md). Local sqlite storage (Dagster's files; the event
# log through lib/event_log.py, which keeps its connections open and does not fsync every
# event: 10-15 s of a small run, docs/benchmarks.md); no usage
# statistics from an offline tool. The embedded DuckDB has one writer: every asset that writes
# it is in the pool `duckdb_warehouse`, limited to one *run* at a time (granularity: run) when
# the daemon launches runs. `mlcost run` executes in process and takes a lock file beside its
# warehouse instead (so runs on different warehouses never wait for each other), and it never
# holds a pool slot that a killed process could leave behind. Run monitoring marks runs whose
# process died as failed.
telemetry:
  enabled: false
concurrency:
  pools:
    granularity: run
    default_limit: 1
run_monitoring:
  enabled: true
event_log_storage:
  module: dagster_project.lib.event_log
  class: MlcostSqliteEventLogStorage
  config:
    base_dir: {{base_dir}}
"""

PID_TAG, HOST_TAG, WAREHOUSE_TAG = "mlcost/pid", "mlcost/host", "mlcost/warehouse"
PID_START_TAG = "mlcost/pid_start"
_ACTIVE = ("NOT_STARTED", "STARTING", "STARTED", "CANCELING")


def dagster_yaml(home: Path) -> str:
    """mlcost's dagster.yaml for `home` (the event log's folder is Dagster's default one)."""
    return DAGSTER_YAML.format(base_dir=json.dumps(str(home.resolve() / "history" / "runs")))


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME with mlcost's dagster.yaml (an operator's own file is left alone)."""
    os.environ.setdefault("DAGSTER_HOME", str(settings.PROJECT_ROOT / "data" / "dagster_home"))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    yaml = home / "dagster.yaml"
    text = dagster_yaml(home)
    if not yaml.exists() or (yaml.read_text().startswith(DAGSTER_YAML_HEADER)
                             and yaml.read_text() != text):
        yaml.write_text(text)
    return home


def _process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), '' elsewhere: with the pid
    it names one process, even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def owner_tags(warehouse: Path) -> dict[str, str]:
    """Tags naming the process that executes a run (read by `reap_dead_runs`)."""
    pid = os.getpid()
    return {PID_TAG: str(pid), PID_START_TAG: _process_start(pid),
            HOST_TAG: socket.gethostname(), WAREHOUSE_TAG: str(warehouse)}


def owner_alive(tags: dict[str, str]) -> bool:
    """False only when the run's owner is certainly gone: same host, pid dead or reused."""
    if tags.get(HOST_TAG) != socket.gethostname() or not tags.get(PID_TAG, "").isdigit():
        return True  # another machine's run, or not started by mlcost: Dagster monitors those
    pid = int(tags[PID_TAG])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    started = tags.get(PID_START_TAG)
    return not started or _process_start(pid) == started


def reap_dead_runs(instance) -> list[str]:
    """Mark failed every mlcost run whose process is gone and free every pool slot (or pending
    claim) held by a dead or finished run. Returns the run ids that were cleaned up."""
    import dagster as dg

    storage = instance.event_log_storage
    reaped: list[str] = []
    records = instance.get_runs(filters=dg.RunsFilter(
        statuses=[dg.DagsterRunStatus[s] for s in _ACTIVE],
        tags={HOST_TAG: socket.gethostname()}))
    for run in records:
        if not owner_alive(run.tags):
            instance.report_run_failed(run, message=(
                f"mlcost: the process that ran this run (pid {run.tags.get(PID_TAG)}) is gone "
                "(killed or crashed); marked failed by the next `mlcost run`."))
            reaped.append(run.run_id)
    if storage.supports_global_concurrency_limits:
        for run_id in storage.get_concurrency_run_ids():
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished or run.run_id in reaped:
                storage.free_concurrency_slots_for_run(run_id)
                if run_id not in reaped:
                    reaped.append(run_id)
    return reaped
