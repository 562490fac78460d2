"""Rolling-origin backtests: candidate fits at each origin, their scores, the choice between
candidates, and the baselines (seasonal naive, drift) at the same origins."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .config import SEASON_LENGTH
from .models import ModelMetrics


def origins(n: int, h: int, windows: int) -> list[int]:
    """Training lengths of the ``windows`` origins, one month apart, ending ``h`` before ``n``."""
    return [n - h - (windows - 1) + k for k in range(windows)]


def score(
    name: str,
    fits: dict[int, dict[str, np.ndarray]],
    y: np.ndarray,
    starts: Sequence[int],
    h: int,
) -> ModelMetrics:
    """Score a candidate's forecasts ``fits[origin]`` (first ``h`` steps) against ``y``."""
    errs, ape, sape, scaled, cov80, cov95 = [], [], [], [], [], []
    for origin in starts:
        res = {k: v[:h] for k, v in fits[origin].items()}
        train, test = y[:origin], y[origin : origin + h]
        f = res["mean"]
        e = test - f
        errs.extend(np.abs(e))
        ape.extend(np.abs(e[test != 0]) / np.abs(test[test != 0]) * 100.0)
        denom = np.abs(test) + np.abs(f)
        sape.extend(np.where(denom > 0, 2.0 * np.abs(e) / np.where(denom > 0, denom, 1), 0.0) * 100)
        scale = float(np.mean(np.abs(np.diff(train)))) if len(train) > 1 else 0.0
        scaled.append(float(np.mean(np.abs(e))) / scale if scale > 0 else math.nan)
        cov80.extend((test >= res["lo-80"] - 1e-9) & (test <= res["hi-80"] + 1e-9))
        cov95.extend((test >= res["lo-95"] - 1e-9) & (test <= res["hi-95"] + 1e-9))
    return ModelMetrics(
        model=name,
        n_obs=len(y),
        n_windows=len(starts),
        backtest_horizon=h,
        n_points=len(errs),
        mae=float(np.mean(errs)),
        mape_pct=float(np.mean(ape)) if ape else None,
        smape_pct=float(np.mean(sape)),
        mase=None if any(math.isnan(s) for s in scaled) else float(np.mean(scaled)),
        coverage_80=float(np.mean(cov80)),
        coverage_95=float(np.mean(cov95)),
    )


def best_model(metrics: Sequence[ModelMetrics], default: str) -> str:
    """Lowest MASE (MAE when some MASE is undefined); ties go to the earlier, simpler model."""
    scored = [m for m in metrics if m.mae is not None]
    if not scored:
        return default
    use_mase = all(m.mase is not None for m in scored)

    def key(m: ModelMetrics) -> float:
        return float(m.mase if use_mase else m.mae)  # type: ignore[arg-type]

    return min(scored, key=key).model  # min() keeps the first (simplest) on ties


def seasonal_naive(y: np.ndarray, first: int, origin: int, h: int) -> np.ndarray:
    """The same month a year earlier (of the training data); the last month when the series
    did not exist a year earlier. ``origin`` is an index into ``y`` (``y[:origin]`` trains)."""
    out = np.empty(h)
    for k in range(h):
        t = origin + k - SEASON_LENGTH * (k // SEASON_LENGTH + 1)
        out[k] = y[t] if t >= first else y[origin - 1]
    return out


def drift(y: np.ndarray, first: int, origin: int, h: int) -> np.ndarray:
    """Random walk with drift: the last month plus the average monthly change so far."""
    n = origin - first
    slope = (y[origin - 1] - y[first]) / (n - 1) if n > 1 else 0.0
    return y[origin - 1] + slope * np.arange(1, h + 1)
