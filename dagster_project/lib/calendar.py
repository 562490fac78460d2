"""Calendar months and fiscal quarters (calendar quarters), and the UTC clock.

Shared by the forecast, the variance and the report. Months are ``date`` values on the first
of the month; a quarter is written ``2026Q2``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")


def add_months(month: date, n: int) -> date:
    """First day of the month ``n`` months after ``month``."""
    idx = month.year * 12 + month.month - 1 + n
    return date(idx // 12, idx % 12 + 1, 1)


def month_start(value: date | datetime | str) -> date:
    """First day of the month of ``value`` (date, datetime or ISO text)."""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return date(value.year, value.month, 1)


def months_between(first: date, last: date) -> int:
    """Number of months from ``first`` to ``last`` (0 when they are the same month)."""
    return (last.year - first.year) * 12 + last.month - first.month


def parse_quarter(quarter: str) -> tuple[date, date, date]:
    """``'2026Q2'`` -> (first month, second month, third month) of the calendar quarter."""
    m = _QUARTER_RE.match(quarter or "")
    if not m:
        raise ValueError(f"fiscal quarter must look like 2026Q2, got {quarter!r}")
    first = date(int(m.group(1)), 3 * (int(m.group(2)) - 1) + 1, 1)
    return first, add_months(first, 1), add_months(first, 2)


def quarter_of(month: date) -> str:
    """``date(2026, 5, 1)`` -> ``'2026Q2'``."""
    return f"{month.year}Q{(month.month - 1) // 3 + 1}"


def _today() -> date:
    """Current UTC date (a function so tests can monkeypatch the clock here)."""
    return datetime.now(UTC).date()


def last_closed_month() -> date:
    """The most recent month that has ended (billing data of later months is partial)."""
    return add_months(month_start(_today()), -1)


def utcnow() -> datetime:
    """Current UTC time without tzinfo (the warehouse's TIMESTAMP columns are UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)
