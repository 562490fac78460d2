"""All dbt models, seeds and tests as Dagster assets and asset checks."""


import sys
import sysconfig
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from .project import mlcost_dbt_project
from .translator import MlcostTranslator


@dbt_assets(
    manifest=mlcost_dbt_project.manifest_path,
    project=mlcost_dbt_project,
    dagster_dbt_translator=MlcostTranslator(),
    pool="duckdb_warehouse",
)
def mlcost_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()


def dbt_resource() -> DbtCliResource:
    # The dbt beside this interpreter, so a venv that is not activated still works.
    local = Path(sysconfig.get_path("scripts")) / "dbt"
    if not local.exists():
        local = Path(sys.prefix) / "bin" / "dbt"
    return DbtCliResource(project_dir=mlcost_dbt_project,
                          dbt_executable=str(local) if local.exists() else "dbt")
