"""#anomalies (marts.rpt_review_anomalies), #waste: idle waste found and savings estimated /
realised (marts.rpt_review_savings), #unit-costs: unit-cost trends
(marts.rpt_review_unit_costs and the unavailable ones, marts.rpt_review_unit_costs_unavailable)."""

from __future__ import annotations

from decimal import Decimal

import duckdb

from dagster_project.lib.warehouse import table_exists

from .. import charts
from .base import Chart, Column, Section, Table, missing_reason, rows

ANOMALIES = ("marts", "rpt_review_anomalies")
ANOMALIES_NEEDED = ("quarter", "anomaly_id", "provider", "team", "service_name", "start_date",
                    "end_date", "days", "direction", "expected_cost", "actual_cost",
                    "cost_impact", "score", "is_open", "top_resource_id", "billing_currency",
                    "anomaly_rank")
SAVINGS = ("marts", "rpt_review_savings")
SAVINGS_NEEDED = ("quarter", "team", "source", "billing_currency", "items", "waste_found",
                  "estimated_monthly_saving", "realised_monthly_saving", "implemented_items")
UNIT = ("marts", "rpt_review_unit_costs")
UNIT_NEEDED = ("quarter", "ml_model", "team", "workload", "unit", "unit_detail", "units",
               "cost", "cost_per_unit", "billing_currency", "prev_quarter_cost_per_unit",
               "change_pct")
TOP_ANOMALIES = 20
TREND_QUARTERS = 6
TREND_SERIES = 6  # the costliest model x unit series on the chart (all are in the table)


def build_anomalies(con: duckdb.DuckDBPyConnection, quarter: str) -> Section:
    anchor, title, sources = "anomalies", "Anomalies", [".".join(ANOMALIES)]
    why = missing_reason(con, *ANOMALIES, needed=ANOMALIES_NEEDED)
    if why:
        return Section(anchor, title, sources=sources, unavailable=why)
    data = rows(con, "select * from marts.rpt_review_anomalies where quarter = ? "
                "order by anomaly_rank limit ?", [quarter, TOP_ANOMALIES])
    if not data:
        return Section(anchor, title, sources=sources,
                       empty=f"No cost anomaly overlaps {quarter}.")
    cols = [Column("anomaly_rank", "#", "int"), Column("team", "Team"),
            Column("provider", "Provider"), Column("service_name", "Service"),
            Column("start_date", "From", "date"), Column("end_date", "To", "date"),
            Column("days", "Days", "int"), Column("direction", "Direction"),
            Column("expected_cost", "Expected", "money"),
            Column("actual_cost", "Actual", "money"),
            Column("cost_impact", "Impact", "money"), Column("is_open", "Open", "bool"),
            Column("top_resource_id", "Top resource")]
    return Section(anchor, title, sources=sources,
                   intro=f"The {TOP_ANOMALIES} largest anomalies (by absolute impact) whose "
                   "days overlap the quarter.",
                   tables=[Table(f"Anomalies overlapping {quarter}", cols, data,
                                 row_header="anomaly_rank")])


def build_savings(con: duckdb.DuckDBPyConnection, quarter: str) -> Section:
    anchor, title, sources = "waste", "Waste and savings", [".".join(SAVINGS)]
    why = missing_reason(con, *SAVINGS, needed=SAVINGS_NEEDED)
    if why:
        return Section(anchor, title, sources=sources, unavailable=why)
    data = rows(con, "select * from marts.rpt_review_savings where quarter = ? "
                "order by team, source", [quarter])
    if not data:
        return Section(anchor, title, sources=sources,
                       empty=f"No idle waste and no recommendation for {quarter}.")
    cur = data[0]["billing_currency"]

    def total(key: str) -> Decimal:
        return sum((r[key] or Decimal(0) for r in data), Decimal(0))

    cards = [
        {"label": "Idle waste found", "value": total("waste_found"), "kind": "money",
         "id": "waste-found", "note": "idle cost in the quarter"},
        {"label": "Estimated savings", "value": total("estimated_monthly_saving"),
         "kind": "money", "id": "estimated-saving",
         "note": "per month, open recommendations found in the quarter (source month)"},
        {"label": "Realised savings", "value": total("realised_monthly_saving"),
         "kind": "money", "id": "realised-saving",
         "note": "per month, recommendations done in the quarter"},
    ]
    cols = [Column("team", "Team"), Column("source", "Source"), Column("items", "Items", "int"),
            Column("waste_found", "Waste found", "money"),
            Column("estimated_monthly_saving", "Estimated / month", "money"),
            Column("implemented_items", "Implemented", "int"),
            Column("realised_monthly_saving", "Realised / month", "money")]
    return Section(anchor, title, sources=sources, cards=cards,
                   tables=[Table(f"{quarter} by team and source", cols, data,
                                 row_header="team")], extra={"currency": cur})


