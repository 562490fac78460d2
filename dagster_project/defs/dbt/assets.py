"""The dbt project as three Dagster multi-assets, split by dbt selector (dbt_models/selectors.yml):

- `dbt_reference_and_staging` — seeds and views between raw and FOCUS, unpartitioned;
- `dbt_billing_history` — FOCUS and the history-sized marts, incremental and partitioned by
  billing period; a run over a partition range passes that window to dbt as `--vars`;
- `dbt_whole_history_marts` — models that look across periods, rebuilt whole.

All write the embedded DuckDB, so all share the `duckdb_warehouse` pool (limit 1).
"""

import json
import sys
import sysconfig
from functools import cached_property
from importlib.metadata import version as dist_version
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from packaging.version import Version

from dagster_project.defs.ingest.partitions import billing_periods, dbt_window_vars

from .project import mlcost_dbt_project
from .translator import MlcostTranslator

POOL = "duckdb_warehouse"


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False
    """Rebuild incremental models from scratch (after a model or schema change)."""


def _build_args(config: DbtBuildConfig, vars_: dict | None = None) -> list[str]:
    # A test runs in the invocation that builds its last parent (`buildable`): a relationship
    # from a history model to a seed runs with the history models, not with the seeds.
    args = ["build", "--indirect-selection", "buildable"]
    if vars_:
        args += ["--vars", json.dumps(vars_)]
    if config.full_refresh:
        args.append("--full-refresh")
    return args


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
    yield from dbt.cli(_build_args(config), context=context).stream()


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
    yield from dbt.cli(_build_args(config, vars_), context=context).stream()


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
    yield from dbt.cli(_build_args(config), context=context).stream()


ASSETS = [dbt_reference_and_staging, dbt_billing_history, dbt_whole_history_marts]


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


def dbt_resource() -> DbtCliResource:
    # The dbt beside this interpreter, so a venv that is not activated still works.
    local = Path(sysconfig.get_path("scripts")) / "dbt"
    if not local.exists():
        local = Path(sys.prefix) / "bin" / "dbt"
    return MlcostDbtCliResource(project_dir=mlcost_dbt_project,
                                dbt_executable=str(local) if local.exists() else "dbt")
