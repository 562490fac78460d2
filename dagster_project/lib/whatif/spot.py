"""`whatif spot`: expected training cost and time of a model on spot vs on-demand, from the
observed hourly prices of its training instance types (marts.fct_instance_prices).

Work of H instance-hours on spot takes H x (1 + O) / (1 - P x L) instance-hours: O is the
checkpoint overhead (extra compute to write checkpoints), P the interruption rate (share of
instance-hours that end in an interruption), L the work lost per interruption in hours (half
the checkpoint interval: 0.5 with hourly checkpoints); lost work is itself re-run, hence the
geometric 1 / (1 - P x L). Cost = hours x hourly price; wall-clock time scales the same way."""

from __future__ import annotations

from decimal import Decimal

import duckdb

from dagster_project.exit_codes import MISSING_INPUT, USAGE, ExitError
from dagster_project.lib.warehouse import table_exists

from .answer import Answer
from .inputs import (
    check_model,
    fraction,
    money,
    month_range,
    monthly_workload_cost,
    number,
    one_currency,
    positive,
    ratio,
    require_table,
)

DEFAULT_P, DEFAULT_O, DEFAULT_L = Decimal("0.05"), Decimal("0.05"), Decimal("0.5")


def add_arguments(p) -> None:
    p.add_argument("--model", required=True, help="ML model (as in marts.fct_costs_monthly)")
    p.add_argument("--interruption-rate", type=number, default=None, metavar="P",
                   help=f"share of spot instance-hours that end in an interruption, 0..<1 "
                   f"(default: {DEFAULT_P})")
    p.add_argument("--checkpoint-overhead", type=number, default=None, metavar="O",
                   help=f"extra compute spent writing checkpoints, 0..<1 (default: {DEFAULT_O})")
    p.add_argument("--lost-work-hours", type=number, default=None, metavar="L",
                   help=f"work lost per interruption, hours (half the checkpoint interval; "
                   f"default: {DEFAULT_L})")
    p.add_argument("--instance-type", default=None, metavar="TYPE",
                   help="price this instance type (default: the types of the model's MLflow "
                   "runs in marts.fct_training_run_costs)")


def spot_factor(p: Decimal, o: Decimal, lost: Decimal) -> Decimal:
    return (1 + o) / (1 - p * lost)


def run_hours(con, model: str, rng) -> dict[tuple[str, str], tuple[Decimal, int, Decimal]]:
    """(provider, instance_type) -> (instance-hours, runs, run wall-clock hours) of the model's
    MLflow runs started in the range."""
    if not table_exists(con, "marts", "fct_training_run_costs"):
        return {}
    rows = con.execute(
        """select provider, instance_type, sum(run_hours * coalesce(instance_count, 1)),
                  count(*), sum(run_hours)
           from marts.fct_training_run_costs
           where ml_model = ? and billing_month >= ? and billing_month < ?
             and instance_type is not null and run_hours > 0
           group by all""", [model, rng.first, rng.end]).fetchall()
    return {(p, t): (Decimal(h), n, Decimal(w)) for p, t, h, n, w in rows}


def prices(con, instance_type: str, rng) -> dict[tuple[str, str], tuple[Decimal, str, str]]:
    """(provider, pricing_category) -> (hourly price, currency, basis) of an instance type:
    over the range, from its training rows when there are any, else every workload's; a price
    never observed in the range is taken from all months of data (the basis says which)."""
    out: dict = {}
    for in_range, training_only in ((True, True), (True, False), (False, True), (False, False)):
        for prov, cat, cur, cost, hours in con.execute(
                """select provider, pricing_category, billing_currency, sum(cost),
                          sum(usage_hours)
                   from marts.fct_instance_prices
                   where instance_type = ? and pricing_category in ('on_demand', 'spot')
                     and usage_hours > 0 and (not ? or workload = 'training')
                     and (not ? or (billing_month >= ? and billing_month < ?))
                   group by all""",
                [instance_type, training_only, in_range, rng.first, rng.end]).fetchall():
            basis = (f"{'range' if in_range else 'all months'}, "
                     f"{'training' if training_only else 'all workloads'}")
            out.setdefault((prov, cat), (Decimal(cost) / Decimal(hours), cur, basis))
    return out


