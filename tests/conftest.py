"""Shared fixtures: build warehouses from real samples or generated data and run dbt on them."""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from dagster_project import settings

# Tests write their landing files just before loading them: no settle time (see docs/bad-input.md).
os.environ.setdefault("MLCOST_SETTLE_SECONDS", "0")
# No project config file (mlcost.toml, e.g. the one `make demo` writes) steers the tests, and
# `mlcost demo` in a test writes none (tests/test_first_hour.py tests the file itself).
os.environ.setdefault("MLCOST_CONFIG", "")

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "real"


@dataclass
class DbtResult:
    success: bool
    output: str


_PARSE_STATE: Path | None = None


def _parse_state_dir() -> Path:
    """This process's folder of dbt partial-parse states and warehouse links (one xdist worker
    runs its dbt commands one at a time)."""
    global _PARSE_STATE
    if _PARSE_STATE is None:
        _PARSE_STATE = Path(tempfile.mkdtemp(prefix="mlcost-test-dbt-"))
        atexit.register(shutil.rmtree, _PARSE_STATE, ignore_errors=True)
    return _PARSE_STATE


def run_dbt(warehouse: Path, target_path: Path, args: list[str],
            reference_set: str = "default") -> DbtResult:
    """Run dbt against `warehouse` in a subprocess, as Dagster does, with the given reference
    set of seeds (`demo` for generated demo data, docs/attribution.md).

    In process, dbt-duckdb keeps its connection open after the command, and DuckDB refuses a
    second connection with other settings from the same process.

    dbt's partial-parse state hashes the profile, warehouse path included, so every new
    warehouse (each test's own tmp path) cost a full parse (≈ 5 s). As `mlcost run` does
    (lib/dbt_manifest.canonical_warehouse), dbt is pointed at one path per file name, here a
    symlink to the real file (same name, so the same DuckDB catalog name in the SQL), and that
    name's parse state is carried from one command to the next (dbt_models/ does not change
    during a session, and dbt still re-checks every file's hash and reparses what changed).
    """
    state = _parse_state_dir()
    link = state / warehouse.name
    link.unlink(missing_ok=True)
    link.symlink_to(warehouse.resolve())
    # One state per file name, reference set and --vars: a change of either makes dbt parse
    # again, and tests alternate them (a windowed build, then a full one).
    variant = hashlib.sha256(repr((reference_set, args[args.index("--vars") + 1]
                                   if "--vars" in args else None)).encode()).hexdigest()[:12]
    saved = state / f"{warehouse.name}.{variant}.msgpack"
    local = target_path / "partial_parse.msgpack"
    if saved.exists() and not local.exists():
        target_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(saved, local)
    env = {**os.environ, "MLCOST_WAREHOUSE": str(link),
           "MLCOST_REFERENCE_SET": reference_set}
    try:
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir",
             str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR),
             "--target-path", str(target_path),
             # Only tests whose every parent is selected: a FOCUS-only build must not run mart
             # tests.
             *(["--indirect-selection", "cautious"] if "--select" in args else [])],
            env=env, capture_output=True, text=True, check=False,
        )
    finally:
        link.unlink(missing_ok=True)
        # DuckDB keeps its WAL beside the path it opened: a command that did not checkpoint
        # leaves it here, and it belongs beside the real file (the next warehouse of this name
        # must not replay it).
        wal = link.with_name(link.name + ".wal")
        if wal.exists():
            os.replace(wal, warehouse.resolve().with_name(warehouse.name + ".wal"))
    if local.exists():
        shutil.copyfile(local, saved)
    return DbtResult(proc.returncode == 0, proc.stdout + proc.stderr)


def build_warehouse(tmp: Path, landing_paths: list[Path], name: str = "wh.duckdb") -> Path:
    """Ingest the given files/folders, then `dbt build` everything up to the FOCUS layer."""
    from dagster_project.lib.ingest.loader import discover, ingest_paths
    from dagster_project.lib.warehouse import connection

    wh = tmp / name
    files: list[Path] = []
    for p in landing_paths:
        files.extend(discover(p))
    with connection(wh) as con:
        ingest_paths(con, files)
    return wh


def land_mlflow(warehouse: Path, store: Path) -> None:
    """The demo's MLflow runs into raw.mlflow_runs (what the asset raw/mlflow_runs does)."""
    from dagster_project.lib.mlflow_runs import load_mlflow_runs
    from dagster_project.lib.warehouse import connection

    with connection(warehouse) as con:
        res = load_mlflow_runs(con, f"sqlite:///{store}")
    assert res.status == "ok", res.reason


