"""Cross-system checks on the FOCUS dataset: great-expectations suite and reconciliation."""

import dagster as dg

from dagster_project import settings
from dagster_project.defs.ingest.checks import POOL, SUITE_SAMPLE_ROWS, suite_result_to_check
from dagster_project.defs.resources import WarehouseResource
from dagster_project.lib.quality import validate_table

FOCUS_KEY = dg.AssetKey(["focus", "focus_cost_and_usage"])
RECON_KEY = dg.AssetKey(["focus", "rpt_focus_reconciliation"])


@dg.asset_check(asset=FOCUS_KEY, name="focus_gx_suite", blocking=False, pool=POOL,
                description="great-expectations suite expectations/focus_cost_and_usage.json "
                            "(WARN; ERROR if a critical expectation fails).")
def focus_gx_suite(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connection(read_only=True) as con:
        res = validate_table(con, "focus", "focus_cost_and_usage",
                             settings.EXPECTATIONS_DIR / "focus_cost_and_usage.json",
                             max_rows=SUITE_SAMPLE_ROWS)
    return suite_result_to_check(res)


@dg.asset_check(asset=RECON_KEY, name="focus_reconciles_to_source", blocking=True, pool=POOL,
                description="Σ BilledCost / Σ EffectiveCost per provider, billing account, "
                            "billing period and currency equal the source's own totals exactly.")
def focus_reconciles_to_source(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connection(read_only=True) as con:
        rows = con.execute(
            """select provider, billing_account_id, strftime(billing_period, '%Y-%m'), currency,
                      status, cast(billed_difference as varchar),
                      cast(effective_difference as varchar)
               from focus.rpt_focus_reconciliation order by 1, 2, 3, 4""").fetchall()
    bad = [r for r in rows if r[4] != "reconciled"]
    header = "| provider | account | period | currency | status | Δ billed | Δ effective |"
    table = "\n".join([header, "|---|---|---|---|---|---|---|"]
                      + [f"| {' | '.join(str(v) for v in r)} |" for r in (bad or rows)[:50]])
    return dg.AssetCheckResult(
        passed=not bad,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"slices": len(rows), "not_reconciled": len(bad),
                  "detail": dg.MetadataValue.md(table)},
    )


CHECKS = [focus_gx_suite, focus_reconciles_to_source]
