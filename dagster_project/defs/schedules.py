"""The daily schedule: whole-history marts, forecast, variance and reports, after the night's
deliveries were loaded and their billing periods rebuilt by the sensors."""

from __future__ import annotations

import os

import dagster as dg

from dagster_project.defs.jobs import marts_daily_job

daily_marts_schedule = dg.ScheduleDefinition(
    name="mlcost_daily",
    job=marts_daily_job,
    cron_schedule=os.environ.get("MLCOST_DAILY_CRON", "0 6 * * *"),
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

SCHEDULES = [daily_marts_schedule]
