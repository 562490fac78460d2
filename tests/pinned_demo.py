"""The figures of the pinned demo (`mlcost demo --end-month 2026-09`) that a refactor must keep
to the cent: cost totals per provider, team, model and workload, FOCUS totals per provider,
forecast points and bands, and the quarterly variance effects.

`python -m tests.pinned_demo WAREHOUSE OUT_DIR` writes them as CSV (the stored copies live in
tests/fixtures/pinned_demo/); `tests/test_pinned_demo.py` rebuilds the demo and compares.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import duckdb

END_MONTH = "2026-09"

# name -> SQL over the warehouse; every amount rounded to the cent, rows in a stable order.
FIGURES = {
    "focus_by_provider": """
        select "ProviderName" as provider, round(sum("BilledCost"), 2) as billed,
               round(sum("EffectiveCost"), 2) as effective, count(*) as rows
        from focus.focus_cost_and_usage group by all order by all""",
    "costs_by_provider": """
        select provider, round(sum(billed_cost), 2) as billed,
               round(sum(effective_cost), 2) as effective
        from marts.fct_cost_allocations group by all order by all""",
    "costs_by_team": """
        select team, round(sum(billed_cost), 2) as billed, round(sum(effective_cost), 2)
               as effective
        from marts.fct_cost_allocations group by all order by all""",
    "costs_by_model": """
        select ml_model, round(sum(billed_cost), 2) as billed,
               round(sum(effective_cost), 2) as effective
        from marts.fct_cost_allocations group by all order by all""",
    "costs_by_workload": """
        select workload, round(sum(billed_cost), 2) as billed,
               round(sum(effective_cost), 2) as effective
        from marts.fct_cost_allocations group by all order by all""",
    "costs_by_month_team_model_workload": """
        select billing_month, team, ml_model, workload, round(sum(effective_cost), 2) as cost
        from marts.fct_costs_monthly group by all order by all""",
    "forecast_points": """
        select s.as_of_month, v.scenario, v.level, v.series_id, v.month,
               round(v.point, 2) as point, round(v.lo_80, 2) as lo_80,
               round(v.hi_80, 2) as hi_80, round(v.lo_95, 2) as lo_95,
               round(v.hi_95, 2) as hi_95
        from forecast.forecast_values v
        join forecast.forecast_snapshots s using (snapshot_id)
        -- total and team only: the finer levels would make this file several MB
        where v.level in ('total', 'team')
        order by all""",
    "variance_effects": """
        select quarter, level, team, workload, ml_model, currency,
               round(actual_cost, 2) as actual, round(forecast_cost, 2) as forecast,
               round(budget_amount, 2) as budget, round(volume_effect, 2) as volume,
               round(mix_effect, 2) as mix, round(price_effect, 2) as price,
               round(new_discontinued_effect, 2) as new_discontinued,
               round(unquantified_effect, 2) as unquantified,
               round(commitment_effect, 2) as commitment
        from variance.quarterly_variance order by all""",
    "idle_waste_by_type": """
        select provider, waste_type, count(*) as findings, round(sum(wasted_cost), 2) as wasted
        from marts.fct_idle_waste group by all order by all""",
}


def figures(warehouse: Path) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, sql in FIGURES.items():
            cur = con.execute(sql)
            header = [d[0] for d in cur.description]
            out[name] = [header] + [["" if v is None else str(v) for v in row]
                                    for row in cur.fetchall()]
    return out


def write(warehouse: Path, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in figures(warehouse).items():
        with open(out_dir / f"{name}.csv", "w", newline="") as fh:
            csv.writer(fh).writerows(rows)


def read(out_dir: Path) -> dict[str, list[list[str]]]:
    out = {}
    for path in sorted(out_dir.glob("*.csv")):
        with open(path, newline="") as fh:
            out[path.stem] = list(csv.reader(fh))
    return out


if __name__ == "__main__":
    write(Path(sys.argv[1]), Path(sys.argv[2]))
