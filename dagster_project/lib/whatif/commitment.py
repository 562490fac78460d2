"""`whatif commitment`: per provider, the hourly Savings Plan / CUD / reservation commitment
that minimises EXPECTED cost over the forecast distribution of commitment-eligible compute,
with today's coverage and utilisation (arithmetic: commitment_model.py; docs/whatif.md).

Eligible compute: usage rows of service category Compute or AI and Machine Learning priced by
the hour (pricing unit containing "hour"), plus the commitment rows themselves.
Today (marts.fct_cost_allocations over the range): coverage = on-demand-equivalent cost
(list_cost) of covered usage / of all eligible usage; utilisation = used commitment / (used +
unused); current hourly commitment = (used + unused commitment cost) / hours of the range;
discount = 1 - used commitment cost / list cost of the usage it covered (or --discount).
Forecast (latest snapshot, scenario base, next --term-months): each team x workload series'
bands, scaled by the share of its forecast that is eligible compute of the provider (its
segments of the eligible service x pricing unit pairs), summed quantile by quantile (the series
are taken to move together: a wider, cautious distribution), then turned into hourly
on-demand-equivalent demand with the range's list / effective ratio and 730 h a month."""

from __future__ import annotations

from decimal import Decimal

import duckdb

from dagster_project.exit_codes import MISSING_INPUT, ExitError

from .answer import Answer
from .inputs import (
    HOURS_PER_MONTH,
    fraction,
    money,
    month_range,
    number,
    one_currency,
    positive,
    ratio,
    require_table,
)

TYPES = {"aws": "savings_plan", "gcp": "committed_use_discount", "azure": "reservation",
         "oci": "universal_credits"}
DEFAULT_TERM = 12
SCENARIOS = ("base", "baseline")
ELIGIBLE = """charge_category = 'Usage' and (commitment_discount_status is not null
    or (service_category in ('Compute', 'AI and Machine Learning')
        and lower(pricing_unit) like '%hour%'))"""


def add_arguments(p) -> None:
    p.add_argument("--provider", default=None, help="aws, gcp, azure, oci (default: every "
                   "provider with eligible compute)")
    p.add_argument("--discount", type=number, default=None, metavar="D",
                   help="commitment discount vs on-demand, 0..<1 (default: observed)")
    p.add_argument("--term-months", type=int, default=DEFAULT_TERM, metavar="N",
                   help=f"commitment term: forecast months averaged (default: {DEFAULT_TERM})")


def today(con, provider: str, rng) -> dict:
    row = con.execute(f"""
        select list(distinct billing_currency),
               sum(case when coalesce(commitment_discount_status, 'Used') = 'Used'
                        then list_cost end),
               sum(case when commitment_discount_status = 'Used' then list_cost end),
               sum(case when commitment_discount_status = 'Used' then effective_cost end),
               sum(case when commitment_discount_status = 'Unused' then effective_cost end),
               sum(effective_cost)
        from marts.fct_cost_allocations
        where provider = ? and billing_month >= ? and billing_month < ? and {ELIGIBLE}
        """,  # noqa: S608 (a constant predicate; values bound)
        [provider, rng.first, rng.end]).fetchall()[0]
    cur = one_currency(row[0] or [], f"{provider}'s eligible compute")
    d = dict(zip(("list", "covered_list", "used", "unused", "effective"),
                 (Decimal(x or 0) for x in row[1:]), strict=True))
    d["currency"] = cur
    pairs = con.execute(f"""select distinct service_name, coalesce(pricing_unit, '')
        from marts.fct_cost_allocations where provider = ? and billing_month >= ?
          and billing_month < ? and {ELIGIBLE}""",  # noqa: S608 (constant predicate)
        [provider, rng.first, rng.end]).fetchall()
    d["pairs"] = [list(p) for p in pairs]
    return d


