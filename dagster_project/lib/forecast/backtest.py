"""Rolling-origin backtest of a candidate model, and the choice between candidates."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .intervals import finish
from .models import ModelMetrics, run_model


def origins(n: int, h: int, windows: int) -> list[int]:
    """Training lengths of the ``windows`` origins, one month apart, ending ``h`` before ``n``."""
    return [n - h - (windows - 1) + k for k in range(windows)]


def backtest(
    name: str, factory: Any, y: np.ndarray, origins: Sequence[int], h: int
) -> ModelMetrics:
    """Fit ``factory`` at each origin, forecast ``h`` months and score against ``y``."""
    errs, ape, sape, scaled, cov80, cov95 = [], [], [], [], [], []
    for origin in origins:
        train, test = y[:origin], y[origin : origin + h]
        res = finish(run_model(factory, train, h), bool((train >= 0).all()))
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
        n_windows=len(origins),
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

    def score(m: ModelMetrics) -> float:
        return float(m.mase if use_mase else m.mae)  # type: ignore[arg-type]

    return min(scored, key=score).model  # min() keeps the first (simplest) on ties
