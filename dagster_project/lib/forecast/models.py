"""Candidate statsforecast models, the seasonality gate and one model fit."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import INTERVAL_LEVELS, MIN_TRAIN_MONTHS, SEASON_LENGTH, SEASONAL_STRENGTH_MIN


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
class SeriesForecast:
    """The selected model's forecast of one series, with every candidate's metrics."""

    model: str
    mean: np.ndarray
    lo_80: np.ndarray
    hi_80: np.ndarray
    lo_95: np.ndarray
    hi_95: np.ndarray
    metrics: list[ModelMetrics] = field(default_factory=list)


def candidate_specs(min_train: int, seasonal: bool = False) -> list[tuple[str, Any]]:
    """Candidate models (name, factory) usable with at least ``min_train`` training points.

    Listed simplest first: on equal backtest scores the simpler model wins. Seasonal models are
    only offered when the series passes the seasonal-strength test (``is_seasonal``).
    """
    from statsforecast.models import (
        AutoETS,
        Naive,
        OptimizedTheta,
        RandomWalkWithDrift,
        SeasonalNaive,
    )

    specs: list[tuple[str, Any]] = [
        ("Naive", Naive),
        ("Drift", RandomWalkWithDrift),
    ]
    if min_train >= MIN_TRAIN_MONTHS:
        specs.append(("AutoETS", lambda: AutoETS(season_length=1, model="ZZN")))
        specs.append(("Theta", OptimizedTheta))
    if seasonal and min_train >= SEASON_LENGTH + 1:
        specs.append(("SeasonalNaive", lambda: SeasonalNaive(season_length=SEASON_LENGTH)))
    if seasonal and min_train >= 2 * SEASON_LENGTH:
        specs.append(
            (
                "SeasonalETS",
                lambda: AutoETS(season_length=SEASON_LENGTH, model="AAA", damped=False),
            )
        )
    return specs


def is_seasonal(y: np.ndarray, m: int = SEASON_LENGTH) -> bool:
    """Seasonal strength of the linearly detrended series >= ``SEASONAL_STRENGTH_MIN``.

    Strength ``F_s = max(0, 1 - Var(R) / Var(S + R))`` (Wang, Smith & Hyndman 2006; FPP3
    section 4.3), with S the mean detrended value per calendar position and R the remainder.
    Needs two full seasons. This only gates which candidates are backtested (speed); the
    backtest still decides whether a seasonal model is used.
    """
    n = len(y)
    if n < 2 * m:
        return False
    t = np.arange(n, dtype=float)
    resid = y - np.polyval(np.polyfit(t, y, 1), t)
    total = float(np.var(resid))
    if total <= 0:
        return False
    pos = np.arange(n) % m
    seasonal = np.array([resid[pos == k].mean() for k in range(m)])[pos]
    strength = max(0.0, 1.0 - float(np.var(resid - seasonal)) / total)
    return strength >= SEASONAL_STRENGTH_MIN


def run_model(factory: Any, y: np.ndarray, h: int) -> dict[str, np.ndarray]:
    """Fit a fresh model on ``y`` and forecast ``h`` steps with 80/95% intervals."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = factory().forecast(y=y.astype(float), h=h, level=list(INTERVAL_LEVELS))
    out = {k: np.asarray(res[k], dtype=float) for k in res}
    if not all(np.isfinite(out[k]).all() for k in ("mean", "lo-80", "hi-80", "lo-95", "hi-95")):
        raise FloatingPointError("non-finite forecast")
    return out