def forecast_demand(con, provider: str, pairs: list, term: int):
    """(months x grid effective-cost demand, snapshot, scenario, months) or None."""
    if not pairs or not con.execute(
            "select count(*) from information_schema.tables where table_schema = 'forecast' "
            "and table_name = 'forecast_export'").fetchall()[0][0]:
        return None
    for scenario in SCENARIOS:
        rows = con.execute("""
            with latest as (select snapshot_id from forecast.forecast_export
                            order by as_of_month desc, created_at desc, snapshot_id desc
                            limit 1),
            f as (select v.* from forecast.forecast_export v join latest using (snapshot_id)
                  where v.scenario = ? and v.step between 1 and ?),
            share as (select month, team, workload, sum(point) as eligible from f
                      where level = 'segment' and provider = ?
                        and list_contains(?, [service_name, coalesce(pricing_unit, '')])
                      group by all)
            select f.snapshot_id, f.month, f.point, f.lo_80, f.hi_80, f.lo_95, f.hi_95,
                   s.eligible
            from f join share s using (month, team, workload)
            where f.level = 'team_workload' order by f.month""",
            [scenario, term, provider, pairs]).fetchall()
        if rows:
            break
    else:
        return None
    import numpy as np

    from . import commitment_model as cm

    p = cm.probability_grid()
    months: dict = {}
    for _snap, month, point, lo80, hi80, lo95, hi95, eligible in rows:
        point = float(point or 0)
        share = min(max(float(eligible or 0) / point, 0.0), 1.0) if point > 0 else 0.0
        q = cm.quantiles(*(None if x is None else float(x) for x in (lo95, lo80)), point,
                         *(None if x is None else float(x) for x in (hi80, hi95)), p)
        months[month] = months.get(month, 0.0) + share * q
    return np.vstack(list(months.values())), rows[0][0], scenario, sorted(months)


def one_provider(con, provider: str, rng, discount_flag, term: int) -> dict:
    t = today(con, provider, rng)
    committed = t["used"] + t["unused"]
    current_hourly = committed / rng.hours
    observed = (1 - t["used"] / t["covered_list"]) if t["covered_list"] > 0 else None
    discount = discount_flag if discount_flag is not None else observed
    if discount is None or discount <= 0:
        raise ExitError(f"provider {provider}: no commitment discount observed from "
                        f"{rng.first:%Y-%m} to {rng.last:%Y-%m} (no covered usage in "
                        "marts.fct_cost_allocations); pass --discount (e.g. 0.28).",
                        MISSING_INPUT)
    fc = forecast_demand(con, provider, t["pairs"], term)
    if fc is None:
        raise ExitError(f"provider {provider}: no forecast of its eligible compute in "
                        "forecast.forecast_export (latest snapshot, scenario base); run "
                        "`mlcost forecast` first.", MISSING_INPUT)
    demand, snapshot, scenario, months = fc
    # effective-cost forecast -> on-demand equivalent per hour
    od_ratio = float(t["list"] / t["effective"]) if t["effective"] > 0 else 1.0
    hourly = demand * od_ratio / float(HOURS_PER_MONTH)
    from . import commitment_model as cm

    best = cm.optimise(hourly, float(discount), float(HOURS_PER_MONTH), float(current_hourly))
    saving = Decimal(str(best["current_expected_cost"])) - Decimal(str(best["expected_cost"]))
    return {"provider": provider, "commitment_type": TYPES.get(provider, "commitment"),
            "currency": t["currency"],
            "current_hourly_commitment": ratio(current_hourly),
            "recommended_hourly_commitment": ratio(best["recommended"]),
            "newsvendor_hourly_commitment": ratio(best["newsvendor"]),
            "expected_monthly_cost_current": money(Decimal(str(best["current_expected_cost"]))),
            "expected_monthly_cost_recommended": money(Decimal(str(best["expected_cost"]))),
            "expected_monthly_saving": money(saving),
            "coverage": ratio(t["covered_list"] / t["list"]) if t["list"] > 0 else None,
            "utilisation": ratio(t["used"] / committed) if committed > 0 else None,
            "discount": ratio(discount), "discount_source":
                "--discount" if discount_flag is not None else "observed",
            "on_demand_per_effective": ratio(od_ratio),
            "hourly_demand_p10_p50_p90": [ratio(best[k], 4) for k in
                                          ("demand_p10", "demand_p50", "demand_p90")],
            "forecast": f"snapshot {snapshot}, scenario {scenario}, {len(months)} months "
                        f"{months[0]:%Y-%m}..{months[-1]:%Y-%m}",
            "_hourly": hourly, "_current": float(current_hourly), "_discount": discount}


