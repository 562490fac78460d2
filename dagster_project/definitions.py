"""The single code location: every domain's definitions merged, plus project-wide jobs."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs import jobs
from dagster_project.defs.dbt import checks as dbt_checks
from dagster_project.defs.dbt.assets import dbt_resource, mlcost_dbt_models
from dagster_project.defs.forecast import assets as forecast_assets
from dagster_project.defs.ingest.assets import ingest_landed_exports
from dagster_project.defs.reports import assets as report_assets
from dagster_project.defs.resources import build_resources

defs = dg.Definitions(
    assets=[ingest_landed_exports, mlcost_dbt_models, *forecast_assets.ASSETS,
            *report_assets.ASSETS],
    asset_checks=[*dbt_checks.CHECKS, *forecast_assets.CHECKS],
    jobs=[jobs.mlcost_full_job],
    schedules=[jobs.daily_marts_schedule],
    resources={**build_resources(), "dbt": dbt_resource()},
    executor=dg.in_process_executor,
)
