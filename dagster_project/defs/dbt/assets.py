"""The dbt project as four Dagster multi-assets, split by dbt selector (dbt_models/selectors.yml):

- `dbt_reference_and_staging` — seeds and views between raw and FOCUS, unpartitioned;
- `dbt_billing_history` — FOCUS and the history-sized marts, incremental and partitioned by
  billing period; a run over a partition range passes that window to dbt (`billing_window`);
- `dbt_whole_history_marts` — models that look across periods, rebuilt whole;
- `dbt_recommendations_and_review` — the cost-control recommendations (they read the what-if
  assets' commitment answer) and the quarterly review pack's marts (docs/review-marts.md:
  they read the variance, forecast, anomaly and planning tables), after the Python assets.

All write the embedded DuckDB, so all share the `duckdb_warehouse` pool (limit 1).
"""

import os
import sys
import sysconfig
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version as dist_version
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from packaging.version import Version

from dagster_project import settings
from dagster_project.defs.forecast.locks import FORECAST_SNAPSHOTS
from dagster_project.defs.ingest.partitions import billing_periods, dbt_window_vars
from dagster_project.lib.warm import warm_imports

from .project import mlcost_dbt_project
from .translator import MlcostTranslator

POOL = "duckdb_warehouse"


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False
    """Rebuild incremental models from scratch (after a model or schema change)."""


def _build_args(config: DbtBuildConfig) -> list[str]:
    # A test runs in the invocation that builds its last parent (`buildable`): a relationship
    # from a history model to a seed runs with the history models, not with the seeds.
    # Unit tests check the SQL against fixed inputs, not the data: CI runs them (dbt's advice,
    # tests/test_pinned_demo.py); every run would pay ≈ 7 s of CPU for the same answer.
    args = ["build", "--indirect-selection", "buildable", "--exclude-resource-type", "unit_test"]
    if config.full_refresh:
        args.append("--full-refresh")
    return args


WINDOW_ENV = {"billing_period_start": "MLCOST_BILLING_PERIOD_START",
              "billing_period_end": "MLCOST_BILLING_PERIOD_END"}


@contextmanager
def billing_window(vars_: dict[str, str] | None) -> Iterator[None]:
    """The billing-period window for the dbt invocations started inside (None: no window).

    Passed as environment variables, which the macro `billing_period_bound` reads (only when
    executing) if no dbt var is given: dbt re-parses the whole project when `--vars` differ
    from the last invocation's (4-5 s per run), while a new window this way re-parses nothing.
    The variables are set or removed for exactly the invocation, so a window never leaks into
    the unwindowed invocations (a staging view built with one would hide every other period).
    """
    saved = {name: os.environ.get(name) for name in WINDOW_ENV.values()}
    try:
        for var, name in WINDOW_ENV.items():
            if vars_ and vars_.get(var):
                os.environ[name] = vars_[var]
            else:
                os.environ.pop(name, None)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def target_dir(context: dg.AssetExecutionContext) -> Path:
    """One dbt target folder per dbt asset and warehouse, reused by every run.

    dagster-dbt's default is a new folder per invocation (8 MB each: 25 MB a run, never
    removed). Reusing one also keeps that asset's dbt partial-parse state between runs; dbt
    checks it against the project files itself. The three assets share the warehouse pool
    (limit 1), so two invocations of one asset never write the folder at the same time.
    """
    wh = settings.warehouse_path()
    return wh.with_name(f"{wh.name}.dbt") / context.op_execution_context.op.name


def _run_dbt(dbt: DbtCliResource, context: dg.AssetExecutionContext, config: DbtBuildConfig,
             window: dict[str, str] | None = None):
    if FORECAST_SNAPSHOTS in context.job_def.asset_layer.selected_asset_keys:
        # A job that forecasts later (`mlcost run`'s): import the forecast's libraries while
        # this process waits for dbt, not on the critical path after it (1.5 s of a run).
        warm_imports()
    with billing_window(window):  # dbt.cli starts the process: the environment is read here
        invocation = dbt.cli(_build_args(config), context=context,
                             target_path=target_dir(context))
    yield from invocation.stream()