def answer(con: duckdb.DuckDBPyConnection, opts: dict) -> Answer:
    d = fraction("--discount", opts.get("discount"))
    if d is not None:
        d = positive("--discount", d)
    term = opts.get("term_months")
    term = positive("--term-months", DEFAULT_TERM if term is None else term)
    rng = month_range(con, opts.get("from"), opts.get("to"))
    require_table(con, "marts", "fct_cost_allocations", "today's commitments come from it")
    providers = [r[0] for r in con.execute(
        f"""select distinct provider from marts.fct_cost_allocations
            where billing_month >= ? and billing_month < ? and {ELIGIBLE}
            order by 1""",  # noqa: S608 (constant predicate)
        [rng.first, rng.end]).fetchall()]
    wanted = opts.get("provider")
    if wanted:
        if wanted not in providers:
            raise ExitError(f"--provider {wanted!r}: no commitment-eligible compute from "
                            f"{rng.first:%Y-%m} to {rng.last:%Y-%m} (providers with some: "
                            f"{', '.join(providers) or 'none'}).", MISSING_INPUT)
        providers = [wanted]
    d = None if d is None else Decimal(str(d))
    results, notes = [], []
    for prov in providers:
        try:
            results.append(one_provider(con, prov, rng, d, int(term)))
        except ExitError as exc:
            if wanted:
                raise
            notes.append(str(exc))
    if not results:
        raise ExitError("no provider could be answered: " + " ".join(notes), MISSING_INPUT)
    from . import commitment_model as cm

    cases = []
    for r in results:
        base = r["_discount"]
        for k in (Decimal("0.5"), Decimal(1), Decimal("1.5")):
            dd = min(base * k, Decimal("0.95"))
            b = cm.optimise(r["_hourly"], float(dd), float(HOURS_PER_MONTH), r["_current"])
            cases.append({"provider": r["provider"], "discount": ratio(dd),
                          "recommended_hourly_commitment": ratio(b["recommended"]),
                          "expected_monthly_saving": money(Decimal(str(
                              b["current_expected_cost"] - b["expected_cost"])))})
    shown = [{k: v for k, v in r.items() if not k.startswith("_")} for r in results]
    cur = one_currency([r["currency"] for r in results], "the providers' compute")
    return Answer(
        "commitment", {"provider": wanted, **rng.header(), "currency": cur},
        {"providers": shown, "expected_monthly_saving": money(
            sum((r["expected_monthly_saving"] for r in results), Decimal(0)))},
        inputs={"source": "marts.fct_cost_allocations (coverage, utilisation, discount), "
                          "forecast.forecast_export (bands of the eligible compute)"},
        assumptions={"term_months": int(term), "hours_per_month": HOURS_PER_MONTH,
                     "distribution": "forecast bands as quantiles (2.5/10/50/90/97.5 %), "
                                     f"{cm.GRID} levels"},
        formula=["monthly cost(c) = 730 x (c + max(0, u - c / (1 - discount)))",
                 "u = hourly on-demand-equivalent eligible demand (forecast quantiles x "
                 "on_demand_per_effective / 730)",
                 "recommended c = argmin over c of the mean of cost(c) over the term's months "
                 "and the distribution's levels",
                 "check: newsvendor c = (1 - discount) x the pooled demand's discount-quantile",
                 "expected_monthly_saving = expected cost at today's c - at the recommended c"],
        sensitivity={"assumption": "discount (x0.5, as used, x1.5)", "cases": cases},
        notes=notes)
