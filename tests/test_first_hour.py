"""The first hour with mlcost (issue 18): `mlcost sql` / `mlcost tables`, `--version` and help,
the project config file, the no-op run and the run summary. One small generated warehouse,
built once through the CLI, serves the module."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project import settings
from dagster_project.exit_codes import USAGE, ExitError
from dagster_project.lib import config, run_state
from dagster_project.lib.warehouse import connection

MLCOST = str(Path(sys.executable).parent / "mlcost")
TABLES = ("focus.focus_cost_and_usage", "marts.fct_costs_monthly", "meta.load_ledger",
          "meta.deliveries", "forecast.forecast_values")


def _env(root: Path, **extra) -> dict:
    env = {**os.environ, "MLCOST_REPORTS": str(root / "reports"),
           "MLCOST_EXPORTS": str(root / "exports"), "DAGSTER_HOME": str(root / "dagster_home"),
           **extra}
    for key in ("MLCOST_LANDING", "MLCOST_WAREHOUSE"):
        env.pop(key, None)
    return env


def mlcost(root: Path, *args: str, cwd: Path | None = None, **env) -> subprocess.CompletedProcess:
    return subprocess.run([MLCOST, *args], env=_env(root, **env), cwd=cwd or root,
                          capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("first_hour")
    gen = mlcost(root, "generate", "--out", str(root / "demo"), "--months", "3", "--scale", "0.2",
                 "--end-month", "2026-09")
    assert gen.returncode == 0, gen.stderr
    run = mlcost(root, "run", "--landing", str(root / "demo" / "landing"), "--warehouse",
                 str(root / "wh.duckdb"))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (root / "first_run.out").write_text(run.stdout)
    return root


def _counts(wh: Path) -> dict[str, int]:
    with connection(wh, read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0]  # noqa: S608
                for t in TABLES}


def _dagster_runs(root: Path) -> int:
    with sqlite3.connect(root / "dagster_home" / "history" / "runs.db") as db:
        return db.execute("select count(*) from runs").fetchone()[0]


# --- run summary ------------------------------------------------------------------------------


def test_the_run_summary_counts_what_the_ledger_recorded(built):
    out = (built / "first_run.out").read_text()
    m = re.search(r"Files: (\d+) found, (\d+) new, (\d+) re-delivered, (\d+) duplicate copies, "
                  r"(\d+) skipped, (\d+) quarantined, (\d+) unchanged, (\d+) left", out)
    assert m, out
    found, new, redelivered, dup, skipped, quarantined, unchanged, waiting = map(int, m.groups())
    files = run_state.snapshot(built / "demo" / "landing")
    with connection(built / "wh.duckdb", read_only=True) as con:
        status = dict(con.execute(
            "select status, count(*) from meta.load_ledger group by 1").fetchall())
        replaced = con.execute(
            """select count(*) from meta.load_ledger l where status = 'loaded' and exists
               (select 1 from meta.deliveries d where d.superseded_by = l.file_id)""").fetchall()
        rows = dict(con.execute(
            """select provider, sum(row_count) from meta.deliveries group by 1
               union all
               select provider, sum(row_count) from meta.load_ledger l where status = 'loaded'
                 and not exists (select 1 from meta.deliveries d where d.file_id = l.file_id)
               group by 1""").fetchall())
        months = [r[0] for r in con.execute(
            "select distinct strftime(billing_month, '%Y-%m') from marts.fct_costs_monthly "
            "order by 1").fetchall()]
        providers = [r[0] for r in con.execute(
            "select distinct provider from marts.fct_costs_monthly").fetchall()]
    assert found == len(files) > 0
    assert new + redelivered == status["loaded"] and redelivered == replaced[0][0]
    assert (dup, skipped, quarantined) == (status.get("duplicate", 0), status.get("skipped", 0),
                                           status.get("quarantined", 0))
    assert (unchanged, waiting) == (0, 0)  # a first run reads every file
    assert found == sum(status.values())
    loaded = re.search(r"Rows loaded: (.*)", out).group(1)
    assert loaded == ", ".join(f"{p} {n:,}" for p, n in sorted(rows.items()))
    # A first build rebuilds every period; the totals table shows each provider and month.
    assert f"Billing periods rebuilt: {months[0]} to {months[-1]}" in out
    assert providers and set(providers) <= set(rows)
    for provider in providers:
        for month in months:
            assert re.search(rf"{provider}\s.*{month}", out), (provider, month, out)
    assert re.search(r"finished in \d+\.\ds", out) and "Next: mlcost tables" in out


def test_summary_counts_new_redelivered_unchanged_and_waiting(built, tmp_path):
    """The counting itself, on ledger rows written after a given instant."""
    from datetime import UTC, datetime

    from dagster_project.lib.run_summary import collect, render

    wh = tmp_path / "wh.duckdb"
    shutil.copy(built / "wh.duckdb", wh)
    files = list(run_state.snapshot(built / "demo" / "landing"))
    with connection(wh) as con:
        since = datetime.now(UTC).replace(tzinfo=None)
        old = con.execute("select * from meta.load_ledger where status = 'loaded' "
                          "order by path limit 2").fetchall()
        cols = [d[0] for d in con.description]
        # One file re-delivered (a deliveries row superseded by it), one new, one quarantined.
        for row, status in zip(old, ("loaded", "loaded"), strict=True):
            rec = dict(zip(cols, row, strict=True)) | {"loaded_at": since, "status": status}
            con.execute(f"insert into meta.load_ledger ({', '.join(rec)}) values "  # noqa: S608
                        f"({', '.join('?' * len(rec))})", list(rec.values()))
        con.execute("update meta.deliveries set superseded_by = ? where file_id = "
                    "(select min(file_id) from meta.deliveries)", [old[0][0]])
        con.execute("insert into meta.load_ledger (file_id, path, status, loaded_at, error) "
                    "values ('x', ?, 'quarantined', ?, 'no billing columns')",
                    [str(tmp_path / "bad.csv"), since])
    s = collect(wh, since, [*files, str(tmp_path / "young.csv")], ("2026-09", "2026-09"), [],
                [], 1.0)
    assert s.found == len(files) + 1
    assert s.new + s.redelivered == 2 and s.redelivered >= 1
    assert [p for p, _ in s.quarantined] == [str(tmp_path / "bad.csv")]
    assert s.waiting == 1  # never seen by any run: left for the next one
    assert s.unchanged == len(files) - 2
    assert {m for _, m, *_ in s.totals} == {"2026-09"}
    text = io.StringIO()
    render(s, wh, out=text)
    assert "no billing columns" in text.getvalue() and "bad.csv" in text.getvalue()


# --- the no-op run ------------------------------------------------------------------------------


def test_a_run_with_nothing_new_stops_before_dagster(built):
    """A bare `mlcost run` (landing and warehouse from mlcost.toml) over an unchanged landing
    folder says so, rebuilds nothing, loses nothing, and never imports Dagster or dbt."""
    wh = built / "wh.duckdb"
    state = json.loads(run_state.state_path(wh).read_text())
    before = (_counts(wh), _dagster_runs(built), run_state.state_path(wh).read_bytes(),
              wh.stat().st_mtime_ns)
    project = built / "project"
    (project / "sub").mkdir(parents=True)
    config.write_demo_config(project, built / "demo" / "landing", wh)
    env = _env(built)
    env.pop("MLCOST_CONFIG")  # found from the working directory upwards
    code = ("import sys; from dagster_project.cli import main; rc = main(['run']); "
            "print('IMPORTED', 'dagster' in sys.modules, 'dbt' in sys.modules); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=project / "sub",
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert f"nothing new since {state['run_id']} (finished {state['finished']})" in proc.stdout
    assert "IMPORTED False False" in proc.stdout  # the fast path was taken
    after = (_counts(wh), _dagster_runs(built), run_state.state_path(wh).read_bytes(),
             wh.stat().st_mtime_ns)
    assert after == before  # nothing rebuilt, nothing lost, no Dagster run


def test_the_no_op_is_refused_whenever_something_may_have_changed(built, monkeypatch):
    wh = built / "wh.duckdb"
    landing = str((built / "demo" / "landing").resolve())
    files = run_state.snapshot(Path(landing))
    assert run_state.nothing_new(wh, landing, files) is not None  # the baseline: a no-op
    first = next(iter(files))
    touched = {**files, first: [files[first][0], files[first][1] + 1]}
    assert run_state.nothing_new(wh, landing, touched) is None  # a file re-written
    assert run_state.nothing_new(wh, landing, {**files, "/x/new.csv": [1, 1]}) is None
    assert run_state.nothing_new(wh, landing + "2", files) is None  # another landing folder
    # A file the ledger does not know (e.g. left for later by the settle time).
    assert not run_state._ledger_agrees(wh, {**files, "/x/new.csv": [1, 1]})
    pending = wh.with_name(wh.name + ".mlcost-pending.json")
    pending.write_text('{"run_id": "killed", "window": null}')
    try:
        assert run_state.nothing_new(wh, landing, files) is None  # a killed run to finish
    finally:
        pending.unlink()
    from dagster_project.lib.run_lock import warehouse_lock

    with warehouse_lock(wh, "other-run", timeout=0, say=lambda _: None):
        assert run_state.nothing_new(wh, landing, files) is None  # a run holds the warehouse
    with monkeypatch.context() as m:
        m.setattr(run_state, "dbt_fingerprint", lambda: [0, 0])  # the dbt project changed
        assert run_state.nothing_new(wh, landing, files) is None
    with monkeypatch.context() as m:
        m.setattr(run_state, "_month", lambda ts=None: "2999-01")  # a month closed since
        assert run_state.nothing_new(wh, landing, files) is None
    assert run_state.nothing_new(wh, landing, files) is not None


@pytest.mark.parametrize("kwargs", [dict(periods=("2026-09", "2026-09")),
                                    dict(full_refresh=True)])
def test_period_flags_and_full_refresh_always_run(built, monkeypatch, kwargs):
    from dagster_project.lib import pipeline

    for key, value in _env(built).items():
        if key.startswith(("MLCOST_", "DAGSTER_")):
            monkeypatch.setenv(key, value)

    class Started(Exception):
        pass

    def started(*args, **kw):
        raise Started

    monkeypatch.setattr(pipeline, "_run_locked", started)
    state = run_state.state_path(built / "wh.duckdb")
    saved = state.read_bytes()
    with pytest.raises(Started):
        pipeline.run_pipeline(str(built / "demo" / "landing"), str(built / "wh.duckdb"),
                              **kwargs)
    # A run that starts drops the state: if it fails, the next run cannot be taken for a no-op.
    assert not state.exists()
    state.write_bytes(saved)
    # The same call without them is the no-op (and does not start a run).
    assert pipeline.run_pipeline(str(built / "demo" / "landing"), str(built / "wh.duckdb")) == 0


# --- seeds that did not change ---------------------------------------------------------------


def _manifest() -> dict:
    return json.loads((settings.DBT_PROJECT_DIR / "target" / "manifest.json").read_text())


def test_the_first_run_recorded_its_seeds_and_any_change_means_a_rebuild(built, tmp_path):
    from dagster_project.lib import seed_state

    manifest, target = _manifest(), settings.dbt_target()
    wh = tmp_path / "wh.duckdb"
    shutil.copy(built / "wh.duckdb", wh)
    shutil.copy(seed_state.state_path(built / "wh.duckdb"), seed_state.state_path(wh))
    assert seed_state.seeds_current(wh, manifest, target)  # the first run built and passed them
    # Another dbt target, an edited seed file, a changed test on seeds, a changed macro.
    assert not seed_state.seeds_current(wh, manifest, "other")
    seed = next(uid for uid in manifest["nodes"] if uid.startswith("seed."))
    test = next(uid for uid, n in manifest["nodes"].items() if n["resource_type"] == "test"
                and all(d.startswith("seed.") for d in n["depends_on"]["nodes"]))
    macro = next(uid for uid, m in manifest["macros"].items() if m["package_name"] == "mlcost")
    for edit in (lambda m: m["nodes"][seed]["checksum"].update(checksum="edited"),
                 lambda m: m["nodes"][test]["config"].update(severity="warn"),
                 lambda m: m["macros"][macro].update(macro_sql="{% macro x() %}{% endmacro %}")):
        changed = json.loads(json.dumps(manifest))
        edit(changed)
        assert not seed_state.seeds_current(wh, changed, target)
    # The warehouse no longer holds what was built: a row changed, then a table dropped.
    with connection(wh) as con:
        con.execute("update reference.teams set team = team || '-x' where rowid = 0")
    assert not seed_state.seeds_current(wh, manifest, target)
    shutil.copy(built / "wh.duckdb", wh)
    assert seed_state.seeds_current(wh, manifest, target)
    with connection(wh) as con:
        con.execute("drop table reference.teams")
    assert not seed_state.seeds_current(wh, manifest, target)
    seed_state.state_path(wh).unlink()  # no record: build them
    shutil.copy(built / "wh.duckdb", wh)
    assert not seed_state.seeds_current(wh, manifest, target)


def test_a_run_leaves_unchanged_seeds_out_and_still_builds_and_tests_staging(built, tmp_path):
    import dagster as dg
    from dagster._core.events import DagsterEventType

    from dagster_project.lib import seed_state

    wh = tmp_path / "wh.duckdb"
    shutil.copy(built / "wh.duckdb", wh)
    shutil.copy(seed_state.state_path(built / "wh.duckdb"), seed_state.state_path(wh))
    record = seed_state.state_path(wh).read_bytes()
    run = mlcost(tmp_path, "run", "--landing", str(built / "demo" / "landing"), "--warehouse",
                 str(wh), "--period", "2026-09")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        (build,) = instance.get_runs(dg.RunsFilter(job_name="mlcost_build"))
        assert build.status == dg.DagsterRunStatus.SUCCESS
        materialized = {e.dagster_event.asset_key.path[0] for e in instance.all_logs(
            build.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)}
        checked = {e.dagster_event.event_specific_data.asset_key.path[0]
                   for e in instance.all_logs(
                       build.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)}
    assert "reference" not in materialized and "reference" not in checked
    # The staging views read the raw data: still built and tested, as everything downstream.
    assert {"staging", "focus", "marts"} <= materialized and "staging" in checked
    assert seed_state.state_path(wh).read_bytes() == record  # still current: left as it was
    assert "Reference seeds: unchanged since the run that built and tested them" in run.stdout
    assert "Reference seeds" not in (built / "first_run.out").read_text()  # built the first time


def test_a_young_file_leaves_no_state(tmp_path):
    wh = tmp_path / "wh.duckdb"
    assert not run_state.write_state(wh, "r", "/l", {"/l/a.csv": [1, 2 * 10**18]},
                                     taken_at=2e9, settle=10)
    assert not run_state.state_path(wh).exists()
    assert run_state.write_state(wh, "r", "/l", {"/l/a.csv": [1, 10**18]}, taken_at=2e9,
                                 settle=10)
    assert json.loads(run_state.state_path(wh).read_text())["run_id"] == "r"


# --- mlcost sql / mlcost tables --------------------------------------------------------------


def test_sql_prints_table_csv_and_json(built):
    wh = built / "wh.duckdb"
    query = ("select provider, billing_currency, sum(effective_cost) as cost "
             "from marts.fct_costs_monthly group by all order by 1, 2")
    with connection(wh, read_only=True) as con:
        expected = con.execute(query).fetchall()
    assert expected
    proc = mlcost(built, "sql", query, "--format", "csv", "--warehouse", str(wh))
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == ["provider", "billing_currency", "cost"]
    from decimal import Decimal

    assert [(p, c, Decimal(v)) for p, c, v in rows[1:]] == expected  # exact money
    proc = mlcost(built, "sql", query, "--format", "json", "--warehouse", str(wh))
    data = json.loads(proc.stdout)
    assert [(r["provider"], r["billing_currency"], Decimal(r["cost"])) for r in data] == expected
    proc = mlcost(built, "sql", query, "--warehouse", str(wh))
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["provider", "billing_currency", "cost"]
    assert lines[-1] == f"({len(expected)} rows)" and len(lines) == len(expected) + 3
    # The table shows 1000 rows and says there are more; csv and json stream every row.
    big = "select range as n, range / 7 as x from range(25000)"
    lines = mlcost(built, "sql", big, "--warehouse", str(wh)).stdout.splitlines()
    assert len(lines) == 1003 and lines[-1].startswith("(first 1,000 rows shown; more")
    proc = mlcost(built, "sql", big, "--format", "csv", "--warehouse", str(wh))
    assert len(proc.stdout.splitlines()) == 25001
    proc = mlcost(built, "sql", big + " union all select -1, 'nan'::double", "--format", "json",
                  "--warehouse", str(wh))
    data = json.loads(proc.stdout)
    assert len(data) == 25001 and {"n": -1, "x": None} in data  # NaN is not JSON: null


def test_sql_refuses_writes_and_says_why(built, tmp_path):
    wh = built / "wh.duckdb"
    before = _counts(wh)
    for statement in ("create table marts.x as select 1", "delete from meta.load_ledger",
                      f"copy (select 1) to '{tmp_path / 'out.csv'}'",
                      f"attach '{tmp_path / 'other.duckdb'}' as o", "select 1; select 2",
                      "selec 1", "select * from no_such_table"):
        proc = mlcost(built, "sql", statement, "--warehouse", str(wh))
        assert proc.returncode == USAGE, (statement, proc.stderr)
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "read-only" in mlcost(built, "sql", "drop table meta.deliveries", "--warehouse",
                                 str(wh)).stderr
    assert not list(tmp_path.iterdir())  # neither the copy nor the attach wrote a file
    assert _counts(wh) == before


def test_sql_missing_and_busy_warehouse(built, tmp_path):
    proc = mlcost(built, "sql", "select 1", "--warehouse", str(tmp_path / "none.duckdb"))
    assert proc.returncode == 66 and "none.duckdb" in proc.stderr
    assert not (tmp_path / "none.duckdb").exists()
    wh = tmp_path / "copy.duckdb"
    shutil.copy(built / "wh.duckdb", wh)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); time.sleep(60)", str(wh)], stdout=subprocess.PIPE,
        text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        proc = mlcost(built, "sql", "select 1", "--warehouse", str(wh))
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 75, proc.stderr
    assert "open for writing" in proc.stderr and f"process {holder.pid}" in proc.stderr


def test_tables_lists_what_is_published_with_counts_and_descriptions(built):
    wh = built / "wh.duckdb"
    proc = mlcost(built, "tables", "--warehouse", str(wh))
    assert proc.returncode == 0, proc.stderr
    listed = {}
    for line in proc.stdout.splitlines()[2:]:
        m = re.match(r"(\w+\.\w+)\s+(\d+)\s*(.*)", line)
        if m:
            listed[m.group(1)] = (int(m.group(2)), m.group(3))
    counts = _counts(wh)
    for table in TABLES:
        assert listed[table][0] == counts[table], table
        assert listed[table][1], f"{table} has no description"
    assert listed["focus.focus_cost_and_usage"][1].startswith("The FOCUS 1.2 Cost and Usage")
    assert not any(t.startswith(("raw.", "staging.", "main.")) for t in listed)
    assert all(len(line) < 160 for line in proc.stdout.splitlines())  # one line each


# --- version, help, export --------------------------------------------------------------------


def test_version_help_defaults_and_export_extension(built, tmp_path):
    from importlib.metadata import version

    from dagster_project.cli import build_parser

    proc = mlcost(built, "--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"mlcost {version('mlcost')}"
    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and "run" in a.choices)
    for name, command in sub.choices.items():
        for action in command._actions:
            if not action.option_strings or action.dest == "help" or action.required:
                continue
            assert "default" in (action.help or ""), (name, action.option_strings)
            if action.dest == "warehouse":
                assert "$MLCOST_WAREHOUSE" in action.help and "mlcost.toml" in action.help
            if action.dest == "landing":
                assert "$MLCOST_LANDING" in action.help
    for out in ("costs.xlsx", "costs.json"):
        proc = mlcost(built, "export", "costs", "--out", str(tmp_path / out), "--warehouse",
                      str(built / "wh.duckdb"))
        assert proc.returncode == USAGE and out in proc.stderr, proc.stderr
        assert not (tmp_path / out).exists()
    proc = mlcost(built, "export", "costs", "--out", str(tmp_path / "costs.data"), "--format",
                  "csv", "--warehouse", str(built / "wh.duckdb"))
    assert proc.returncode == 0 and (tmp_path / "costs.data").stat().st_size > 0, proc.stderr


# --- the config file ----------------------------------------------------------------------------


@pytest.fixture
def no_env(monkeypatch):
    for key in ("MLCOST_CONFIG", "MLCOST_LANDING", "MLCOST_WAREHOUSE", "DBT_TARGET",
                "MLCOST_SCENARIOS", "MLCOST_MLFLOW_URI"):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def test_config_is_found_upwards_and_sits_below_flags_and_environment(tmp_path, no_env):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "mlcost.toml").write_text(
        'landing = "exports"\nwarehouse = "wh/w.duckdb"\ntarget = "prod"\n'
        'scenarios = "scen.yml"\nmlflow_uri = "http://127.0.0.1:5000"\n')
    no_env.chdir(tmp_path / "a" / "b")
    assert settings.landing_location() == str((tmp_path / "exports").resolve())
    assert settings.warehouse_path() == (tmp_path / "wh" / "w.duckdb").resolve()
    cfg = config.project_config()
    assert (cfg.target, cfg.scenarios, cfg.mlflow_uri) == (
        "prod", str((tmp_path / "scen.yml").resolve()), "http://127.0.0.1:5000")
    assert (settings.dbt_target(), settings.scenarios_path(), settings.mlflow_uri()) == (
        "prod", (tmp_path / "scen.yml").resolve(), "http://127.0.0.1:5000")
    for key, value in (("DBT_TARGET", "dev"), ("MLCOST_SCENARIOS", str(tmp_path / "s2.yml")),
                       ("MLCOST_MLFLOW_URI", "file:///tmp/mlruns")):
        no_env.setenv(key, value)
    assert (settings.dbt_target(), settings.scenarios_path(), settings.mlflow_uri()) == (
        "dev", tmp_path / "s2.yml", "file:///tmp/mlruns")
    no_env.setenv("MLCOST_WAREHOUSE", str(tmp_path / "env.duckdb"))  # environment > file
    assert settings.warehouse_path() == tmp_path / "env.duckdb"
    from dagster_project.lib.pipeline import apply_paths

    no_env.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    apply_paths(str(tmp_path / "flag"), str(tmp_path / "flag.duckdb"))  # flags > environment
    assert settings.landing_location() == str(tmp_path / "flag")
    assert settings.warehouse_path() == tmp_path / "flag.duckdb"
    no_env.delenv("MLCOST_LANDING")
    no_env.delenv("MLCOST_WAREHOUSE")
    (tmp_path / "mlcost.toml").unlink()  # no file: the defaults
    assert settings.warehouse_path() == settings.PROJECT_ROOT / "data" / "warehouse.duckdb"
    no_env.setenv("MLCOST_CONFIG", "")
    assert config.find_config() is None


def test_config_targets_are_the_dbt_profiles_outputs():
    import yaml

    profiles = yaml.safe_load((settings.DBT_PROJECT_DIR / "profiles.yml").read_text())
    (profile,) = profiles.values()
    assert set(config.TARGETS) == set(profile["outputs"])


@pytest.mark.parametrize("text, needle", [
    ('landing = "x"\nwarehose = "y"\n', "`warehose`: unknown key"),
    ('landing = [1]\n', "`landing`: expected a non-empty string"),
    ('target = "qa"\n', "`target`: 'qa' is not a dbt target"),
    ('warehouse = ""\n', "`warehouse`: expected a non-empty string"),
    ('mlflow_uri = "localhost"\n', "`mlflow_uri`"),
    ('landing = "x\n', "not valid TOML"),
])
def test_a_malformed_config_names_the_file_and_key(tmp_path, no_env, text, needle):
    file = tmp_path / "mlcost.toml"
    file.write_text(text)
    no_env.chdir(tmp_path)
    with pytest.raises(ExitError) as err:
        settings.warehouse_path()
    assert err.value.code == USAGE and str(file) in str(err.value) and needle in str(err.value)
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dh")}
    proc = subprocess.run([MLCOST, "tables"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == USAGE and needle in proc.stderr and "Traceback" not in proc.stderr


def test_demo_config_round_trips_and_an_existing_file_is_left(tmp_path, no_env):
    landing, wh = tmp_path / "data" / "demo" / "landing", tmp_path / "data" / "w.duckdb"
    path, written = config.write_demo_config(tmp_path, landing, wh)
    assert written and 'landing = "data/demo/landing"' in path.read_text()
    parsed = config.parse_config(path)
    assert (parsed.landing, parsed.warehouse) == (str(landing), str(wh))
    path.write_text('warehouse = "mine.duckdb"\n')
    assert config.write_demo_config(tmp_path, landing, wh) == (path, False)
    assert path.read_text() == 'warehouse = "mine.duckdb"\n'


def test_progress_shows_only_on_a_terminal(monkeypatch):
    from dagster_project.lib import pipeline

    class Tty(io.StringIO):
        def isatty(self):
            return True

    for stream, shown in ((io.StringIO(), False), (Tty(), True)):
        monkeypatch.setattr(sys, "stdout", stream)
        with pipeline._progress("loading new exports"):
            pass
        assert ("loading new exports" in stream.getvalue()) is shown


def test_demo_writes_the_config_a_bare_run_then_uses(tmp_path, no_env, capsys):
    """`mlcost demo` (generation and run stubbed: the module's warehouse proves the run part)
    writes mlcost.toml in the working directory; a second demo leaves it."""
    import dagster_project.lib.generate as gen
    import dagster_project.lib.summary as summary
    from dagster_project import cli

    calls = []
    no_env.setattr(gen, "generate", lambda root, **kw: calls.append(("generate", root)))
    no_env.setattr(cli, "run_pipeline", lambda landing, wh, **kw: calls.append(
        ("run", landing, wh)) or 0)
    no_env.setattr(summary, "print_summary", lambda *a, **kw: None)
    no_env.setattr(cli.signal, "signal", lambda *a: None)  # keep pytest's own handlers
    for key in ("DAGSTER_HOME", "MLCOST_REPORTS", "MLCOST_EXPORTS"):
        no_env.setenv(key, str(tmp_path / key.lower()))
    no_env.chdir(tmp_path)
    assert cli.main(["demo", "--out", "d", "--warehouse", "w.duckdb"]) == 0
    assert "Wrote " + str(tmp_path / "mlcost.toml") in capsys.readouterr().out
    no_env.delenv("MLCOST_LANDING")
    no_env.delenv("MLCOST_WAREHOUSE")
    assert settings.landing_location() == str(tmp_path / "d" / "landing")
    assert settings.warehouse_path() == tmp_path / "w.duckdb"
    before = (tmp_path / "mlcost.toml").read_text()
    assert cli.main(["demo", "--out", "d2"]) == 0
    assert "exists: left as it is" in capsys.readouterr().out
    assert (tmp_path / "mlcost.toml").read_text() == before
    assert [c[0] for c in calls] == ["generate", "run", "generate", "run"]
