"""The demo's budgets file (landing/budgets/budgets.csv): one budget per team per quarter, for
every quarter of the window and the next two, set near what the team spends so the budget
burn-down and the variance have something realistic to say (docs/budgets.md).

A budget is the team's expected quarterly spend as the cost mart shows it times the team's
posture. Expected spend: the generator's own per-team cost of the quarter (a quarter the
window only partly covers: its monthly average x 3), times the share of cost the mart's
attribution moves to or from the team (shared-cost splits, tags the attribution cannot
read); a quarter after the window: the same quarter a year earlier grown by the team's
year-on-year growth (the seasonality stays in), else the last quarter grown 4% a month.
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
    "ml-platform": 1.04,
    "fraud-detection": 0.97,
    "recommendations": 0.88,
}
JITTER = 0.01  # +-1% per quarter: budgets are round numbers, not a formula's output
# Mart cost / generator cost per team, measured on the 36-month demo: the mart splits shared
# costs the generator books to ml-platform (marketplace seats, tax, discounts) across teams.
ATTRIBUTION = {
    "search-ranking": 1.0,
    "ml-platform": 1.0,
    "fraud-detection": 1.0,
    "recommendations": 1.0,
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
        for k in range(1, FUTURE_QUARTERS + 1):
            q = next_quarter(last, k)
            year_ago = next_quarter(q, -4)
            recent = [out.get((team, next_quarter(last, -j))) for j in range(4)]
            before = [out.get((team, next_quarter(last, -4 - j))) for j in range(4)]
            if (team, year_ago) in out and None not in recent + before and sum(before) > 0:
                out[(team, q)] = out[(team, year_ago)] * sum(recent) / sum(before)
            else:  # a short window: the last quarter, grown 4% a month
                out[(team, q)] = out[(team, last)] * 1.04 ** (3 * k)
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
