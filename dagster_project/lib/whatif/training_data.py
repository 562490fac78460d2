"""`whatif double-training-data`: what more training data does to a model's training cost and
to the next 18 months of the forecast.

Training cost scales as factor^E. E is --scaling-exponent when given; else fitted (least
squares of ln cost on ln dataset_rows) over the model's MLflow runs in
marts.fct_training_run_costs when there are at least MIN_RUNS runs with at least two dataset
sizes; else 1.0 (cost proportional to data)."""

from __future__ import annotations

import math
from decimal import Decimal

import duckdb

from dagster_project.exit_codes import MISSING_INPUT, ExitError
from dagster_project.lib.warehouse import table_exists

from .answer import Answer
from .inputs import check_model, money, month_range, monthly_workload_cost, number, positive, ratio

WORKLOAD = "training"
HORIZON = 18
MIN_RUNS = 5
DEFAULT_EXPONENT = Decimal(1)
EXPONENT_RANGE = (0.0, 3.0)  # a fit outside this is noise, not a scaling law
SCENARIOS = ("base", "baseline")


def add_arguments(p) -> None:
    p.add_argument("--model", required=True, help="ML model (as in marts.fct_costs_monthly)")
    p.add_argument("--factor", type=number, default=Decimal(2), metavar="F",
                   help="training data multiplier (> 0; default: 2, i.e. doubled)")
    p.add_argument("--scaling-exponent", type=number, default=None, metavar="E",
                   help="training cost grows as factor^E (>= 0; default: fitted from the "
                   f"model's MLflow runs when it has >= {MIN_RUNS}, else 1.0)")


