"""Quarterly variance (Python asset over the cost mart, the budgets and the quarter calendar)."""

import dagster as dg

from dagster_project.defs.forecast.assets import forecast_snapshots
from dagster_project.defs.forecast.locks import VARIANCE_QUARTERS
from dagster_project.defs.resources import WarehouseResource

MONTHLY_COSTS = dg.AssetKey(["marts", "fct_costs_monthly"])
BUDGETS = dg.AssetKey(["marts", "fct_budgets"])
CALENDAR = dg.AssetKey(["marts", "dim_calendar"])
# The quarters' locked forecasts (forecasting's asset; variance only reads the locks).
FORECAST_LOCKS = dg.AssetKey(["forecast", "forecast_locks"])


@dg.asset(
    key=["variance", "quarterly_variance"],
    group_name="variance",
    deps=[forecast_snapshots, FORECAST_LOCKS, MONTHLY_COSTS, BUDGETS, CALENDAR],
    kinds={"python", "duckdb"},
    pool="duckdb_warehouse",
    description="Actual vs locked forecast vs budget per complete quarter, decomposed into "
                "volume, mix, price and commitment effects.",
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


ASSETS = [quarterly_variance]
CHECKS: list = []
