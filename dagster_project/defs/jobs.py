"""Project-wide jobs. Every job runs in one process: DuckDB has one writer, so steps run one
after another (and every writer asset is in the `duckdb_warehouse` pool, limit 1, across runs).

- `ingest`: load new deliveries from the landing location (the landing sensor's job);
- `billing_history`: reference data, staging and the incremental history models for a
  billing-period partition or range (the delivery sensor's job; backfills);
- `marts_daily`: the whole-history marts, forecast, variance and reports (daily schedule);
- `mlcost_full`: everything; with a partition range it is what `mlcost run` does.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.dbt.assets import (
    dbt_billing_history,
    dbt_reference_and_staging,
)
from dagster_project.defs.ingest.assets import ingest_landed_exports

INGEST = dg.AssetSelection.assets(ingest_landed_exports)
HISTORY = dg.AssetSelection.assets(dbt_reference_and_staging, dbt_billing_history)
DOWNSTREAM = dg.AssetSelection.all() - INGEST - HISTORY

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
    description="Whole-history marts (idle waste), forecast, variance, reports.")

mlcost_full_job = dg.define_asset_job(
    "mlcost_full",
    selection=dg.AssetSelection.all(),
    description="Ingest every landed export, rebuild FOCUS and marts, forecast, report.",
    executor_def=dg.in_process_executor,
)

# `mlcost run`: ingest first (which periods exist is known only afterwards), then this job
# over the billing-period range.
mlcost_build_job = dg.define_asset_job(
    "mlcost_build", selection=dg.AssetSelection.all() - INGEST,
    executor_def=dg.in_process_executor,
    description="Everything after ingest, for a billing-period range.")

JOBS = [ingest_job, billing_history_job, marts_daily_job, mlcost_full_job, mlcost_build_job]