@pytest.fixture(autouse=True)
def _restore_environ():
    """Put os.environ back after each test: commands run in-process (cli.main, apply_paths)
    set MLCOST_* variables for their own run, which must not leak into the next test on the
    same worker (e.g. a landing folder whose scenarios.yml the forecast would then read)."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


# Files whose tests share a session fixture run on one xdist worker, so `make test -n 2` builds
# each demo warehouse once (session fixtures are per worker: a file of the group on the other
# worker would build its own); every other file is its own group (its module fixtures built
# once).
SHARED_FIXTURE_GROUPS = {
    "tests.test_pinned_demo": "pinned_demo", "tests.test_analyst_guide": "pinned_demo",
    "tests.test_forecast_cli": "pinned_demo", "tests.test_forecast_engine": "pinned_demo",
    "tests.test_review_sections": "pinned_demo", "tests.test_evidence_pages": "pinned_demo",
    # every user of the `demo` fixture
    "tests.test_attribution": "small_demo", "tests.test_waste": "small_demo",
    "tests.test_orchestration": "small_demo", "tests.test_waste_truth": "small_demo",
    "tests.test_focus_allocated": "small_demo", "tests.test_recommendations": "small_demo",
    "tests.test_review_marts": "small_demo", "tests.test_unit_costs": "small_demo",
    "tests.test_mlflow_runs": "small_demo", "tests.test_report": "small_demo",
    "tests.test_whatif": "small_demo",
}


# The longest groups first, longest first (measured, `--durations`): each worker takes the next
# group when it is nearly done, so the last to start are short and both workers end together.
SLOW_FIRST = ("small_demo", "pinned_demo", "tests.test_run_lifecycle", "tests.test_cli",
              "tests.test_held_back_slices", "tests.test_first_hour",
              "tests.test_focus_real_samples", "tests.test_attribution_open_world",
              "tests.test_focus_rules", "tests.test_anomalies_demo", "tests.test_deploy",
              "tests.test_dbt_worker", "tests.test_generate",
              "tests.test_focus_rules_gcp_azure_oci", "tests.test_security")


def pytest_configure(config):
    # xdist (≥ 3.6) reorders groups by their number of tests by default, which would undo
    # SLOW_FIRST: keep the collection order.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    def group(item) -> str:
        module = item.module.__name__
        return SHARED_FIXTURE_GROUPS.get(module, module)

    items.sort(key=lambda item: SLOW_FIRST.index(group(item)) if group(item) in SLOW_FIRST
               else len(SLOW_FIRST))
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group(item)))


@pytest.fixture(scope="session")
def real_landing(tmp_path_factory) -> Path:
    """A writable copy of the real samples."""
    dest = tmp_path_factory.mktemp("real") / "landing"
    shutil.copytree(REAL, dest)
    return dest


# A small generated demo with a fixed window, so planted periods (and the assertions on them)
# do not depend on today. Built once per session for the attribution and waste tests.
DEMO = dict(months=4, seed=42, scale=0.25, end_month=__import__("datetime").date(2026, 9, 1))
DEMO_DBT_SELECT = ["+fct_costs_monthly", "+rpt_attribution_coverage", "+fct_idle_waste",
                   "+focus_allocated", "+fct_training_run_costs", "+rpt_unmatched_training_cost",
                   "+fct_unit_costs", "+fct_instance_prices", "+fct_recommendations",
                   "+rpt_recommendation_action_problems"]


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Path:
    """Generate, ingest and `dbt build` the marts of the small demo; returns its folder
    (`demo/landing`, `demo/ground_truth`, `wh.duckdb`)."""
    from dagster_project.lib.generate import generate

    base = tmp_path_factory.mktemp("mlcost-attribution-demo")
    generate(base / "demo", **DEMO)
    warehouse = build_warehouse(base, [base / "demo" / "landing"])
    land_mlflow(warehouse, base / "demo" / "mlflow" / "mlflow.db")
    res = run_dbt(warehouse, base / "target", ["build", "--select", *DEMO_DBT_SELECT],
                  reference_set="demo")
    assert res.success, res.output[-4000:]
    return base


@pytest.fixture(scope="module")
def demo_con(demo: Path):
    """A read-only connection to the small demo's warehouse, one per test module."""
    import duckdb

    c = duckdb.connect(str(demo / "wh.duckdb"), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="session")
def pinned_demo(tmp_path_factory) -> Path:
    """`mlcost demo --end-month 2026-09` (the default 36 months at full scale) in its own folder:
    `demo/landing`, `wh.duckdb`, `reports/`, `exports/`, `dagster_home/`. The pinned demo the
    issues' examples and the stored figures (tests/fixtures/pinned_demo/) refer to."""
    from .pinned_demo import END_MONTH

    tmp = tmp_path_factory.mktemp("pinned_demo")
    env = {**os.environ, "MLCOST_REPORTS": str(tmp / "reports"),
           "MLCOST_EXPORTS": str(tmp / "exports"), "DAGSTER_HOME": str(tmp / "dagster_home")}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "mlcost"), "demo", "--end-month", END_MONTH,
         "--out", str(tmp / "demo"), "--warehouse", str(tmp / "wh.duckdb")],
        env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return tmp
