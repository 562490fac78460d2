"""Quarter locks as an asset: the forecast stage writes the plan of each recent quarter."""

import os

import dagster as dg

from dagster_project.defs.resources import WarehouseResource

from .config import ForecastRunConfig, scenarios_or_fail

FORECAST_SNAPSHOTS = dg.AssetKey(["forecast", "forecast_snapshots"])
MONTHLY_COSTS = dg.AssetKey(["marts", "fct_costs_monthly"])
# Which quarters are complete is the calendar model's rule (marts.dim_calendar).
CALENDAR = dg.AssetKey(["marts", "dim_calendar"])
# How many of the most recent complete quarters are locked (and get a variance analysis).
VARIANCE_QUARTERS = int(os.environ.get("MLCOST_VARIANCE_QUARTERS", "4"))


@dg.asset(
    key=["forecast", "forecast_locks"],
    group_name="forecast",
    deps=[FORECAST_SNAPSHOTS, MONTHLY_COSTS, CALENDAR],
    kinds={"python", "statsforecast", "duckdb"},
    pool="duckdb_warehouse",
    description="The forecast locked as the plan of the current quarter (at its start) and "
                "of each of the last MLCOST_VARIANCE_QUARTERS complete quarters (forecast "
                "from the actuals before the quarter, with the scenarios file; written once, "
                "never changed). The quarterly variance reads these locks.",
)
def forecast_locks(context: dg.AssetExecutionContext, config: ForecastRunConfig,
                   warehouse: WarehouseResource):
    from dagster_project.lib.forecast import ensure_locked_forecast
    from dagster_project.lib.forecast.locks import current_quarter
    from dagster_project.lib.forecast.scenario_file import ScenarioFileError
    from dagster_project.lib.variance import complete_quarters

    scenarios = scenarios_or_fail(config)
    locks: dict[str, str] = {}
    with warehouse.connection() as con:
        quarters = complete_quarters(con)[-VARIANCE_QUARTERS:]
        current = current_quarter()
        for quarter in [*quarters, *([current] if current not in quarters else [])]:
            try:
                snapshot_id = ensure_locked_forecast(con, quarter, horizon=config.horizon,
                                                     scenarios=scenarios)
            except ScenarioFileError as exc:
                raise dg.Failure(description=str(exc)) from None
            locks[quarter] = snapshot_id or ""
            if snapshot_id is None:
                context.log.warning(
                    "no forecast lock for %s: not enough history before the quarter (the "
                    "reason is in forecast.forecast_runs, context 'lock:%s')", quarter, quarter)
    if not quarters:
        context.log.warning("no quarter locked: no complete quarter in the data")
    return dg.MaterializeResult(metadata={
        "locks": dg.MetadataValue.json(locks),
        "locked": sum(1 for s in locks.values() if s),
        "unlocked": dg.MetadataValue.json(sorted(q for q, s in locks.items() if not s)),
    })
