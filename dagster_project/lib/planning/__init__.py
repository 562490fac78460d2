"""Planning: the budget burn-down per team per quarter (``planning.budget_burndown``)."""

from .burndown import (
    AT_RISK,
    NO_BUDGET,
    ON_TRACK,
    OVER_BUDGET,
    BurndownRow,
    Inputs,
    MonthForecast,
    Verdict,
    compute,
    judge,
    status_of,
)
from .store import SCHEMA, TABLE, BurndownResult, judged_rows, refresh_burndown

__all__ = [
    "AT_RISK", "NO_BUDGET", "ON_TRACK", "OVER_BUDGET", "SCHEMA", "TABLE", "BurndownResult",
    "BurndownRow", "Inputs", "MonthForecast", "Verdict", "compute", "judge", "judged_rows",
    "refresh_burndown", "status_of",
]
