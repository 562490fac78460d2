"""The demo's budgets file (landing/budgets/budgets.csv): one budget per team per quarter, for
every quarter of the window and the next two, set near what the team spends so the budget
burn-down and the variance have something realistic to say (docs/budgets.md).

A budget is the team's expected quarterly spend as the cost mart shows it times the team's
posture. Expected spend: the generator's own per-team cost of the quarter (a quarter the
window only partly covers: its monthly average x 3), times the share of cost the mart's
attribution moves to or from the team (shared-cost splits, tags the attribution cannot
read); a quarter after the window: the last quarter, times how the same two quarters compared
a year earlier (seasonality and growth: last year's Q4 / last year's Q3), else (under a year of
history) the last quarter grown 4% a month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from . import company as C
from .fmt import stable_int

# Budget / expected spend, per team: two under budget (one of them close enough for its
# forecast band to reach the budget), one a few % over, one materially over.
POSTURE = {
    "search-ranking": 1.10,
    "ml-platform": 1.06,
    "fraud-detection": 0.97,
    "recommendations": 0.88,
}
JITTER = 0.01  # +-1% per quarter: budgets are round numbers, not a formula's output
# Mart cost / generator cost per team over the last four quarters of the pinned 36-month
# demo. The generator books each cost to its true team (and the W&B seats and the GCP CUD fee
# as the mart splits them); the mart cannot attribute some of it (an untagged dev box goes to
# `unallocated`), and budgets are set on what finance sees in the mart.
ATTRIBUTION = {
    "search-ranking": 0.92,
    "ml-platform": 0.97,
    "fraud-detection": 0.99,
    "recommendations": 0.96,
}
FUTURE_QUARTERS = 2
HEADER = "fiscal_quarter,team,budget_amount,currency\n"


def quarter_of(d: dt.date) -> tuple[int, int]:
    return d.year, (d.month - 1) // 3 + 1


def next_quarter(q: tuple[int, int], n: int = 1) -> tuple[int, int]:
    i = q[0] * 4 + q[1] - 1 + n
    return i // 4, i % 4 + 1


def expected_spend(monthly: dict[tuple[str, int], float], months: list[dt.date]
                   ) -> dict[tuple[str, tuple[int, int]], float]:
    """(team, quarter) -> expected quarterly spend in the mart, for the window's quarters and
    the next FUTURE_QUARTERS. ``monthly``: (team, month index) -> generator cost."""
    by_q: dict[tuple[str, tuple[int, int]], list[float]] = defaultdict(list)
    for i, m in enumerate(months):
        for team in C.TEAM_NAMES:
            by_q[(team, quarter_of(m))].append(monthly.get((team, i), 0.0))
    out = {k: sum(v) / len(v) * 3 * ATTRIBUTION.get(k[0], 1.0) for k, v in by_q.items()}
    last = quarter_of(months[-1])
    for team in C.TEAM_NAMES:
        now, year_ago = out[(team, last)], out.get((team, next_quarter(last, -4)))
        for k in range(1, FUTURE_QUARTERS + 1):
            q = next_quarter(last, k)
            same_q_last_year = out.get((team, next_quarter(q, -4)))
            if year_ago and same_q_last_year:
                # how quarter q compared with the last quarter a year earlier: its seasonality
                # and k quarters of growth
                out[(team, q)] = now * same_q_last_year / year_ago
            else:  # under a year of history: the last quarter, grown 4% a month
                out[(team, q)] = now * 1.04 ** (3 * k)
    return out


def budget_lines(monthly: dict[tuple[str, int], float], months: list[dt.date], seed: int
                 ) -> list[str]:
    """The CSV lines (without header): quarter, team, amount rounded to 100, currency."""
    rng = np.random.default_rng([seed, stable_int("budgets") % 2**32])
    spend = expected_spend(monthly, months)
    lines = []
    for team in C.TEAM_NAMES:
        for q in sorted(q for t, q in spend if t == team):
            factor = POSTURE.get(team, 1.0) * (1.0 + rng.uniform(-JITTER, JITTER))
            amount = Decimal(repr(spend[(team, q)] * factor)).quantize(
                Decimal("1E2"), ROUND_HALF_UP)
            amount = max(amount, Decimal(100))
            lines.append(f"{q[0]}Q{q[1]},{team},{amount:.2f},{C.CURRENCY}\n")
    return lines
