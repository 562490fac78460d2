"""Forecast snapshots, quarter locks (locks.py) and quarterly variance (Python assets over
the cost mart)."""

import dagster as dg

from dagster_project.defs.resources import WarehouseResource

from .locks import MONTHLY_COSTS, VARIANCE_QUARTERS, forecast_locks

BUDGETS = dg.AssetKey(["raw", "budgets"])


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


@dg.asset(
    key=["variance", "quarterly_variance"],
    group_name="variance",
    deps=[forecast_snapshots, MONTHLY_COSTS, BUDGETS],
    kinds={"python", "duckdb"},
    pool="duckdb_warehouse",
    description="Actual vs locked forecast vs budget per quarter, decomposed into volume, mix "
                "and price effects.",
)
def quarterly_variance(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from dagster_project.lib.variance import complete_quarters, compute_quarterly_variance

    outcomes = {}
    with warehouse.connection() as con:
        quarters = complete_quarters(con)[-VARIANCE_QUARTERS:]
        for quarter in quarters:
            res = compute_quarterly_variance(con, quarter)
            outcomes[quarter] = {"status": res.status, "reason": res.reason or ""}
            if res.status == "skipped":
                context.log.warning("variance %s skipped: %s", quarter, res.reason)
    if not quarters:
        context.log.warning("variance skipped: no complete quarter in the data")
    return dg.MaterializeResult(metadata={"quarters": dg.MetadataValue.json(outcomes)})


ASSETS = [forecast_snapshots, forecast_locks, quarterly_variance]
CHECKS: list = []
