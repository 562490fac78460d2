"""The single code location: every domain's definitions merged, plus project-wide jobs,
the daily schedule and the delivery sensors."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs import jobs, schedules
from dagster_project.defs.dbt import assets as dbt_assets
from dagster_project.defs.dbt import checks as dbt_checks
from dagster_project.defs.forecast import assets as forecast_assets
from dagster_project.defs.ingest import checks as ingest_checks
from dagster_project.defs.ingest import sensors as ingest_sensors
from dagster_project.defs.ingest.assets import ingest_landed_exports
from dagster_project.defs.reports import assets as report_assets
from dagster_project.defs.resources import build_resources
from dagster_project.defs.variance import assets as variance_assets

defs = dg.Definitions(
    assets=[ingest_landed_exports, *dbt_assets.ASSETS, *forecast_assets.ASSETS,
            *variance_assets.ASSETS, *report_assets.ASSETS],
    asset_checks=[*ingest_checks.CHECKS, *dbt_checks.CHECKS, *forecast_assets.CHECKS],
    jobs=jobs.JOBS,
    schedules=schedules.SCHEDULES,
    sensors=ingest_sensors.SENSORS,
    resources={**build_resources(), "dbt": dbt_assets.dbt_resource()},
    executor=dg.in_process_executor,
)
