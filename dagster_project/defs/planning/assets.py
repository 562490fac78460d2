"""The budget burn-down (Python asset downstream of the forecast) and its asset check."""

import dagster as dg

from dagster_project.defs.resources import WarehouseResource

FORECAST_SNAPSHOTS = dg.AssetKey(["forecast", "forecast_snapshots"])
MONTHLY_COSTS = dg.AssetKey(["marts", "fct_costs_monthly"])
BUDGETS = dg.AssetKey(["marts", "fct_budgets"])
BURNDOWN = dg.AssetKey(["planning", "budget_burndown"])
POOL = "duckdb_warehouse"


@dg.asset(
    key=BURNDOWN,
    group_name="planning",
    deps=[FORECAST_SNAPSHOTS, MONTHLY_COSTS, BUDGETS],
    kinds={"python", "duckdb"},
    pool=POOL,
    description="Budget burn-down per team per quarter: spent to date, projected end-of-quarter "
                "spend (actuals + the latest forecast snapshot) with its 80% band, budget, "
                "headroom and status (docs/budgets.md).",
)
def budget_burndown(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from dagster_project.lib.planning import refresh_burndown

    with warehouse.connection() as con:
        res = refresh_burndown(con)
    if res.status == "skipped":
        context.log.warning("budget burn-down empty: %s", res.reason)
    return dg.MaterializeResult(metadata={
        "status": res.status, "reason": res.reason or "", "snapshot_id": res.snapshot_id or "",
        "as_of_month": str(res.as_of_month or ""), "scenario": res.scenario or "",
        "rows": res.rows, "open_quarters_by_status": dg.MetadataValue.json(res.counts or {}),
    })


@dg.asset_check(asset=BURNDOWN, name="budget_burndown_within_budget", blocking=False, pool=POOL,
                description="Open quarters (in progress or future): ERROR when a team's "
                            "projected spend exceeds its budget, WARN when only the 80% band's "
                            "upper bound does. Non-blocking: the run goes on and its summary "
                            "lists the check.")
def budget_burndown_within_budget(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from dagster_project.lib.planning import judge, judged_rows

    with warehouse.connection(read_only=True) as con:
        verdict = judge(judged_rows(con))
    return dg.AssetCheckResult(
        passed=verdict.passed,
        severity=dg.AssetCheckSeverity[verdict.severity],
        description=verdict.description,
        metadata={"offenders": dg.MetadataValue.json(
            [{"quarter": q, "team": t, "status": s} for q, t, s in verdict.offenders])},
    )


ASSETS = [budget_burndown]
CHECKS = [budget_burndown_within_budget]
