"""Cross-system checks on the FOCUS dataset: great-expectations suite, held-back slices and
reconciliation of what was published.

Reconciliation has one owner: dbt computes it per slice before publishing
(`focus.rpt_focus_reconciliation`) and holds back what fails (`focus.rpt_held_back_slices`);
the check `focus_reconciles_to_source` here verifies the published result. There is no dbt
test on it: a failing dbt test would stop the whole build for one slice.
"""

import html

import dagster as dg

from dagster_project import settings
from dagster_project.defs.ingest.checks import POOL, run_suite, suite_result_to_check
from dagster_project.defs.ingest.partitions import run_window
from dagster_project.defs.resources import WarehouseResource

FOCUS_KEY = dg.AssetKey(["focus", "focus_cost_and_usage"])
RECON_KEY = dg.AssetKey(["focus", "rpt_focus_reconciliation"])
HELD_BACK_KEY = dg.AssetKey(["focus", "rpt_held_back_slices"])
MAX_LISTED = 50


def md_table(header: list[str], rows: list[tuple]) -> dg.MetadataValue:
    """A Markdown table of at most MAX_LISTED rows; cells escaped (they hold data values)."""
    def cell(v) -> str:
        return html.escape("" if v is None else str(v)).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows[:MAX_LISTED]]
    if len(rows) > MAX_LISTED:
        lines.append(f"\n… and {len(rows) - MAX_LISTED} more")
    return dg.MetadataValue.md("\n".join(lines))


@dg.asset_check(asset=FOCUS_KEY, name="focus_gx_suite", blocking=False, pool=POOL,
                description="great-expectations suite expectations/focus_cost_and_usage.json "
                            "on the billing periods the run rebuilt (WARN; ERROR if a "
                            "critical expectation fails).")
def focus_gx_suite(context: dg.AssetCheckExecutionContext,
                   warehouse: WarehouseResource) -> dg.AssetCheckResult:
    # The billing periods this run rebuilt; the others did not change since a run validated
    # them (as the window's money-conservation dbt tests, docs/operations.md).
    window = run_window(context.run.tags)
    where = ('"x_BillingPeriod" >= cast(? as date) and "x_BillingPeriod" < cast(? as date)'
             if window else None)
    params = [window["billing_period_start"], window["billing_period_end"]] if window else []
    res = run_suite(warehouse, "focus", "focus_cost_and_usage",
                    settings.EXPECTATIONS_DIR / "focus_cost_and_usage.json", where=where,
                    params=params)
    periods = f"from {params[0][:7]}, before {params[1][:7]}" if window else "all"
    return suite_result_to_check(res, extra={"billing_periods": periods})


@dg.asset_check(asset=FOCUS_KEY, name="focus_slices_published", blocking=False, pool=POOL,
                additional_deps=[HELD_BACK_KEY],
                description="WARN when a slice (provider, billing account, billing period) is "
                            "held back from FOCUS and the marts: lists each with the FOCUS "
                            "rule or reconciliation it failed (focus.rpt_held_back_slices).")
def focus_slices_published(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connection(read_only=True) as con:
        rows = con.execute(
            """select provider, billing_account_id, strftime(billing_period, '%Y-%m'),
                      currency, rule, detail, file_id
               from focus.rpt_held_back_slices order by all""").fetchall()
    slices = {r[:3] for r in rows}
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"held_back_slices": len(slices), "failures": len(rows),
                  "detail": md_table(["provider", "account", "period", "currency", "rule",
                                      "detail", "file"], rows)},
    )


@dg.asset_check(asset=FOCUS_KEY, name="focus_reconciles_to_source", blocking=True, pool=POOL,
                additional_deps=[RECON_KEY, HELD_BACK_KEY],
                description="Every published slice reconciles: Σ BilledCost / Σ EffectiveCost "
                            "per provider, billing account, billing period and currency equal "
                            "the source's own totals exactly, and every reconciled slice not "
                            "held back is published.")
def focus_reconciles_to_source(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    # Published FOCUS totals against the reconciliation, which carries the source totals; a
    # row here is a bug in publishing (held-back slices are expected to be absent).
    with warehouse.connection(read_only=True) as con:
        rows = con.execute(
            """with published as (
                   select "x_ProviderCode" as provider, "BillingAccountId" as account,
                          "x_BillingPeriod" as period, "BillingCurrency" as currency,
                          sum("BilledCost") as billed, sum("EffectiveCost") as effective
                   from focus.focus_cost_and_usage group by all),
               expected as (
                   select provider, billing_account_id as account, billing_period as period,
                          currency, focus_billed_total as billed,
                          focus_effective_total as effective
                   from focus.rpt_focus_reconciliation r
                   where status = 'reconciled' and not exists (
                       select 1 from focus.rpt_held_back_slices h
                       where h.provider = r.provider and h.billing_period = r.billing_period
                         and h.billing_account_id is not distinct from r.billing_account_id))
               select coalesce(p.provider, e.provider), coalesce(p.account, e.account),
                      strftime(coalesce(p.period, e.period), '%Y-%m'),
                      coalesce(p.currency, e.currency),
                      case when e.provider is null then 'published, not reconciled'
                           when p.provider is null then 'reconciled, not published'
                           else 'published totals differ' end,
                      cast(p.billed as varchar), cast(e.billed as varchar)
               from published p
               full outer join expected e
                 on p.provider = e.provider and p.account is not distinct from e.account
                    and p.period = e.period and p.currency is not distinct from e.currency
               where e.provider is null or p.provider is null
                  or p.billed <> e.billed or p.effective <> e.effective
               order by all""").fetchall()
        (slices,) = con.execute("select count(*) from focus.rpt_focus_reconciliation").fetchone()
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"slices": slices, "not_reconciled": len(rows),
                  "detail": md_table(["provider", "account", "period", "currency", "problem",
                                      "Σ billed published", "Σ billed reconciled"], rows)},
    )


CHECKS = [focus_gx_suite, focus_slices_published, focus_reconciles_to_source]
