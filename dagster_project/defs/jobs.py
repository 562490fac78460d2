"""Project-wide jobs. Every job runs in one process: DuckDB has one writer, so steps run one
after another (and every writer asset is in the `duckdb_warehouse` pool, limit 1, across runs).

- `ingest`: load new deliveries from the landing location (the landing sensor's job);
- `billing_history`: reference data, staging and the incremental history models for a
  billing-period partition or range (the delivery sensor's job; backfills);
- `marts_daily`: the whole-history marts, forecast, variance and reports (daily schedule);
- `mlcost_full`: everything; with a partition range it is what `mlcost run` does;
- `quarterly_review`: the review pack of one quarter (partitioned by quarter). A job holds
  assets of one partitions definition only, so the pack is in none of the jobs above;
  `mlcost run` renders it itself after its job.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.dbt.assets import (
    dbt_billing_history,
    dbt_reference_and_staging,
)
from dagster_project.defs.ingest.assets import ingest_landed_exports
from dagster_project.defs.reports.assets import quarterly_review

INGEST = dg.AssetSelection.assets(ingest_landed_exports)
HISTORY = dg.AssetSelection.assets(dbt_reference_and_staging, dbt_billing_history)
REVIEW = dg.AssetSelection.assets(quarterly_review)
EVERYTHING = dg.AssetSelection.all() - REVIEW
DOWNSTREAM = EVERYTHING - INGEST - HISTORY

ingest_job = dg.define_asset_job(
    "ingest", selection=INGEST, executor_def=dg.in_process_executor,
    description="Load new deliveries from the landing location into raw and meta.")

billing_history_job = dg.define_asset_job(
    "billing_history", selection=HISTORY,
    executor_def=dg.in_process_executor,
    description="Rebuild the billing periods of the run's partition (or range): staging views, "
                "FOCUS, allocations, daily/monthly costs, reconciliation.")

marts_daily_job = dg.define_asset_job(
    "marts_daily", selection=DOWNSTREAM, executor_def=dg.in_process_executor,
    description="Whole-history marts (idle waste), forecast, variance, Evidence exports.")

mlcost_full_job = dg.define_asset_job(
    "mlcost_full",
    selection=EVERYTHING,
    description="Ingest every landed export, rebuild FOCUS and marts, forecast, variance, "
                "exports (the review pack has its own job, quarterly_review).",
    executor_def=dg.in_process_executor,
)

# `mlcost run`: ingest first (which periods exist is known only afterwards), then this job
# over the billing-period range.
mlcost_build_job = dg.define_asset_job(
    "mlcost_build", selection=EVERYTHING - INGEST,
    executor_def=dg.in_process_executor,
    description="Everything after ingest, for a billing-period range.")

quarterly_review_job = dg.define_asset_job(
    "quarterly_review", selection=REVIEW,
    executor_def=dg.in_process_executor,
    description="Render the review pack (HTML, PDF) of the partition's quarter.")

JOBS = [ingest_job, billing_history_job, marts_daily_job, mlcost_full_job, mlcost_build_job,
        quarterly_review_job]
