"""`whatif batch-vs-realtime`: the monthly request volume at which an always-on endpoint costs
the same as batch inference, today's volume and the recommendation.

endpoint_monthly_cost = instances x hourly_price x 730, where instances = the model's
realtime_inference instance-hours (pricing unit Hours) / the range's hours and hourly_price =
the cost of those compute rows / their hours (marts.fct_cost_allocations). Batch cost per
request = batch_inference cost / (units x 1000) of marts.fct_unit_costs (unit 1k_inferences).
break_even = endpoint_monthly_cost / batch cost per request."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import duckdb

from dagster_project.exit_codes import DATA_ERROR, MISSING_INPUT, ExitError

from .answer import Answer
from .inputs import (
    HOURS_PER_MONTH,
    check_model,
    money,
    month_range,
    number,
    one_currency,
    positive,
    ratio,
    require_table,
)

COMPUTE = ("Compute", "AI and Machine Learning")


def add_arguments(p) -> None:
    p.add_argument("--model", required=True, help="ML model (as in marts.fct_costs_monthly)")
    p.add_argument("--instances", type=number, default=None, metavar="N",
                   help="endpoint instances (default: observed average over the range)")
    p.add_argument("--hourly-price", type=number, default=None, metavar="P",
                   help="price of one endpoint instance-hour (default: observed)")
    p.add_argument("--batch-cost-per-1k", type=number, default=None, metavar="C",
                   help="batch inference cost per 1,000 requests (default: from "
                   "marts.fct_unit_costs)")
    p.add_argument("--requests-per-month", type=number, default=None, metavar="N",
                   help="today's real-time requests per month (default: from "
                   "marts.fct_unit_costs)")


def endpoint(con, model: str, rng) -> tuple[Decimal, Decimal, str | None]:
    """(instance-hours, cost, currency) of the model's realtime_inference compute usage."""
    rows = con.execute(
        """select billing_currency,
                  sum(case when lower(pricing_unit) = 'hours' then pricing_quantity end),
                  sum(effective_cost)
           from marts.fct_cost_allocations
           where ml_model = ? and workload = 'realtime_inference' and charge_category = 'Usage'
             and service_category in (?, ?) and billing_month >= ? and billing_month < ?
           group by billing_currency""", [model, *COMPUTE, rng.first, rng.end]).fetchall()
    cur = one_currency([r[0] for r in rows], f"{model}'s real-time endpoint")
    return (sum((Decimal(r[1] or 0) for r in rows), Decimal(0)),
            sum((Decimal(r[2] or 0) for r in rows), Decimal(0)), cur)


def unit_cost(con, model: str, workload: str, rng) -> tuple[Decimal, Decimal, str | None]:
    """(units of 1k inferences, cost, currency) of the model's workload in fct_unit_costs."""
    rows = con.execute(
        """select billing_currency, sum(units), sum(cost) from marts.fct_unit_costs
           where ml_model = ? and workload = ? and unit = '1k_inferences' and is_available
             and month >= ? and month < ?
           group by billing_currency""", [model, workload, rng.first, rng.end]).fetchall()
    cur = one_currency([r[0] for r in rows], f"{model}'s {workload} unit costs")
    return (sum((Decimal(r[1] or 0) for r in rows), Decimal(0)),
            sum((Decimal(r[2] or 0) for r in rows), Decimal(0)), cur)


def verdict(current: Decimal, break_even: Decimal) -> tuple[str, str]:
    if current < break_even:
        return "batch", (f"today's {current:,.0f} requests/month are below the break-even "
                         f"{break_even:,.0f}: batch scoring them costs less than keeping the "
                         "endpoint on (if the use case tolerates batch latency)")
    return "realtime", (f"today's {current:,.0f} requests/month are at or above the break-even "
                        f"{break_even:,.0f}: the always-on endpoint costs less per request")


