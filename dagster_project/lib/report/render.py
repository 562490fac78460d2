"""The review pack's HTML: the quarter's calendar (marts.dim_calendar, the one owner of
"complete quarter" and "months with data"), every section's context in the fixed order, and
the Jinja template (autoescape on: every value from the warehouse is escaped).

Read-only: nothing here writes to the warehouse.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from dagster_project.lib.warehouse import table_exists

from .formatting import FILTERS
from .sections import bridge, commentary, data_quality, forecasting, headline, operations
from .sections.base import Section

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE = "review_pack.html.j2"
# The sections, in the order of the issue (#17), with their stable anchors.
ANCHORS = ("headline", "bridge", "drivers", "commentary", "accuracy", "outlook", "anomalies",
           "waste", "unit-costs", "data-quality")


def quarter_calendar(con: duckdb.DuckDBPyConnection, quarter: str) -> dict[str, Any]:
    """The quarter in marts.dim_calendar: months with cost data, completeness, the last month
    with data in the quarter, and the data's first/last/closed-through months."""
    out: dict[str, Any] = {"months_with_data": 0, "is_complete": False, "data_through": None,
                           "first_month": None, "last_month": None, "closed_through": None}
    if not table_exists(con, "marts", "dim_calendar"):
        return out
    row = con.execute(
        "select count(*) filter (where quarter = $q and has_cost_data), "
        "coalesce(bool_or(is_quarter_complete) filter (where quarter = $q), false), "
        "max(month) filter (where quarter = $q and has_cost_data), min(data_first_month), "
        "max(data_last_month), max(closed_through_month) from marts.dim_calendar",
        {"q": quarter}).fetchall()[0]
    out.update(zip(out, row, strict=True))
    return out


def build_sections(con: duckdb.DuckDBPyConnection, quarter: str, cal: dict[str, Any],
                   notes_path: Path) -> list[Section]:
    sections = [
        headline.build(con, quarter, cal),
        bridge.build_bridge(con, quarter),
        bridge.build_drivers(con, quarter),
        commentary.build(con, quarter, notes_path),
        forecasting.build_accuracy(con, quarter),
        forecasting.build_outlook(con),
        operations.build_anomalies(con, quarter),
        operations.build_savings(con, quarter),
        operations.build_unit_costs(con, quarter),
        data_quality.build(con, quarter, cal),
    ]
    assert tuple(s.anchor for s in sections) == ANCHORS  # the order is a contract
    return sections


def unavailable(sections: list[Section]) -> list[tuple[str, str]]:
    """(anchor, reason) of every part that could not be shown."""
    out = [(s.anchor, s.unavailable) for s in sections if s.unavailable]
    # a part of a section that is missing while the rest is shown
    out += [(s.anchor, s.extra["missing"]) for s in sections if s.extra.get("missing")]
    return out


def report_currency(con: duckdb.DuckDBPyConnection, months: tuple[date, ...]) -> str | None:
    if not table_exists(con, "marts", "fct_costs_monthly"):
        return None
    row = con.execute(
        "select billing_currency from marts.fct_costs_monthly where billing_month in (?, ?, ?) "
        "group by 1 order by sum(effective_cost) desc limit 1", list(months)).fetchall()
    return row[0][0] if row else None


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,  # every data value is escaped, for .j2 templates too
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env


def render_html(con: duckdb.DuckDBPyConnection, quarter: str, months: tuple[date, ...],
                cal: dict[str, Any], notes_path: Path) -> tuple[str, list[Section]]:
    sections = build_sections(con, quarter, cal, notes_path)
    html = _env().get_template(TEMPLATE).render(
        quarter=quarter, months=months, calendar=cal, sections=sections,
        currency=report_currency(con, months) or "USD",
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        preliminary=not cal["is_complete"])
    return html, sections
