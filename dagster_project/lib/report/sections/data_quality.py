"""#data-quality: the quarter's checks (marts.rpt_review_data_quality: attribution coverage,
reconciliation, held-back slices, quarantined files, late and re-delivered months), with the
attribution split per provider (marts.rpt_attribution_coverage) and the data's freshness
(marts.dim_calendar, meta.deliveries, meta.load_ledger) when those tables exist."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb

from dagster_project.lib.calendar import parse_quarter
from dagster_project.lib.warehouse import table_exists

from ..formatting import month_label
from .base import Column, Section, Table, columns_of, missing_reason, rows

MART = ("marts", "rpt_review_data_quality")
NEEDED = ("quarter", "provider", "check_name", "status", "value", "unit", "detail",
          "checked_rows")

# Column order of the coverage query below.
COVERAGE_METHODS = ["Tags", "Account map", "Resource rule", "Shared split", "Unallocated"]
COVERAGE_SQL = """SELECT provider, billing_currency, sum(total_effective_cost),
                  sum(tag_cost + tag_alias_cost), sum(account_map_cost),
                  sum(resource_rule_cost), sum(shared_split_cost), sum(unallocated_cost)
            FROM marts.rpt_attribution_coverage
            WHERE billing_month IN (?, ?, ?)
            GROUP BY ALL ORDER BY 3 DESC"""
# "Tags" with the tags naming unregistered teams (open world, docs/attribution.md).
COVERAGE_SQL_OPEN_WORLD = COVERAGE_SQL.replace(
    "tag_cost + tag_alias_cost", "tag_cost + tag_alias_cost + tag_unregistered_cost")
COVERAGE_NEEDED = {"tag_cost", "tag_alias_cost", "account_map_cost", "resource_rule_cost",
                   "shared_split_cost", "unallocated_cost", "total_effective_cost",
                   "billing_month", "provider", "billing_currency"}


def build(con: duckdb.DuckDBPyConnection, quarter: str, cal: dict[str, Any]) -> Section:
    section = Section("data-quality", "Data quality", sources=[".".join(MART)])
    why = missing_reason(con, *MART, needed=NEEDED)
    if why:
        section.extra["missing"] = why
    else:
        checks = rows(con, "select * from marts.rpt_review_data_quality where quarter = ? "
                      "order by case status when 'fail' then 0 when 'warn' then 1 else 2 end, "
                      "check_name, provider", [quarter])
        cols = [Column("check_name", "Check"), Column("provider", "Provider"),
                Column("status", "Status", "status"), Column("value", "Value", "dq_value"),
                Column("checked_rows", "Rows checked", "int"), Column("detail", "Detail")]
        section.tables.append(Table(f"{quarter} data-quality checks", cols, checks,
                                    row_header="check_name"))
        if not checks:
            section.empty = f"marts.rpt_review_data_quality has no row for {quarter}."
    coverage = coverage_summary(con, parse_quarter(quarter))
    if coverage:
        section.sources.append("marts.rpt_attribution_coverage")
        section.tables.append(coverage)
    section.extra["freshness"], providers = freshness(con, cal)
    if providers:
        section.sources.append("meta.deliveries")
        section.tables.append(Table("Latest delivery per provider", [
            Column("provider", "Provider"), Column("latest_period", "Latest billing period"),
            Column("last_loaded", "Last loaded (UTC)", "datetime")], providers,
            row_header="provider"))
    return section


def coverage_summary(con: duckdb.DuckDBPyConnection, months: tuple) -> Table | None:
    """The quarter per provider: the share of effective cost each attribution method explains.
    "Tags" includes tags naming unregistered teams (open world) where the mart has them."""
    if not table_exists(con, "marts", "rpt_attribution_coverage"):
        return None
    cols = columns_of(con, "marts", "rpt_attribution_coverage")
    if not COVERAGE_NEEDED <= cols:
        return None
    sql = COVERAGE_SQL_OPEN_WORLD if "tag_unregistered_cost" in cols else COVERAGE_SQL
    out = []
    for provider, currency, total, *parts in con.execute(sql, list(months)).fetchall():
        row: dict[str, Any] = {"provider": provider, "currency": currency, "total": total}
        for name, part in zip(COVERAGE_METHODS, parts, strict=True):
            row[name] = pct_of(part, total)
        row["covered"] = pct_of(total - (parts[-1] or Decimal(0)), total)
        out.append(row)
    return Table("Attribution coverage: share of the quarter's effective cost by how its team "
                 "was found", [Column("provider", "Provider"),
                               Column("total", "Effective cost", "money"),
                               *(Column(m, m, "pct0") for m in COVERAGE_METHODS),
                               Column("covered", "Attributed", "pct0")], out,
                 row_header="provider")


def pct_of(part: Decimal | None, total: Decimal | None) -> Decimal | None:
    if part is None or not total:
        return None
    return (Decimal(part) * 100 / Decimal(total)).quantize(Decimal("0.1"))


def freshness(con: duckdb.DuckDBPyConnection, cal: dict[str, Any]
              ) -> tuple[list[tuple[str, str]], list[dict]]:
    items = [("Actuals since", month_label(cal.get("first_month"))),
             ("Actuals through (billing month)", month_label(cal.get("last_month"))),
             ("Last closed calendar month", month_label(cal.get("closed_through")))]
    providers: list[dict] = []
    if table_exists(con, "meta", "deliveries"):
        try:
            providers = rows(con, "select provider, max(billing_period) as latest_period, "
                             "max(loaded_at) as last_loaded from meta.deliveries "
                             "where is_current group by provider order by provider")
        except duckdb.Error:  # an older meta.deliveries without these columns
            providers = []
    if table_exists(con, "meta", "load_ledger"):
        try:
            last, loaded, quarantined = con.execute(
                "select max(loaded_at), count(*) filter (where status = 'loaded'), "
                "count(*) filter (where status = 'quarantined') from meta.load_ledger"
            ).fetchall()[0]
            items.append(("Last file loaded at (UTC)",
                          f"{last:%Y-%m-%d %H:%M}" if last else "\u2014"))
            items.append(("Files loaded / quarantined", f"{loaded:,} / {quarantined:,}"))
        except duckdb.Error:
            pass
    return items, providers