def answer(con: duckdb.DuckDBPyConnection, opts: dict) -> Answer:
    def flag(name):
        v = opts.get(name)
        return None if v is None else positive("--" + name.replace("_", "-"), Decimal(str(v)))

    inst_flag, price_flag = flag("instances"), flag("hourly_price")
    batch_flag, req_flag = flag("batch_cost_per_1k"), opts.get("requests_per_month")
    if req_flag is not None:
        req_flag = positive("--requests-per-month", Decimal(str(req_flag)), allow_zero=True)
    model = check_model(con, opts.get("model"))
    rng = month_range(con, opts.get("from"), opts.get("to"))
    require_table(con, "marts", "fct_cost_allocations", "the endpoint's cost comes from it")
    hours, ep_cost, cur = endpoint(con, model, rng)
    if (inst_flag is None or price_flag is None) and hours <= 0:
        raise ExitError(f"model {model!r} has no real-time endpoint instance-hours (workload "
                        f"realtime_inference, pricing unit Hours) from {rng.first:%Y-%m} to "
                        f"{rng.last:%Y-%m} in marts.fct_cost_allocations; pass --instances and "
                        "--hourly-price to price one.", MISSING_INPUT)
    instances = inst_flag if inst_flag is not None else hours / rng.hours
    price = price_flag if price_flag is not None else ep_cost / hours
    need_units = batch_flag is None or req_flag is None
    if need_units:
        require_table(con, "marts", "fct_unit_costs",
                      "batch cost per request and today's volume come from it (or pass "
                      "--batch-cost-per-1k and --requests-per-month)")
    notes = []
    if batch_flag is None:
        b_units, b_cost, b_cur = unit_cost(con, model, "batch_inference", rng)
        if b_units <= 0:
            raise ExitError(f"model {model!r} has no batch inference cost per 1,000 requests "
                            f"from {rng.first:%Y-%m} to {rng.last:%Y-%m} in marts.fct_unit_costs "
                            "(workload batch_inference, unit 1k_inferences, available); pass "
                            "--batch-cost-per-1k to assume one.", MISSING_INPUT)
        per_1k, cur = b_cost / b_units, one_currency([cur, b_cur], f"{model}'s inputs")
    else:
        per_1k = batch_flag
    if req_flag is None:
        r_units, _, _ = unit_cost(con, model, "realtime_inference", rng)
        if r_units <= 0:
            raise ExitError(f"model {model!r} has no real-time request count from "
                            f"{rng.first:%Y-%m} to {rng.last:%Y-%m} in marts.fct_unit_costs "
                            "(workload realtime_inference, unit 1k_inferences); pass "
                            "--requests-per-month.", MISSING_INPUT)
        current = r_units * 1000 / rng.months
    else:
        current = req_flag
    if per_1k <= 0:
        # Credits (free tier, promotions) can bring the batch cost to zero or below: a break-even
        # volume is then undefined, and "batch is free" would not survive the credits ending.
        raise ExitError(f"model {model!r}'s batch inference cost per 1,000 requests from "
                        f"{rng.first:%Y-%m} to {rng.last:%Y-%m} is {per_1k:.6f} (credits cover "
                        "it): no break-even volume exists; pass --batch-cost-per-1k with the "
                        "price after credits.", DATA_ERROR)
    per_request = per_1k / 1000
    monthly = instances * price * HOURS_PER_MONTH

    def break_even(per_req: Decimal) -> Decimal:
        return (monthly / per_req).quantize(Decimal(1), ROUND_HALF_UP)

    be = break_even(per_request)
    rec, why = verdict(current, be)
    cases = []
    for label, k in (("x0.5", Decimal("0.5")), ("as used", Decimal(1)),
                     ("x1.5", Decimal("1.5"))):
        b = break_even(per_request * k)
        cases.append({"batch_cost_per_1k": label, "value": ratio(per_1k * k, 6),
                      "break_even_requests_per_month": b, "recommendation": verdict(current, b)[0]})
    src = lambda given: "flag" if given is not None else "observed"  # noqa: E731
    return Answer(
        "batch-vs-realtime", {"model": model, **rng.header(), "currency": cur},
        {"endpoint_monthly_cost": money(monthly),
         "batch_cost_per_1k_requests": ratio(per_1k, 6),
         "break_even_requests_per_month": be,
         "current_requests_per_month": current.quantize(Decimal(1), ROUND_HALF_UP),
         "batch_cost_of_current_volume": money(current * per_request),
         "recommendation": rec, "why": why},
        inputs={"endpoint_instance_hours": ratio(hours, 2), "endpoint_cost": money(ep_cost),
                "range_hours": rng.hours,
                "source": "marts.fct_cost_allocations (realtime_inference compute usage), "
                          "marts.fct_unit_costs (1k_inferences)"},
        assumptions={"instances": ratio(instances, 3), "instances_source": src(inst_flag),
                     "hourly_price": ratio(price, 6), "hourly_price_source": src(price_flag),
                     "hours_per_month": HOURS_PER_MONTH,
                     "batch_cost_per_1k_source": src(batch_flag),
                     "requests_per_month_source": src(req_flag)},
        formula=["endpoint_monthly_cost = instances x hourly_price x 730 h",
                 "instances = endpoint instance-hours / hours of the range",
                 "hourly_price = endpoint compute cost / endpoint instance-hours",
                 "batch cost per request = batch_inference cost / (1k_inferences units x 1000)",
                 "break_even_requests_per_month = endpoint_monthly_cost / batch cost per request",
                 "recommendation = batch when current_requests_per_month < break-even"],
        sensitivity={"assumption": "batch cost per 1,000 requests (x0.5, as used, x1.5)",
                     "cases": cases},
        notes=notes)