def fit_exponent(points: list[tuple[float, float]]) -> float | None:
    """Slope of ln(cost) on ln(dataset_rows); None without two distinct sizes."""
    xs = [math.log(r) for r, _ in points]
    ys = [math.log(c) for _, c in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx <= 1e-12:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def runs(con: duckdb.DuckDBPyConnection, model: str, rng) -> tuple[list, int]:
    """(dataset_rows, cost) of the model's runs started up to the range's end (for the fit),
    and the number of runs within the range."""
    if not table_exists(con, "marts", "fct_training_run_costs"):
        return [], 0
    rows = con.execute(
        """select dataset_rows, cost, billing_month >= ? as in_range
           from marts.fct_training_run_costs
           where ml_model = ? and billing_month < ?""", [rng.first, model, rng.end]).fetchall()
    points = [(float(r), float(c)) for r, c, _ in rows if r and c and r > 0 and c > 0]
    return points, sum(1 for *_, inside in rows if inside)


def forecast_training(con: duckdb.DuckDBPyConnection, model: str):
    """(sum of the next HORIZON months' training forecast, months, snapshot, scenario) of the
    latest forecast snapshot's segments of the model, or None."""
    if not table_exists(con, "forecast", "forecast_export"):
        return None
    for scenario in SCENARIOS:
        row = con.execute(
            """with latest as (
                   select snapshot_id from forecast.forecast_export
                   order by as_of_month desc, created_at desc, snapshot_id desc limit 1)
               select v.snapshot_id, sum(v.point), count(distinct v.month), min(v.month),
                      max(v.month)
               from forecast.forecast_export as v inner join latest using (snapshot_id)
               where v.scenario = ? and v.level = 'segment' and v.ml_model = ?
                 and v.workload = ? and v.step between 1 and ?
               group by v.snapshot_id""", [scenario, model, WORKLOAD, HORIZON]).fetchall()
        if row:
            return row[0][1], row[0][2], row[0][0], scenario, row[0][3], row[0][4]
    return None


def answer(con: duckdb.DuckDBPyConnection, opts: dict) -> Answer:
    factor = opts.get("factor")
    factor = positive("--factor", Decimal(2 if factor is None else str(factor)))
    given = opts.get("scaling_exponent")
    if given is not None:
        given = positive("--scaling-exponent", Decimal(str(given)), allow_zero=True)
    model = check_model(con, opts.get("model"))
    rng = month_range(con, opts.get("from"), opts.get("to"))
    total, monthly, currency = monthly_workload_cost(con, model, WORKLOAD, rng)
    if total <= 0:
        raise ExitError(f"model {model!r} has no training cost from {rng.first:%Y-%m} to "
                        f"{rng.last:%Y-%m} in marts.fct_costs_monthly: nothing to scale "
                        "(another --from/--to?).", MISSING_INPUT)
    points, runs_in_range = runs(con, model, rng)
    notes = []
    if given is not None:
        exponent, source = given, "--scaling-exponent"
    else:
        fitted = fit_exponent(points) if len(points) >= MIN_RUNS else None
        if fitted is not None and EXPONENT_RANGE[0] <= fitted <= EXPONENT_RANGE[1]:
            exponent = ratio(fitted, 3)
            source = f"fitted on {len(points)} MLflow runs (ln cost ~ ln dataset_rows)"
        else:
            exponent, source = DEFAULT_EXPONENT, "default (cost proportional to data)"
            notes.append(
                f"fit on {len(points)} runs gave {fitted:.3f}, outside {EXPONENT_RANGE}: not used"
                if fitted is not None else
                f"{len(points)} usable MLflow runs (need {MIN_RUNS} with two dataset sizes): "
                "no fit")
    fc = forecast_training(con, model)
    if fc is None:
        base_18m, basis = monthly * HORIZON, f"run rate x {HORIZON} (no forecast of the model)"
        notes.append("no forecast segment of the model's training in forecast.forecast_export:"
                     " the 18-month figures use the current monthly cost")
    else:
        base_18m = Decimal(fc[0])
        basis = (f"forecast snapshot {fc[2]}, scenario {fc[3]}, {fc[1]} months "
                 f"{fc[4]:%Y-%m}..{fc[5]:%Y-%m}")

    def outcome(e: Decimal) -> dict:
        mult = factor ** e
        return {"cost_multiplier": ratio(mult), "monthly_impact": money(monthly * (mult - 1)),
                "impact_18m": money(base_18m * (mult - 1))}

    main = outcome(exponent)
    mult = factor ** exponent
    res = {"current_monthly_training_cost": money(monthly), "factor": factor,
           "scaling_exponent": exponent, "cost_multiplier": main["cost_multiplier"],
           "new_monthly_training_cost": money(monthly * mult),
           "monthly_impact": main["monthly_impact"],
           "forecast_training_18m": money(base_18m),
           "forecast_training_18m_with_change": money(base_18m * mult),
           "impact_18m": main["impact_18m"], "forecast_basis": basis}
    if runs_in_range:
        per_run = total / runs_in_range
        res |= {"runs_per_month": ratio(Decimal(runs_in_range) / rng.months, 2),
                "cost_per_run": money(per_run), "new_cost_per_run": money(per_run * mult)}
    cases = [{"scaling_exponent": ratio(e, 3), **outcome(e)}
             for e in (exponent / 2, exponent, exponent * Decimal("1.5"))]
    return Answer(
        "double-training-data", {"model": model, **rng.header(), "currency": currency}, res,
        inputs={"training_cost_in_range": money(total), "runs_in_range": runs_in_range,
                "runs_for_fit": len(points),
                "source": "marts.fct_costs_monthly (workload training), "
                          "marts.fct_training_run_costs, forecast.forecast_export"},
        assumptions={"factor": factor, "scaling_exponent": exponent, "exponent_source": source},
        formula=["cost_multiplier = factor ^ scaling_exponent",
                 f"current_monthly_training_cost = training cost / {rng.months} months",
                 "monthly_impact = current_monthly_training_cost x (cost_multiplier - 1)",
                 "impact_18m = forecast training cost of the next 18 months x "
                 "(cost_multiplier - 1)"],
        sensitivity={"assumption": "scaling_exponent (x0.5, as used, x1.5)", "cases": cases},
        notes=notes)
