"""What every section of the review pack is made of: a title, an anchor, its source tables,
tables of rows (each column with a display kind) and charts; or a plain "not available" note.

A section reads published marts only (never computes a figure another module owns) and
returns a `Section`; the template renders every section the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from dagster_project.lib.variance.persistence import read_frame
from dagster_project.lib.warehouse import table_exists

# Why a review mart may be missing: the one hint the "not available" notes give.
REVIEW_MART_WHY = ("`mlcost run` builds the review marts: dbt selector `review`, Dagster "
                   "asset dbt_recommendations_and_review")


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text | money | pct | int | num | date | month | bool | flag


@dataclass
class Table:
    caption: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    row_header: str | None = None  # the key whose cell is the row's <th scope="row">
    note: str | None = None


@dataclass
class Chart:
    title: str
    svg: str  # vl-convert's SVG (text escaped by Vega's renderer); inlined as is
    table: Table  # the chart's numbers, for screen readers and print


@dataclass
class Section:
    anchor: str
    title: str
    sources: list[str] = field(default_factory=list)
    unavailable: str | None = None  # the reason, when the section cannot be shown
    intro: str | None = None
    cards: list[dict[str, Any]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # section-specific template data
    empty: str | None = None  # shown when the mart exists but has no rows for the quarter


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
         ) -> list[dict[str, Any]]:
    """A query's rows as dicts (decimals stay Decimal)."""
    return read_frame(con, sql, params or []).to_dicts()


def columns_of(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    return {r[0] for r in con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ?", [schema, table]).fetchall()}


def not_built(schema: str, table: str, why: str = REVIEW_MART_WHY) -> str:
    return f"not available yet: {schema}.{table} has not been built ({why})"


def missing_reason(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                   needed: tuple[str, ...] = (), why: str = REVIEW_MART_WHY) -> str | None:
    """None when `schema.table` exists with the `needed` columns, else the section's note."""
    if not table_exists(con, schema, table):
        return not_built(schema, table, why)
    lacking = sorted(set(needed) - columns_of(con, schema, table))
    if lacking:
        return (f"not available yet: {schema}.{table} lacks the column(s) "
                f"{', '.join(lacking)} (built by an older version; rerun `mlcost run`)")
    return None


def unavailable(anchor: str, title: str, reason: str, sources: list[str]) -> Section:
    return Section(anchor=anchor, title=title, sources=sources, unavailable=reason)
