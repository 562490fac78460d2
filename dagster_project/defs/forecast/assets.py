"""Forecast snapshots (Python asset over the cost mart); quarter locks are in locks.py."""

import dagster as dg

from dagster_project.defs.resources import WarehouseResource

from .locks import MONTHLY_COSTS, forecast_locks


@dg.asset(
    key=["forecast", "forecast_snapshots"],
    group_name="forecast",
    deps=[MONTHLY_COSTS],
    kinds={"python", "statsforecast", "duckdb"},
    pool="duckdb_warehouse",
    description="Monthly effective-cost forecast per total/team/workload/model with 80/95% "
                "intervals, backtests and scenarios. Snapshots are immutable.",
)
def forecast_snapshots(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from dagster_project.lib.forecast import build_forecasts

    with warehouse.connection() as con:
        res = build_forecasts(con)
    if res.status == "skipped":
        context.log.warning("forecast skipped: %s", res.reason)
    return dg.MaterializeResult(metadata={
        "status": res.status, "reason": res.reason or "", "snapshot_id": res.snapshot_id or "",
        "as_of_month": str(res.as_of_month or ""), "series": res.n_series,
        "models": dg.MetadataValue.json(res.models),
    })


ASSETS = [forecast_snapshots, forecast_locks]
CHECKS: list = []
