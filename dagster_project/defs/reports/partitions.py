"""Calendar quarters, the partitions of the quarterly review pack (keys read ``2026Q3``).

A static list computed when the definitions load: Dagster's time-window partitions take their
keys from a strftime format, which has no quarter directive, and keys like ``2026-07`` would
not say what they are. The list runs from the quarter of the first billing period
(``settings.first_billing_period()``) to the running quarter (UTC clock); a code location
loaded before a quarter began learns the new quarter at its next reload (the schedules say so
rather than request an unknown partition).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg

from dagster_project import settings
from dagster_project.lib.calendar import add_months, month_start, parse_quarter, quarter_of

# Days at the start of a quarter during which the daily preliminary run re-renders the quarter
# just closed (its last days' billing data still arrive) instead of the new, nearly empty one;
# the final after-close run is on day CLOSE_DAY.
CLOSE_DAY = 5


def quarter_keys(first_period: str, today: date) -> list[str]:
    """Every quarter from the one holding ``first_period`` (``YYYY-MM``) to today's, in order."""
    try:
        first = month_start(f"{first_period[:7]}-01")
    except ValueError:
        raise ValueError(f"MLCOST_FIRST_BILLING_PERIOD must look like 2015-01, got "
                         f"{first_period!r}") from None
    first = parse_quarter(quarter_of(first))[0]
    last = parse_quarter(quarter_of(month_start(today)))[0]
    keys = []
    while first <= last:
        keys.append(quarter_of(first))
        first = add_months(first, 3)
    return keys


def running_quarter(at: datetime | date) -> str:
    """The quarter ``at`` falls in."""
    return quarter_of(month_start(at))


def closed_quarter(at: datetime | date) -> str:
    """The last quarter that ended before ``at``."""
    first = parse_quarter(running_quarter(at))[0]
    return quarter_of(add_months(first, -1))


def preliminary_quarter(at: datetime | date) -> str:
    """The quarter the daily preliminary run renders at ``at``: the running quarter, except
    before day CLOSE_DAY of a quarter's first month, when it is the quarter just closed."""
    day = at.date() if isinstance(at, datetime) else at
    if day.month in (1, 4, 7, 10) and day.day < CLOSE_DAY:
        return closed_quarter(day)
    return running_quarter(day)


def _today_utc() -> date:
    return datetime.now(UTC).date()


review_quarters = dg.StaticPartitionsDefinition(
    quarter_keys(settings.first_billing_period(), _today_utc()))

