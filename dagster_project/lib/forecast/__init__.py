"""Monthly ML cost forecasts stored as immutable, lockable snapshots.

Input is ``marts.fct_costs_monthly`` (see docs/architecture.md). Effective (amortized) cost is
forecast per series at four levels -- ``total``, ``team``, ``team_workload`` and
``team_model`` -- with a small statsforecast model set chosen per series by a rolling-origin
backtest. The level forecasts are reconciled top-down so that they add up, and a fifth
``segment`` level (team x workload x ml_model x provider x service x pricing unit) carries the
plan cost and plan quantity used by the quarterly price/volume/mix variance.

Results are written to the ``forecast`` schema:

* ``forecast_snapshots`` -- one row per snapshot, append-only;
* ``forecast_values``    -- forecast rows of a snapshot (money as DECIMAL(38,6));
* ``backtest_metrics``   -- per series and candidate model backtest metrics;
* ``forecast_runs``      -- a log of every call, including ``skipped`` runs and why;
* ``forecast_locks``     -- which snapshot is the locked plan of a fiscal quarter.

A snapshot is identified by (as_of_month, method, params hash, data fingerprint); running again
on the same inputs reuses it, different data creates a new one, and no existing row is ever
updated or deleted. See docs/forecasting.md.

Modules: ``config`` (constants, ``ForecastConfig``), ``history`` (input from the mart),
``models``/``backtest``/``intervals``/``series`` (per-series model selection and fits),
``hierarchy`` (reconciliation), ``scenarios``, ``values`` (output frames), ``snapshots``
(schema, ids, writing, run log), ``locks`` (quarter plans), ``build`` (the orchestration).
This package re-exports the names other modules use as ``fc.<name>``.
"""

from __future__ import annotations

from dagster_project.lib.calendar import (
    add_months,
    last_closed_month,
    month_start,
    parse_quarter,
    quarter_of,
    utcnow,
)
from dagster_project.lib.warehouse import table_exists

from .build import build_forecasts
from .config import (
    BACKTEST_HORIZON,
    BACKTEST_WINDOWS,
    BASELINE,
    CANDIDATE_MODELS,
    DEFAULT_HORIZON,
    INTERVAL_LEVELS,
    LEVELS,
    METHOD,
    MIN_HISTORY_MONTHS,
    MIN_TRAIN_MONTHS,
    PARALLEL_MIN_SERIES,
    SEGMENT_LEVEL,
    ForecastConfig,
)
from .history import History, load_history
from .locks import ensure_locked_forecast, locked_snapshot
from .models import ModelMetrics, SeriesForecast
from .scenarios import Adjustment, Scenario
from .series import forecast_all, forecast_series
from .snapshots import ForecastResult, ensure_schema, skipped_runs

# The per-series fan-out under its historical name (bench/steps.py, tests).
_forecast_all = forecast_all

__all__ = [
    "BACKTEST_HORIZON", "BACKTEST_WINDOWS", "BASELINE", "CANDIDATE_MODELS", "DEFAULT_HORIZON",
    "INTERVAL_LEVELS", "LEVELS", "METHOD", "MIN_HISTORY_MONTHS", "MIN_TRAIN_MONTHS",
    "PARALLEL_MIN_SERIES", "SEGMENT_LEVEL", "Adjustment", "ForecastConfig", "ForecastResult",
    "History", "ModelMetrics", "Scenario", "SeriesForecast", "add_months",
    "build_forecasts", "ensure_locked_forecast", "ensure_schema", "forecast_all",
    "forecast_series", "last_closed_month", "load_history", "locked_snapshot", "month_start",
    "parse_quarter", "quarter_of", "skipped_runs", "table_exists", "utcnow",
]