def build_unit_costs(con: duckdb.DuckDBPyConnection, quarter: str) -> Section:
    anchor, title, sources = "unit-costs", "Unit costs", [".".join(UNIT)]
    why = missing_reason(con, *UNIT, needed=UNIT_NEEDED)
    if why:
        return Section(anchor, title, sources=sources, unavailable=why)
    data = rows(con, "select * from marts.rpt_review_unit_costs where quarter = ? "
                "order by cost desc, ml_model, unit, unit_detail, workload", [quarter])
    missing = []
    if table_exists(con, "marts", "rpt_review_unit_costs_unavailable"):
        sources.append("marts.rpt_review_unit_costs_unavailable")
        missing = rows(con, "select * from marts.rpt_review_unit_costs_unavailable "
                       "where quarter = ? order by ml_model, unit, workload", [quarter])
    if not data and not missing:
        return Section(anchor, title, sources=sources, empty=f"No unit costs for {quarter}.")
    cols = [Column("ml_model", "Model"), Column("team", "Team"), Column("workload", "Workload"),
            Column("unit", "Unit"), Column("unit_detail", "Detail"),
            Column("units", "Units", "num"), Column("cost", "Cost", "money"),
            Column("cost_per_unit", "Cost per unit", "money4"),
            Column("prev_quarter_cost_per_unit", "Previous quarter", "money4"),
            Column("change_pct", "Change", "pct")]
    section = Section(anchor, title, sources=sources,
                      tables=[Table(f"{quarter} cost per unit", cols, data,
                                    row_header="ml_model")])
    if missing:
        section.tables.append(Table(
            "Unit costs that cannot be computed", [
                Column("ml_model", "Model"), Column("unit", "Unit"),
                Column("workload", "Workload"), Column("reason", "Why")], missing,
            row_header="ml_model"))
    top = [(r["ml_model"], r["unit"], r["unit_detail"]) for r in data[:TREND_SERIES]]
    if top:
        history = rows(con, "select quarter, ml_model, unit, unit_detail, billing_currency, "
                       "sum(cost) / nullif(sum(units), 0) as cost_per_unit "
                       "from marts.rpt_review_unit_costs where quarter <= ? "
                       "group by all order by quarter", [quarter])
        keep = set(top)
        quarters = sorted({r["quarter"] for r in history})[-TREND_QUARTERS:]
        series = [dict(r, series=f"{r['ml_model']} per {r['unit']}"
                       + (f" ({r['unit_detail']})" if r["unit_detail"] else ""))
                  for r in history if (r["ml_model"], r["unit"], r["unit_detail"]) in keep
                  and r["quarter"] in quarters]
        if series:
            svg = charts.trend(series, "series", "cost_per_unit", data[0]["billing_currency"])
            section.charts.append(Chart(
                "Cost per unit by quarter (the costliest series)", svg,
                Table("Cost per unit by quarter", [
                    Column("quarter", "Quarter"), Column("series", "Series"),
                    Column("cost_per_unit", "Cost per unit", "money4")], series,
                    row_header="quarter")))
    return section
