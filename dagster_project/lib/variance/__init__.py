"""Quarterly variance: actual vs locked forecast vs budget, with price/volume/mix effects.

- ``decomposition``: the pure part -- segments -> five effects -> roll-ups (Decimal-exact);
- ``persistence``: the ``variance`` tables and the reads from the dbt marts and forecast
  tables (DuckDB <-> polars through Arrow);
- ``quarterly``: one quarter end to end (``compute_quarterly_variance``).

Budgets are read from ``marts.fct_budgets`` and "is the quarter complete" from
``marts.dim_calendar``; neither is decided here (docs/variance-and-report.md).
"""

from .decomposition import EFFECTS, Segment, decompose
from .persistence import budgets_for_quarter, complete_quarters, ensure_schema, latest_run
from .quarterly import VarianceResult, compute_quarterly_variance

__all__ = [
    "EFFECTS",
    "Segment",
    "VarianceResult",
    "budgets_for_quarter",
    "complete_quarters",
    "compute_quarterly_variance",
    "decompose",
    "ensure_schema",
    "latest_run",
]
