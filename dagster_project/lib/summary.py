"""The short summary `mlcost demo` prints: last full quarter by provider and team."""

from __future__ import annotations

import shlex
from decimal import Decimal
from pathlib import Path

from .warehouse import connection, table_exists


def _money(v: Decimal | None) -> str:
    return f"{(v or Decimal(0)):>14,.2f}"


def print_summary(warehouse: Path, reports_dir: Path, *, elapsed: float | None = None) -> None:
    with connection(warehouse, read_only=True) as con:
        if not table_exists(con, "marts", "fct_costs_monthly"):
            print("No cost mart yet: nothing to summarise.")
            return
        # The complete-quarter rule is dim_calendar's (all three months have data and closed).
        row = None
        if table_exists(con, "marts", "dim_calendar"):
            row = con.execute(
                """select quarter from marts.dim_calendar
                   where is_quarter_complete order by quarter_start desc limit 1"""
            ).fetchone()
        if not row:
            print("No complete quarter in the data yet.")
            return
        q = row[0]
        params = [q]
        by_provider = con.execute(
            """select provider, billing_currency, sum(effective_cost), sum(billed_cost)
               from marts.fct_costs_monthly
               where billing_month in (select month from marts.dim_calendar where quarter = ?)
               group by all order by 3 desc""", params).fetchall()
        by_team = con.execute(
            """select team, billing_currency, sum(effective_cost), sum(billed_cost)
               from marts.fct_costs_monthly
               where billing_month in (select month from marts.dim_calendar where quarter = ?)
               group by all order by 3 desc""", params).fetchall()
    print(f"\nmlcost — last full quarter {q} (amortized = EffectiveCost, invoiced = BilledCost)")
    print(f"  {'provider':<20}{'cur':<5}{'amortized':>14}{'invoiced':>16}")
    for name, cur, eff, billed in by_provider:
        print(f"  {name:<20}{cur:<5}{_money(eff)}  {_money(billed)}")
    print(f"  {'team':<20}{'cur':<5}{'amortized':>14}{'invoiced':>16}")
    for name, cur, eff, billed in by_team:
        print(f"  {name:<20}{cur:<5}{_money(eff)}  {_money(billed)}")
    report = reports_dir / q / "report.html"  # the review pack (lib/report/pack.py)
    print(f"\nReport: {report if report.exists() else '(not written: see the run log)'}")
    if report.with_suffix(".pdf").exists():
        print(f"        {report.with_suffix('.pdf')}")
    print(f"Warehouse: {warehouse}")
    wh = shlex.quote(str(warehouse))
    print(f"  list it:  mlcost tables --warehouse {wh}")
    print(f'  query it: mlcost sql "from marts.fct_costs_monthly limit 10" --warehouse {wh}')
    if elapsed is not None:
        print(f"Done in {elapsed:.0f}s.")
