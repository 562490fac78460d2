"""#headline: actual / locked forecast / budget for the quarter, per team with materiality and
favourable/unfavourable flags (marts.rpt_review_headline), and the monthly actual against the
locked forecast with its 80% band (marts.fct_costs_monthly, forecast.forecast_values)."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from dagster_project.lib.calendar import add_months, parse_quarter
from dagster_project.lib.warehouse import table_exists

from .. import charts
from ..formatting import money, month_label, pct, typed
from .base import Chart, Column, Section, Table, missing_reason, rows

ANCHOR, TITLE = "headline", "Headline"
MART = ("marts", "rpt_review_headline")
NEEDED = ("quarter", "level", "team", "currency", "actual_cost", "forecast_cost",
          "budget_amount", "variance_vs_forecast", "variance_vs_forecast_pct",
          "variance_vs_budget", "variance_vs_budget_pct", "is_material_vs_forecast",
          "is_material_vs_budget", "forecast_flag", "budget_flag", "materiality_amount",
          "materiality_pct", "snapshot_id")
HISTORY_MONTHS = 9  # months of actuals before the quarter on the chart

TEAM_COLUMNS = [
    Column("team", "Team"), Column("actual_cost", "Actual", "money"),
    Column("forecast_cost", "Locked forecast", "money"),
    Column("variance_vs_forecast", "vs forecast", "money"),
    Column("variance_vs_forecast_pct", "vs forecast %", "pct"),
    Column("forecast_flag", "vs forecast", "flag"),
    Column("is_material_vs_forecast", "Material (forecast)", "bool"),
    Column("budget_amount", "Budget", "money"),
    Column("variance_vs_budget", "vs budget", "money"),
    Column("variance_vs_budget_pct", "vs budget %", "pct"),
    Column("budget_flag", "vs budget", "flag"),
    Column("is_material_vs_budget", "Material (budget)", "bool"),
]


def build(con: duckdb.DuckDBPyConnection, quarter: str, cal: dict[str, Any]) -> Section:
    sources = [".".join(MART), "marts.fct_costs_monthly", "forecast.forecast_values"]
    why = missing_reason(con, *MART, needed=NEEDED)
    if why:
        return Section(ANCHOR, TITLE, sources=sources, unavailable=why)
    data = rows(con, "select * from marts.rpt_review_headline where quarter = ? "
                "order by level, team", [quarter])
    total = next((r for r in data if r["level"] == "total"), None)
    if total is None:
        return Section(ANCHOR, TITLE, sources=sources,
                       empty=f"marts.rpt_review_headline has no row for {quarter}.")
    currency = total["currency"]
    teams = sorted((r for r in data if r["level"] == "team"),
                   key=lambda r: r["actual_cost"] or 0, reverse=True)
    cards = [
        {"label": "Actual", "value": total["actual_cost"], "kind": "money", "id": "actual",
         "note": f"{quarter} effective cost"},
        {"label": "Locked forecast", "value": total["forecast_cost"], "kind": "money",
         "id": "forecast", "note": f"{typed(total['forecast_flag'], 'flag')} "
         f"({pct(total['variance_vs_forecast_pct'])} vs forecast)"},
        {"label": "Budget", "value": total["budget_amount"], "kind": "money", "id": "budget",
         "note": f"{typed(total['budget_flag'], 'flag')} ({pct(total['variance_vs_budget_pct'])} "
         "vs budget)"},
    ]
    section = Section(
        ANCHOR, TITLE, sources=sources, cards=cards,
        intro=(f"Material: |variance| ≥ {money(total['materiality_amount'], currency)} and "
               f"≥ {pct(total['materiality_pct'], signed=False)}; favourable = actual below "
               "the comparison."),
        tables=[Table(f"{quarter} per team: actual vs locked forecast vs budget",
                      TEAM_COLUMNS, teams, row_header="team")],
        extra={"total": total, "currency": currency},
    )
    chart = _monthly_chart(con, quarter, cal, total.get("snapshot_id"), currency)
    if chart:
        section.charts.append(chart)
    return section


def _monthly_chart(con: duckdb.DuckDBPyConnection, quarter: str, cal: dict[str, Any],
                   snapshot_id: str | None, currency: str | None) -> Chart | None:
    months = parse_quarter(quarter)
    if not table_exists(con, "marts", "fct_costs_monthly"):
        return None
    start = add_months(months[0], -HISTORY_MONTHS)
    # only months with cost data (the calendar's has_cost_data): the line stops at the last one
    last = cal.get("data_through") or months[-1]
    actual = con.execute(
        "select billing_month, sum(effective_cost) from marts.fct_costs_monthly "
        "where billing_month >= ? and billing_month <= ? group by 1 order by 1",
        [start, min(last, months[-1])]).fetchall()
    forecast: list[tuple[date, Any, Any, Any]] = []
    if snapshot_id and table_exists(con, "forecast", "forecast_values"):
        forecast = [tuple(r) for r in con.execute(
            "select month, point, lo_80, hi_80 from forecast.forecast_values "
            "where snapshot_id = ? and level = 'total' and month between ? and ? and scenario = "
            "(select case when count(*) > 0 then 'base' else 'baseline' end "
            " from forecast.forecast_values where snapshot_id = ? and scenario = 'base') "
            "order by month", [snapshot_id, months[0], months[-1], snapshot_id]).fetchall()]
    if not actual and not forecast:
        return None
    name = f"Locked forecast {snapshot_id}" if snapshot_id else "Locked forecast"
    svg = charts.actual_vs_forecast(actual, forecast, currency, name)
    by_month: dict[date, dict[str, Any]] = {}
    for m, v in actual:
        by_month.setdefault(m, {"month": m})["actual"] = v
    for m, p, lo, hi in forecast:
        by_month.setdefault(m, {"month": m}).update(forecast=p, lo_80=lo, hi_80=hi)
    table = Table(
        f"Monthly actual vs locked forecast ({month_label(start)} – {month_label(months[-1])})",
        [Column("month", "Month", "month"), Column("actual", "Actual", "money"),
         Column("forecast", "Locked forecast", "money"), Column("lo_80", "80% low", "money"),
         Column("hi_80", "80% high", "money")],
        [by_month[m] for m in sorted(by_month)], row_header="month")
    return Chart("Monthly actual vs locked forecast (80% band)", svg, table)
