"""Forecast snapshots (Python asset over the cost mart); quarter locks are in locks.py."""

import dagster as dg

from dagster_project.defs.resources import WarehouseResource

from .config import ForecastRunConfig, scenarios_or_fail
from .locks import MONTHLY_COSTS, forecast_locks


@dg.asset(
    key=["forecast", "forecast_snapshots"],
    group_name="forecast",
    deps=[MONTHLY_COSTS],
    kinds={"python", "statsforecast", "duckdb"},
    pool="duckdb_warehouse",
    description="Monthly effective-cost forecast per total/team/workload/model with 80/95% "
                "intervals, backtests and the scenarios baseline, base, best and worst (from "
                "the scenarios file). Snapshots are immutable.",
)
def forecast_snapshots(context: dg.AssetExecutionContext, config: ForecastRunConfig,
                       warehouse: WarehouseResource):
    from dagster_project.lib.forecast import build_forecasts
    from dagster_project.lib.forecast.scenario_file import ScenarioFileError

    scenarios = scenarios_or_fail(config)
    with warehouse.connection() as con:
        try:
            res = build_forecasts(con, horizon=config.horizon, scenarios=scenarios)
        except ScenarioFileError as exc:
            raise dg.Failure(description=str(exc)) from None
    if res.status == "skipped":
        context.log.warning("forecast skipped: %s", res.reason)
    return dg.MaterializeResult(metadata={
        "status": res.status, "reason": res.reason or "", "snapshot_id": res.snapshot_id or "",
        "as_of_month": str(res.as_of_month or ""), "series": res.n_series,
        "horizon": config.horizon, "scenarios_file": scenarios.path if scenarios else "",
        "models": dg.MetadataValue.json(res.models),
    })


ASSETS = [forecast_snapshots, forecast_locks]
CHECKS: list = []
