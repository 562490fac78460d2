"""Schedules (all created stopped; docs/operations.md):

- `mlcost_daily`: whole-history marts, forecast, variance and exports, after the night's
  deliveries were loaded and their billing periods rebuilt by the sensors;
- `quarterly_review_after_close`: the final review pack of the quarter just closed, on the 5th
  of January, April, July and October (late deliveries of the last days have arrived);
- `quarterly_review_preliminary`: every day, the preliminary pack of the running quarter (in
  the first days of a quarter, of the quarter just closed: `preliminary_quarter`).

Both review schedules run an hour after the daily marts, which they read.
"""

from __future__ import annotations

import os

import dagster as dg

from dagster_project.defs.jobs import marts_daily_job, quarterly_review_job
from dagster_project.defs.reports.partitions import (
    CLOSE_DAY,
    closed_quarter,
    preliminary_quarter,
    review_quarters,
)

daily_marts_schedule = dg.ScheduleDefinition(
    name="mlcost_daily",
    job=marts_daily_job,
    cron_schedule=os.environ.get("MLCOST_DAILY_CRON", "0 6 * * *"),
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)


def _review_request(context: dg.ScheduleEvaluationContext, quarter: str, kind: str):
    """A run of `quarterly_review` for ``quarter``; a skip that says why when the code
    location was loaded before the quarter began (its partitions end at load time)."""
    if quarter not in review_quarters.get_partition_keys():
        return dg.SkipReason(
            f"quarter {quarter} is not a partition of quarterly_review yet (partitions end at "
            f"{review_quarters.get_partition_keys()[-1]}, fixed when the code location "
            f"loaded): reload the code location")
    tick = context.scheduled_execution_time
    stamp = tick.strftime("%Y-%m-%d") if tick else "manual"
    return dg.RunRequest(run_key=f"{kind}:{quarter}:{stamp}", partition_key=quarter,
                         tags={"mlcost/review": kind})


@dg.schedule(
    name="quarterly_review_after_close",
    job=quarterly_review_job,
    cron_schedule=f"0 7 {CLOSE_DAY} 1,4,7,10 *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="The final review pack of the quarter just closed (07:00 UTC on the 5th of "
                "Jan/Apr/Jul/Oct).",
)
def quarterly_review_after_close(context: dg.ScheduleEvaluationContext):
    return _review_request(context, closed_quarter(_tick(context)), "final")


@dg.schedule(
    name="quarterly_review_preliminary",
    job=quarterly_review_job,
    cron_schedule="0 7 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="The preliminary review pack of the running quarter, daily at 07:00 UTC.",
)
def quarterly_review_preliminary(context: dg.ScheduleEvaluationContext):
    return _review_request(context, preliminary_quarter(_tick(context)), "preliminary")


def _tick(context: dg.ScheduleEvaluationContext):
    """The tick's time (a manual evaluation without one: now)."""
    from dagster_project.lib.calendar import utcnow

    return context.scheduled_execution_time or utcnow()


SCHEDULES = [daily_marts_schedule, quarterly_review_after_close, quarterly_review_preliminary]
