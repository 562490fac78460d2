"""Forecast settings: the method's constants and the per-run configuration object."""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass
from datetime import date

from dagster_project.lib.calendar import add_months

# statsforecast itself is imported lazily (it takes seconds); its version is part of METHOD.
METHOD = f"mlcost-forecast/v2 statsforecast-{importlib.metadata.version('statsforecast')}"
MIN_HISTORY_MONTHS = 3
DEFAULT_HORIZON = 18
BACKTEST_HORIZON = 3
BACKTEST_WINDOWS = 3
MIN_TRAIN_MONTHS = 6
SEASON_LENGTH = 12
SEASONAL_STRENGTH_MIN = 0.3
# A series estimates its own yearly profile from this many months; shorter ones borrow it.
SEASONAL_MIN_MONTHS = 24
# history_class: ``full`` >= HISTORY_FULL_MONTHS, ``short`` >= HISTORY_SHORT_MONTHS, else ``new``.
HISTORY_FULL_MONTHS = 24
HISTORY_SHORT_MONTHS = 6
# Calibration (see calibration.py): rolling origins per series (more for levels with few
# series, so that each level pools about CAL_TARGET_ERRORS step-1 errors), the fewest
# training months of an origin (shorter fits err more than the live forecast will), the
# longest step backtested, the fewest errors that calibrate a step, and the widening of
# ``new`` series.
CAL_MIN_ORIGINS = 6
CAL_MIN_TRAIN = 12
CAL_TARGET_ERRORS = 240
CAL_HORIZON = 12
CAL_MIN_ERRORS = 10
NEW_SERIES_WIDEN = 2.0
RECENT_MONTHS = 3
IPF_ITERATIONS = 100
# Worker processes for the per-series model fits (fork, Linux); 1 = in-process.
N_JOBS = max(1, int(os.environ.get("MLCOST_FORECAST_JOBS", "1") or 1))
PARALLEL_MIN_SERIES = 60
INTERVAL_LEVELS = (80, 95)
CANDIDATE_MODELS = ("Naive", "Drift", "AutoETS", "Theta")
BASELINE_METHODS = ("seasonal_naive", "drift")

LEVELS = ("total", "team", "team_workload", "team_model")
SEGMENT_LEVEL = "segment"
BASELINE = "baseline"
# Key columns of each forecast level, and of a segment (the finest grain, allocated).
LEVEL_KEYS: dict[str, tuple[str, ...]] = {
    "total": (),
    "team": ("team",),
    "team_workload": ("team", "workload"),
    "team_model": ("team", "ml_model"),
}
SEGMENT_KEYS = ("team", "workload", "ml_model", "provider", "service_name", "pricing_unit")


@dataclass(frozen=True)
class ForecastConfig:
    """What one forecast run is about: carried through the stages instead of loose arguments."""

    as_of: date
    horizon: int = DEFAULT_HORIZON
    n_jobs: int = 1

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise ValueError("horizon must be >= 1")

    @property
    def months(self) -> list[date]:
        """The forecast months: the ``horizon`` months after the as-of month."""
        return [add_months(self.as_of, k) for k in range(1, self.horizon + 1)]
