"""The production layout (issue #19, docs/bigquery.md "Deploying to production").

- The container's start command, `python deploy/code_server.py`, runs here in the venv: it
  serves the code location over gRPC, the schedules and sensors the dev instance sees come
  through it, and SIGTERM (`docker stop`) stops it cleanly.
- deploy/dagster.yaml is loaded against a real PostgreSQL server started for this module
  (Debian's package: `.ci/run` installs it when missing), a run is stored there and read back
  with SQL, and the schedule state set through the code server lands in Postgres too.

Where PostgreSQL's binaries are missing the Postgres tests skip with the reason, except in CI
(CI=true), where they fail: there the package is installed first, so a missing server is a bug.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
PG_USER, PG_PASSWORD, PG_DB = "mlcost", "s3cret-for-tests", "dagster"


def _load_start_command():
    spec = importlib.util.spec_from_file_location("deploy_code_server", DEPLOY / "code_server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs Debian's postgresql package in .ci/run: this must "
                    "not happen there)")
    pytest.skip(reason)


def _pg_bindir() -> Path | None:
    """PostgreSQL's server binaries: on PATH, else Debian's /usr/lib/postgresql/<major>/bin."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                      else 0)
    return versions[-1].parent if versions else None


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server on 127.0.0.1 (password auth), with an empty database."""
    bindir = _pg_bindir()
    if bindir is None or not (bindir / "initdb").exists():
        _unavailable("PostgreSQL's server (initdb, pg_ctl) is not installed: "
                     "apt-get install postgresql")
    # initdb and postgres refuse to run as root: as root, run them as Debian's `postgres` user.
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="mlcost-pg-"))  # not pytest's tmp: that is mode 0700
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            _unavailable("running as root without `runuser` to start PostgreSQL as another user")
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no `postgres` user to run PostgreSQL "
                         "as (Debian's postgresql package creates it)")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    pwfile = base / "pw"
    pwfile.write_text(PG_PASSWORD + "\n")
    if as_user:
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    data, port = base / "data", _free_port()

    def run(*args: str) -> None:
        proc = subprocess.run([*as_user, *args], capture_output=True, text=True, check=False)
        if proc.returncode:
            log = base / "server.log"
            raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}"
                                 f"{proc.stderr}{log.read_text() if log.exists() else ''}")

    run(str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, f"--pwfile={pwfile}",
        "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w", "-t", "60",
        "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, password=PG_PASSWORD,
                               dbname="postgres")
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f"create database {PG_DB}")  # a fixed identifier, no data
        con.close()
        yield {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": str(port),
               "DAGSTER_PG_USERNAME": PG_USER, "DAGSTER_PG_PASSWORD": PG_PASSWORD,
               "DAGSTER_PG_DB": PG_DB}
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                        "stop"], capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def prod_home(postgres, tmp_path_factory) -> dict[str, str]:
    """Environment of a production process: DAGSTER_HOME holding deploy/dagster.yaml, and the
    DAGSTER_PG_* variables naming the test server."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    return {**postgres, "DAGSTER_HOME": str(home)}


def _sql(env: dict[str, str], query: str, params: tuple = ()) -> list[tuple]:
    import psycopg2

    con = psycopg2.connect(host=env["DAGSTER_PG_HOST"], port=int(env["DAGSTER_PG_PORT"]),
                           user=env["DAGSTER_PG_USERNAME"], password=env["DAGSTER_PG_PASSWORD"],
                           dbname=env["DAGSTER_PG_DB"])
    try:
        with con.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall()
    finally:
        con.close()


def test_prod_instance_stores_runs_in_postgres(prod_home, monkeypatch):
    import dagster as dg
    from dagster_postgres import (
        PostgresEventLogStorage,
        PostgresRunStorage,
        PostgresScheduleStorage,
    )

    for name, value in prod_home.items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert type(instance.run_launcher).__name__ == "DefaultRunLauncher"
        pools = instance.get_concurrency_config().pool_config
        assert (pools.pool_granularity.value, pools.default_pool_limit) == ("run", 1)

        @dg.asset
        def deploy_probe() -> int:
            return 1

        result = dg.materialize([deploy_probe], instance=instance)
        assert result.success
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
    # Read back with SQL: the run and its events are in Postgres, not in a sqlite file.
    assert _sql(prod_home, "select status from runs where run_id = %s",
                (result.run_id,)) == [("SUCCESS",)]
    events = _sql(prod_home, "select count(*) from event_logs where run_id = %s "
                  "and dagster_event_type = 'ASSET_MATERIALIZATION'", (result.run_id,))
    assert events == [(1,)]
    assert not list(Path(prod_home["DAGSTER_HOME"]).rglob("*.db"))


def test_prod_instance_keeps_the_dev_instance_settings():
    """Everything the dev instance sets (lib/instance.py) is set the same way in production,
    except the storage: Postgres there, SQLite files (lib/event_log.py for events) in dev."""
    from dagster_project.lib.instance import dagster_yaml

    dev = yaml.safe_load(dagster_yaml(Path("/home")))
    dev.pop("event_log_storage")
    prod = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    assert {key: prod.get(key) for key in dev} == dev
    # No daemon switched off: schedules and sensors run as in dev.
    assert not {"scheduler", "sensors", "schedules"} & prod.keys()


