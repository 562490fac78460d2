"""MLflow runs from the configured tracking store (raw.mlflow_runs), upstream of dbt's
stg_mlflow__runs and fct_training_run_costs (docs/mlflow.md). Never fails the run: without a
URI, the mlflow extra or a reachable store it records why in meta.mlflow_sync_status."""

import dagster as dg

from dagster_project.defs.resources import WarehouseResource

MLFLOW_RUNS = dg.AssetKey(["raw", "mlflow_runs"])
POOL = "duckdb_warehouse"


@dg.asset(
    key=MLFLOW_RUNS,
    group_name="unit_economics",
    kinds={"python", "duckdb"},
    pool=POOL,
    description="Every run of the MLflow tracking store (MLCOST_MLFLOW_URI / mlflow_uri in "
                "mlcost.toml), one full snapshot per load; the load's outcome in "
                "meta.mlflow_sync_status (docs/mlflow.md).",
)
def mlflow_runs(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from dagster_project import settings
    from dagster_project.lib.mlflow_runs import load_mlflow_runs

    with warehouse.connection() as con:
        res = load_mlflow_runs(con, settings.mlflow_uri())
    for warning in res.warnings:
        context.log.warning("MLflow: %s", warning)
    if res.status != "ok":
        context.log.warning("MLflow runs %s: %s", res.status, res.reason)
    return dg.MaterializeResult(metadata={
        "status": res.status, "tracking_uri": res.uri or "", "runs": res.runs,
        "reason": res.reason or "", "runs_with_issues": len(res.warnings)})


ASSETS = [mlflow_runs]
