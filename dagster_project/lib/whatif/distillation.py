"""`whatif distillation`: is a smaller (distilled) model worth its engineering cost?

current = the model's realtime_inference effective cost per month over the range, as
marts.fct_costs_monthly sums it; new = current / G; saving = current - new;
one-off = H x R + C; break-even = one-off / saving; ROI over N months =
(saving x N - one-off) / one-off."""

from __future__ import annotations

from decimal import Decimal

import duckdb

from dagster_project.exit_codes import MISSING_INPUT, USAGE, ExitError

from .answer import Answer
from .inputs import check_model, money, month_range, monthly_workload_cost, number, positive, ratio

WORKLOAD = "realtime_inference"
ROI_MONTHS = (12, 18)


def add_arguments(p) -> None:
    p.add_argument("--model", required=True, help="ML model (as in marts.fct_costs_monthly)")
    p.add_argument("--throughput-gain", type=number, required=True, metavar="G",
                   help="requests served per unit of compute, new / old (> 1; 3 = three times "
                   "the throughput, a third of the cost)")
    p.add_argument("--engineering-hours", type=number, required=True, metavar="H",
                   help="engineering hours the distillation takes (>= 0)")
    p.add_argument("--hourly-rate", type=number, required=True, metavar="R",
                   help="cost of one engineering hour, in the billing currency (>= 0)")
    p.add_argument("--eval-cost", type=number, default=Decimal(0), metavar="C",
                   help="one-off evaluation cost (training, A/B test), billing currency "
                   "(default: 0)")


def outcome(current: Decimal, gain: Decimal, one_off: Decimal) -> dict:
    """Every result figure for a throughput gain (exact Decimal arithmetic, rounded at the end)."""
    new = current / gain
    saving = current - new
    out = {"new_monthly_cost": money(new), "monthly_saving": money(saving)}
    out["months_to_break_even"] = (ratio(one_off / saving, 2) if saving > 0 else None)
    for n in ROI_MONTHS:
        out[f"roi_{n}m"] = ratio((saving * n - one_off) / one_off) if one_off > 0 else None
    return out


def answer(con: duckdb.DuckDBPyConnection, opts: dict) -> Answer:
    gain = Decimal(str(opts["throughput_gain"]))
    if gain <= 1:
        raise ExitError(f"--throughput-gain {gain}: must be greater than 1 (the distilled model "
                        "serves more requests per unit of compute; 1 saves nothing).", USAGE)
    hours = positive("--engineering-hours", Decimal(str(opts["engineering_hours"])),
                     allow_zero=True)
    rate = positive("--hourly-rate", Decimal(str(opts["hourly_rate"])), allow_zero=True)
    eval_cost = positive("--eval-cost", Decimal(str(opts.get("eval_cost") or 0)),
                         allow_zero=True)
    model = check_model(con, opts.get("model"))
    rng = month_range(con, opts.get("from"), opts.get("to"))
    total, current, currency = monthly_workload_cost(con, model, WORKLOAD, rng)
    if total <= 0:
        raise ExitError(f"model {model!r} has no {WORKLOAD} cost from {rng.first:%Y-%m} to "
                        f"{rng.last:%Y-%m} in marts.fct_costs_monthly: there is no serving cost "
                        "to distil (another --from/--to?).", MISSING_INPUT)
    one_off = hours * rate + eval_cost
    res = {"current_monthly_cost": money(current), **outcome(current, gain, one_off),
           "one_off_cost": money(one_off)}
    # key order of the example
    res = {k: res[k] for k in ("current_monthly_cost", "new_monthly_cost", "monthly_saving",
                               "one_off_cost", "months_to_break_even", "roi_12m", "roi_18m")}
    cases = []
    for label, g in (("x0.5", 1 + (gain - 1) / 2), ("as given", gain),
                     ("x1.5", 1 + (gain - 1) * Decimal("1.5"))):
        o = outcome(current, g, one_off)
        cases.append({"speed-up": label, "throughput_gain": ratio(g, 3),
                      "monthly_saving": o["monthly_saving"],
                      "months_to_break_even": o["months_to_break_even"],
                      "roi_12m": o["roi_12m"]})
    return Answer(
        "distillation",
        {"model": model, **rng.header(), "currency": currency},
        res,
        inputs={"realtime_inference_cost_in_range": money(total),
                "source": "marts.fct_costs_monthly (effective_cost, workload realtime_inference)"},
        assumptions={"throughput_gain": gain, "engineering_hours": hours, "hourly_rate": rate,
                     "eval_cost": eval_cost},
        formula=[f"current_monthly_cost = realtime_inference cost / {rng.months} months",
                 "new_monthly_cost = current_monthly_cost / throughput_gain",
                 "monthly_saving = current_monthly_cost - new_monthly_cost",
                 "one_off_cost = engineering_hours x hourly_rate + eval_cost",
                 "months_to_break_even = one_off_cost / monthly_saving",
                 "roi_Nm = (monthly_saving x N - one_off_cost) / one_off_cost (N = 12, 18)"],
        sensitivity={"assumption": "throughput_gain (its speed-up G - 1 at x0.5 and x1.5)",
                     "cases": cases},
        notes=[] if one_off > 0 else ["one_off_cost is 0: ROI is undefined (null)."],
    )
