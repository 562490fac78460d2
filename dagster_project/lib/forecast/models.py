"""Candidate statsforecast models, one model fit, and the per-series result types."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import (
    HISTORY_FULL_MONTHS,
    HISTORY_SHORT_MONTHS,
    INTERVAL_LEVELS,
    MIN_TRAIN_MONTHS,
)


@dataclass
class ModelMetrics:
    """Backtest metrics of one candidate model on one series (a ``backtest_metrics`` row)."""

    model: str
    n_obs: int
    n_windows: int
    backtest_horizon: int
    n_points: int
    mae: float | None = None
    mape_pct: float | None = None
    smape_pct: float | None = None
    mase: float | None = None
    coverage_80: float | None = None
    coverage_95: float | None = None
    selected: bool = False
    note: str | None = None


@dataclass
class Backtest:
    """Out-of-sample forecasts of one series at rolling origins (for calibration, accuracy).

    One entry per (origin, step): ``origin`` is the month index of the first forecast month
    (training uses months ``< origin`` only), ``step`` 1..; ``point`` is the selected model's
    forecast, ``snaive`` and ``drift`` the baselines'; ``level`` is the mean of the last three
    training months (what errors are divided by when a forecast is zero).
    """

    origin: np.ndarray
    step: np.ndarray
    actual: np.ndarray
    level: np.ndarray
    point: np.ndarray
    snaive: np.ndarray
    drift: np.ndarray


@dataclass
class SeriesForecast:
    """The selected model's forecast of one series, with every candidate's metrics.

    ``lo_*``/``hi_*`` are calibrated by ``forecast_all`` (``calibration`` says how: ``level``
    = from the level's pooled out-of-sample errors, ``parent`` = a parent level's,
    ``parametric`` = statsforecast's own intervals when nothing could be calibrated).
    ``history_class`` is ``full`` (>= 24 months), ``short`` (6-23) or ``new`` (< 6);
    ``seasonal_source`` is where its yearly profile came from (``own``, ``team``, ``total``,
    ``none``).
    """

    model: str
    mean: np.ndarray
    lo_80: np.ndarray
    hi_80: np.ndarray
    lo_95: np.ndarray
    hi_95: np.ndarray
    metrics: list[ModelMetrics] = field(default_factory=list)
    history_months: int = 0
    history_class: str = "new"
    seasonal_source: str = "none"
    calibration: str = "parametric"
    backtest: Backtest | None = None


def history_class(months: int) -> str:
    """``full`` / ``short`` / ``new`` by months of history (after leading zeros)."""
    if months >= HISTORY_FULL_MONTHS:
        return "full"
    return "short" if months >= HISTORY_SHORT_MONTHS else "new"


def candidate_specs(min_train: int) -> list[tuple[str, Any]]:
    """Candidate models (name, factory) usable with at least ``min_train`` training points.

    Listed simplest first: on equal backtest scores the simpler model wins. They are fitted
    to the deseasonalised series (seasonal.py), so none of them needs a seasonal term.
    """
    from statsforecast.models import AutoETS, Naive, OptimizedTheta, RandomWalkWithDrift

    specs: list[tuple[str, Any]] = [
        ("Naive", Naive),
        ("Drift", RandomWalkWithDrift),
    ]
    if min_train >= MIN_TRAIN_MONTHS:
        specs.append(("AutoETS", lambda: AutoETS(season_length=1, model="ZZN")))
        specs.append(("Theta", OptimizedTheta))
    return specs


def run_model(
    factory: Any, y: np.ndarray, h: int, intervals: bool = True
) -> dict[str, np.ndarray]:
    """Fit a fresh model on ``y`` and forecast ``h`` steps (with 80/95% intervals if asked)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        level = list(INTERVAL_LEVELS) if intervals else None
        res = factory().forecast(y=y.astype(float), h=h, level=level)
    out = {k: np.asarray(res[k], dtype=float) for k in res}
    if not all(np.isfinite(v).all() for v in out.values()):
        raise FloatingPointError("non-finite forecast")
    return out
