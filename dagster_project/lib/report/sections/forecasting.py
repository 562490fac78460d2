"""#accuracy: the locked snapshots' track record by horizon (marts.rpt_review_accuracy) and
#outlook: the latest snapshot's 18-month fan chart (marts.rpt_review_outlook)."""

from __future__ import annotations

import duckdb

from dagster_project.lib.calendar import parse_quarter

from .. import charts
from .backtest import backtest
from .base import Chart, Column, Section, Table, missing_reason, rows

ACCURACY = ("marts", "rpt_review_accuracy")
ACCURACY_NEEDED = ("level", "horizon", "quarter_scope", "n_points", "wape", "bias_pct",
                   "coverage_80", "coverage_95", "snapshots")
OUTLOOK = ("marts", "rpt_review_outlook")
OUTLOOK_NEEDED = ("snapshot_id", "as_of_month", "scenario", "month", "point", "lo_80",
                  "hi_80", "lo_95", "hi_95", "currency")


def build_accuracy(con: duckdb.DuckDBPyConnection, quarter: str) -> Section:
    section = _track_record(con, quarter)
    text, table = backtest(con, parse_quarter(quarter)[-1])
    if table is not None:  # the latest snapshot's out-of-sample backtest, beside the record
        if section.unavailable:  # keep the backtest visible; the mart's absence is a note
            section.extra["missing"], section.unavailable = section.unavailable, None
        section.sources.append("forecast.backtest_accuracy")
        section.extra["after"] = text
        section.tables.append(table)
    return section


def _track_record(con: duckdb.DuckDBPyConnection, quarter: str) -> Section:
    anchor, title, sources = "accuracy", "Forecast accuracy", [".".join(ACCURACY)]
    why = missing_reason(con, *ACCURACY, needed=ACCURACY_NEEDED)
    if why:
        return Section(anchor, title, sources=sources, unavailable=why)
    data = rows(con, "select * from marts.rpt_review_accuracy where quarter_scope in ('all', ?) "
                "order by quarter_scope, level, horizon", [quarter])
    overall = [r for r in data if r["quarter_scope"] == "all"]
    this_q = [r for r in data if r["quarter_scope"] == quarter]
    if not overall:
        return Section(anchor, title, sources=sources,
                       empty="No locked snapshot has been scored against actuals yet.")
    cols = [Column("level", "Level"), Column("horizon", "Months ahead", "int"),
            Column("n_points", "Points", "int"), Column("snapshots", "Snapshots", "int"),
            Column("wape", "WAPE", "pct0"), Column("bias_pct", "Bias", "pct"),
            Column("coverage_80", "Inside 80% band", "pct0"),
            Column("coverage_95", "Inside 95% band", "pct0")]
    tables = [Table("All locked snapshots: accuracy by horizon", cols, overall,
                    row_header="horizon")]
    if this_q:
        tables.append(Table(f"Months of {quarter} only", cols, this_q, row_header="horizon"))
    svg = charts.accuracy_by_horizon(overall)
    return Section(
        anchor, title, sources=sources,
        intro="WAPE = sum |actual − forecast| / sum actual (%); bias > 0: forecasts above "
              "actuals; coverage: share of actual months inside the band.",
        charts=[Chart("WAPE by months ahead (all locked snapshots)", svg, tables[0])],
        tables=tables[1:])


def build_outlook(con: duckdb.DuckDBPyConnection) -> Section:
    anchor, title, sources = "outlook", "18-month outlook", [".".join(OUTLOOK)]
    why = missing_reason(con, *OUTLOOK, needed=OUTLOOK_NEEDED)
    if why:
        return Section(anchor, title, sources=sources, unavailable=why)
    data = rows(con, "select * from marts.rpt_review_outlook order by month, scenario")
    if not data:
        return Section(anchor, title, sources=sources, empty="No forecast snapshot yet.")
    snap = next((r for r in data if r["scenario"] != "actual"), data[0])
    cur = snap["currency"]
    svg = charts.fan_chart(data, cur)
    cols = [Column("month", "Month", "month"), Column("scenario", "Scenario"),
            Column("point", "Cost", "money"), Column("lo_80", "80% low", "money"),
            Column("hi_80", "80% high", "money"), Column("lo_95", "95% low", "money"),
            Column("hi_95", "95% high", "money")]
    table = Table("Outlook by month and scenario (actual = the 12 months before)", cols, data,
                  row_header="month")
    return Section(
        anchor, title, sources=sources,
        intro=f"Latest snapshot {snap['snapshot_id']} (actuals through "
              f"{snap['as_of_month']:%b %Y}): base, best and worst cases; the bands are the "
              "base case's 80% and 95% intervals.",
        charts=[Chart("Outlook fan chart", svg, table)], extra={"currency": cur})