def test_start_command_needs_the_dbt_manifest(monkeypatch, tmp_path, capsys):
    from dagster_project import settings

    module = _load_start_command()
    monkeypatch.setattr(settings, "DBT_PROJECT_DIR", tmp_path / "dbt_models")
    monkeypatch.setenv("MLCOST_GRPC_PORT", "4000")
    assert module.main() == 66
    assert f"{tmp_path / 'dbt_models' / 'target' / 'manifest.json'} is missing" in (
        capsys.readouterr().err)


def test_start_command_rejects_a_bad_port():
    module = _load_start_command()
    assert module.address({}) == ("0.0.0.0", 4000)
    assert module.address({"MLCOST_GRPC_HOST": "127.0.0.1", "MLCOST_GRPC_PORT": "4266"}) == (
        "127.0.0.1", 4266)
    for bad in ("http", "0", "70000", "-1"):
        proc = subprocess.run([sys.executable, str(DEPLOY / "code_server.py")],
                              env={**os.environ, "MLCOST_GRPC_PORT": bad},
                              capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 64, proc.stderr
        assert f"MLCOST_GRPC_PORT={bad!r} is not a TCP port" in proc.stderr
        assert "Traceback" not in proc.stderr


def _dagster(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([str(BIN / "dagster"), *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _default_signals() -> None:
    # SIGTERM as a container's PID 1 gets it; SIGINT ignored, as a background job of a script
    # inherits it (and as this test may have been started): Dagster handles SIGTERM with
    # SIGINT's handler, so the start command must restore that one itself.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _serving(port: int) -> bool:
    # What `dagster api grpc-health-check` asks, without starting a CLI every half second.
    from dagster._grpc.client import DagsterGrpcClient

    try:
        return DagsterGrpcClient(port=port, host="127.0.0.1").health_check_query() == "SERVING"
    except Exception:  # not listening yet
        return False


def _documented_instigators() -> dict[str, set[str]]:
    """The schedules and sensors docs/bigquery.md lists for production: `| `name` | kind |`."""
    doc = (ROOT / "docs" / "bigquery.md").read_text()
    section = doc.split("## Deploying to production", 1)[1].split("\n## ", 1)[0]
    found: dict[str, set[str]] = {"schedule": set(), "sensor": set()}
    for name, kind in re.findall(r"^\| `(\w+)` \| (schedule|sensor) \|", section, re.M):
        found[kind].add(name)
    return found


def _dagster_async(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "dagster"), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _output(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    return out


def test_start_command_refuses_a_wrong_bigquery_configuration(prod_home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLCOST_BQ_")}
    res = subprocess.run([sys.executable, str(DEPLOY / "code_server.py")], cwd=ROOT,
                         env={**env, **prod_home, "DBT_TARGET": "prod"}, capture_output=True,
                         text=True, timeout=60, check=False)
    assert res.returncode == 64, res.stderr
    assert "MLCOST_BQ_PROJECT is not set" in res.stderr


def test_start_command_serves_schedules_and_sensors_and_stops_on_sigterm(prod_home):
    port = _free_port()
    # prod: the definitions load without reaching BigQuery (nothing connects at load time);
    # the configuration check wants a project and a credential (a dummy token here).
    env = {**os.environ, **prod_home, "DBT_TARGET": "prod", "MLCOST_BQ_PROJECT": "mlcost-deploy",
           "MLCOST_BQ_METHOD": "oauth-secrets", "MLCOST_BQ_TOKEN": "offline",
           "MLCOST_GRPC_HOST": "127.0.0.1",
           "MLCOST_GRPC_PORT": str(port), "MLCOST_CODE_SERVER_HOST": "127.0.0.1",
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    workspace = ("-w", str(DEPLOY / "workspace.yaml"))  # what the webserver and daemon load
    log = Path(prod_home["DAGSTER_HOME"]) / "code_server.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, str(DEPLOY / "code_server.py")], env=env,
                                  cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                  preexec_fn=_default_signals)
    try:
        deadline = time.monotonic() + 120
        while not _serving(port):
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no SERVING after 120 s:\n" + log.read_text()
            time.sleep(0.5)

        # Turning a schedule on through the code server stores its state in Postgres.
        start = _dagster_async(env, "schedule", "start", "mlcost_daily", *workspace)
        sensors = _output(_dagster_async(env, "sensor", "list", *workspace))
        _output(start)
        schedules = _dagster(env, "schedule", "list", *workspace)
        documented = _documented_instigators()
        assert documented["schedule"] and documented["sensor"], "docs/bigquery.md lists none"
        assert set(re.findall(r"^Schedule: (\S+)", schedules, re.M)) == documented["schedule"]
        assert set(re.findall(r"^Sensor: (\S+)", sensors, re.M)) == documented["sensor"]
        assert "Schedule: mlcost_daily [RUNNING]" in schedules
        # (the serialized origin still calls the instigator's name `job_name`)
        rows = _sql(prod_home, "select instigator_type, status from instigators where "
                    "instigator_body::json -> 'origin' ->> 'job_name' = %s",
                    ("mlcost_daily",))
        assert rows == [("SCHEDULE", "RUNNING")]
        children = _children(server.pid)
        assert children, "the code server spawned no process to load the definitions"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            code = "killed after 60 s"
    output = log.read_text()
    assert code == 0, output
    assert "Code proxy server was interrupted" in output
    # The process it spawned to load the definitions is gone too.
    time.sleep(1)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()], output