def answer(con: duckdb.DuckDBPyConnection, opts: dict) -> Answer:
    p = fraction("--interruption-rate", opts.get("interruption_rate"))
    o = fraction("--checkpoint-overhead", opts.get("checkpoint_overhead"))
    lost = positive("--lost-work-hours", opts.get("lost_work_hours"))
    p = DEFAULT_P if p is None else Decimal(str(p))
    o = DEFAULT_O if o is None else Decimal(str(o))
    lost = DEFAULT_L if lost is None else Decimal(str(lost))
    if p * lost >= 1:
        raise ExitError(f"--interruption-rate {p} x --lost-work-hours {lost} >= 1: every hour "
                        "would lose more work than it does; the job never finishes.", USAGE)
    model = check_model(con, opts.get("model"))
    rng = month_range(con, opts.get("from"), opts.get("to"))
    require_table(con, "marts", "fct_instance_prices", "spot and on-demand prices come from it")
    usage = run_hours(con, model, rng)
    notes: list[str] = []
    if opts.get("instance_type"):
        usage = {k: v for k, v in usage.items() if k[1] == opts["instance_type"]} or {
            (None, opts["instance_type"]): None}
    if not usage:
        raise ExitError(f"model {model!r} has no MLflow training runs with an instance type from "
                        f"{rng.first:%Y-%m} to {rng.last:%Y-%m} in marts.fct_training_run_costs; "
                        "pass --instance-type to price one.", MISSING_INPUT)
    total, monthly_cost, _ = monthly_workload_cost(con, model, "training", rng)
    lines, currencies = [], set()
    factor = spot_factor(p, o, lost)
    for (prov, itype), used in sorted(usage.items(), key=lambda kv: str(kv[0])):
        found = prices(con, itype, rng)
        provs = [prov] if prov else sorted({k[0] for k in found})
        if not provs:
            notes.append(f"{itype}: no observed price in marts.fct_instance_prices")
        for pv in provs:
            od, sp = found.get((pv, "on_demand")), found.get((pv, "spot"))
            if od is None or sp is None:
                notes.append(f"{pv or '?'} {itype}: no observed "
                             f"{'on-demand' if od is None else 'spot'} price in any month")
                continue
            if used is not None:
                hours, n_runs, wall = used[0] / rng.months, used[1], used[2] / used[1]
                basis = "MLflow runs"
            else:  # no runs: the training cost bought this many on-demand hours
                hours, n_runs, wall, basis = monthly_cost / od[0], 0, None, "training cost / price"
            currencies.update({od[1], sp[1]})
            lines.append({"provider": pv, "instance_type": itype, "hours_basis": basis,
                          "instance_hours_per_month": ratio(hours, 2),
                          "on_demand_hourly": ratio(od[0], 6), "spot_hourly": ratio(sp[0], 6),
                          "price_basis": f"on-demand: {od[2]}; spot: {sp[2]}",
                          "_h": hours, "_od": od[0], "_sp": sp[0], "_wall": wall,
                          "runs": n_runs})
    if not lines:
        raise ExitError(f"model {model!r}: no instance type with both an on-demand and a spot "
                        f"price in marts.fct_instance_prices from {rng.first:%Y-%m} to "
                        f"{rng.last:%Y-%m} ({'; '.join(notes)}).", MISSING_INPUT)
    cur = one_currency(currencies, f"{model}'s instance prices")

    def totals(f: Decimal) -> dict:
        od = sum((ln["_h"] * ln["_od"] for ln in lines), Decimal(0))
        sp = sum((ln["_h"] * f * ln["_sp"] for ln in lines), Decimal(0))
        return {"on_demand_monthly_cost": money(od), "spot_expected_monthly_cost": money(sp),
                "expected_monthly_saving": money(od - sp)}

    walls = [ln["_wall"] for ln in lines if ln["_wall"] is not None]
    res = totals(factor) | {"expected_time_factor": ratio(factor)}
    if walls:
        avg = sum(walls, Decimal(0)) / len(walls)
        res |= {"on_demand_run_hours": ratio(avg, 2), "spot_expected_run_hours":
                ratio(avg * factor, 2)}
    cases = [{"interruption_rate": ratio(q, 4), "expected_time_factor":
              ratio(spot_factor(q, o, lost)), **totals(spot_factor(q, o, lost))}
             for q in (p / 2, p, min(p * Decimal("1.5"), (1 / lost) - Decimal("0.0001")))]
    return Answer(
        "spot", {"model": model, **rng.header(), "currency": cur}, res,
        inputs={"instance_types": [{k: v for k, v in ln.items() if not k.startswith("_")}
                                   for ln in lines],
                "training_cost_in_range": money(total),
                "training_cost_per_month": money(monthly_cost),
                "source": "marts.fct_instance_prices (observed hourly prices), "
                          "marts.fct_training_run_costs (instance-hours)"},
        assumptions={"interruption_rate": p, "checkpoint_overhead": o, "lost_work_hours": lost},
        formula=["expected_time_factor = (1 + checkpoint_overhead) / "
                 "(1 - interruption_rate x lost_work_hours)",
                 "on_demand_monthly_cost = instance-hours per month x on-demand hourly price",
                 "spot_expected_monthly_cost = instance-hours per month x expected_time_factor "
                 "x spot hourly price",
                 "spot_expected_run_hours = on_demand_run_hours x expected_time_factor"],
        sensitivity={"assumption": "interruption_rate (x0.5, as used, x1.5)", "cases": cases},
        notes=notes)
