"""Project-wide jobs and schedules."""

from __future__ import annotations

import dagster as dg

# The whole graph, in one process: DuckDB has one writer, so steps run one after another.
mlcost_full_job = dg.define_asset_job(
    "mlcost_full",
    selection=dg.AssetSelection.all(),
    description="Ingest every landed export, rebuild FOCUS and marts, forecast, report.",
    executor_def=dg.in_process_executor,
)

daily_marts_schedule = dg.ScheduleDefinition(
    name="mlcost_daily",
    job=mlcost_full_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
