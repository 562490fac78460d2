"""Daily cost anomalies (Python asset over the cost allocations) and the check that warns
about the recent ones (docs/anomalies.md)."""

import dagster as dg

from dagster_project.defs.dbt.checks import md_table
from dagster_project.defs.resources import WarehouseResource

# The daily and monthly marts are built with the allocations; the detector reads the
# allocations (the daily mart has no billing account and no resource ids).
COST_ALLOCATIONS = dg.AssetKey(["marts", "fct_cost_allocations"])
COST_ANOMALIES = dg.AssetKey(["monitoring", "cost_anomalies"])
POOL = "duckdb_warehouse"


@dg.asset(
    key=COST_ANOMALIES,
    group_name="monitoring",
    deps=[COST_ALLOCATIONS],
    kinds={"python", "duckdb"},
    pool=POOL,
    description="Daily cost anomalies (spikes and drops) per team x service and per account x "
                "service, with expected and actual cost, impact and the resources that drove "
                "them; the whole history, rebuilt each run.",
)
def cost_anomalies(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from dagster_project.lib.anomalies import write_anomalies

    with warehouse.connection() as con:
        res = write_anomalies(con)
    if res.status == "skipped":
        context.log.warning("anomaly detection skipped: %s", res.reason)
    return dg.MaterializeResult(metadata={
        "status": res.status, "reason": res.reason or "", "anomalies": res.anomalies,
        "recent": res.recent, "data_last_date": str(res.last_date or ""),
    })


@dg.asset_check(asset=COST_ANOMALIES, name="no_recent_cost_anomalies", blocking=False,
                pool=POOL,
                description="WARN (never an error) when a cost anomaly ends in the last 14 "
                            "days of data: lists each with its impact and top resource "
                            "(monitoring.cost_anomalies).")
def no_recent_cost_anomalies(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from dagster_project.lib.anomalies import RECENT_DAYS, recent_anomalies

    with warehouse.connection(read_only=True) as con:
        rows = recent_anomalies(con)
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        description=(f"{len(rows)} cost anomal{'y' if len(rows) == 1 else 'ies'} in the last "
                     f"{RECENT_DAYS} days of data" if rows else None),
        metadata={"recent_anomalies": len(rows),
                  "detail": md_table(["provider", "team", "account", "service", "series",
                                      "start", "end", "direction", "impact", "top resource"],
                                     rows)},
    )


ASSETS = [cost_anomalies]
CHECKS = [no_recent_cost_anomalies]