@dbt_assets(
    manifest=mlcost_dbt_project.manifest_path,
    project=mlcost_dbt_project,
    selector="reference_and_staging",
    name="dbt_reference_and_staging",
    dagster_dbt_translator=MlcostTranslator(),
    pool=POOL,
)
def dbt_reference_and_staging(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                              config: DbtBuildConfig):
    yield from _run_dbt(dbt, context, config)


@dbt_assets(
    manifest=mlcost_dbt_project.manifest_path,
    project=mlcost_dbt_project,
    selector="billing_history",
    name="dbt_billing_history",
    dagster_dbt_translator=MlcostTranslator(),
    partitions_def=billing_periods,
    # A backfill of many months is one dbt invocation over the whole window.
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=POOL,
)
def dbt_billing_history(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                        config: DbtBuildConfig):
    window = context.partition_time_window
    vars_ = dbt_window_vars(window.start, window.end)
    context.log.info("billing periods %s to %s (exclusive)", vars_["billing_period_start"],
                     vars_["billing_period_end"])
    yield from _run_dbt(dbt, context, config, vars_)


@dbt_assets(
    manifest=mlcost_dbt_project.manifest_path,
    project=mlcost_dbt_project,
    selector="whole_history_marts",
    name="dbt_whole_history_marts",
    dagster_dbt_translator=MlcostTranslator(),
    pool=POOL,
)
def dbt_whole_history_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                            config: DbtBuildConfig):
    yield from _run_dbt(dbt, context, config)


@dbt_assets(
    manifest=mlcost_dbt_project.manifest_path,
    project=mlcost_dbt_project,
    selector="recommendations_and_review",
    name="dbt_recommendations_and_review",
    dagster_dbt_translator=MlcostTranslator(),
    pool=POOL,
)
def dbt_recommendations_and_review(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                                   config: DbtBuildConfig):
    # After the Python assets: the recommendations read planning.whatif_commitment (the
    # what-if asset computes it from the whole-history marts), the review marts read the
    # variance, forecast, anomaly and planning tables (their dbt sources name those assets, so
    # Dagster orders it; docs/review-marts.md). No Python asset reads either, so they share one
    # dbt invocation (≈ 5 s of dbt start-up each).
    yield from _run_dbt(dbt, context, config)


ASSETS = [dbt_reference_and_staging, dbt_billing_history, dbt_whole_history_marts,
          dbt_recommendations_and_review]


class MlcostDbtCliResource(DbtCliResource):
    """DbtCliResource without two per-invocation costs that bought mlcost nothing (15 s of a
    daily `mlcost run`, docs/benchmarks.md). dagster-dbt 0.29 runs `dbt --version` in a
    subprocess (7 s) to learn the version of the dbt beside this interpreter, which is the
    installed dbt-core; and it loads the project into an in-process dbt adapter (3 s per
    invocation) that only serves `fetch_column_metadata` / `fetch_row_counts`, which mlcost
    does not use. Both are private hooks: if an upgrade renamed them the overrides would stop
    applying (slower, nothing breaks), so tests/test_orchestration.py checks they still exist."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(dist_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 (dagster-dbt's signature)
        return None


# dbt.log at info (each node's start and result) rather than dbt's default debug, which also
# logs every SQL statement, connection and compile step: 15-20% of a run's dbt time
# (docs/benchmarks.md, "Third round"). The SQL stays in the target folder's compiled/ and run/.
GLOBAL_FLAGS = ["--log-level-file", "info"]


def dbt_resource() -> DbtCliResource:
    # `mlcost-dbt` (lib/dbt_client.py): the run's warm dbt worker when there is one, else the
    # dbt beside this interpreter, so a venv that is not activated still works.
    for name in ("mlcost-dbt", "dbt"):
        for folder in (Path(sysconfig.get_path("scripts")), Path(sys.prefix) / "bin"):
            if (folder / name).exists():
                return MlcostDbtCliResource(project_dir=mlcost_dbt_project,
                                            dbt_executable=str(folder / name),
                                            global_config_flags=GLOBAL_FLAGS)
    return MlcostDbtCliResource(project_dir=mlcost_dbt_project, dbt_executable="dbt",
                                global_config_flags=GLOBAL_FLAGS)
