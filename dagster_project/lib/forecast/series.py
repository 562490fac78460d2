"""Forecast one series (model selection + refit), and many series across worker processes."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .backtest import backtest, best_model, origins
from .config import BACKTEST_HORIZON, BACKTEST_WINDOWS, MIN_TRAIN_MONTHS, PARALLEL_MIN_SERIES
from .intervals import cached_normal_quantiles, finish
from .models import ModelMetrics, SeriesForecast, candidate_specs, is_seasonal, run_model


def forecast_series(
    y: np.ndarray,
    horizon: int,
    *,
    backtest_horizon: int = BACKTEST_HORIZON,
    backtest_windows: int = BACKTEST_WINDOWS,
) -> SeriesForecast:
    """Select a model for one monthly series by rolling-origin backtest and forecast it.

    Leading zero months are dropped (the series starts at its first non-zero month).
    Series shorter than ``MIN_TRAIN_MONTHS + backtest_horizon`` months get the Naive model
    without a backtest; an all-zero series gets a zero forecast.
    """
    y = np.asarray(y, dtype=float)
    nz = np.flatnonzero(y)
    if nz.size == 0:
        zeros = np.zeros(horizon)
        return SeriesForecast(
            "Zero", zeros, zeros, zeros, zeros, zeros,
            [ModelMetrics("Zero", len(y), 0, 0, 0, selected=True, note="all-zero history")],
        )
    y = y[nz[0] :]
    n = len(y)
    nonneg = bool((y >= 0).all())
    h_bt = max(1, min(backtest_horizon, horizon))
    windows = min(backtest_windows, n - MIN_TRAIN_MONTHS - h_bt + 1)
    metrics: list[ModelMetrics] = []
    chosen = "Naive"
    seasonal = is_seasonal(y)
    specs: dict[str, Any] = dict(candidate_specs(n, seasonal))
    if windows >= 1:
        starts = origins(n, h_bt, windows)
        for name, factory in candidate_specs(starts[0], seasonal):
            try:
                metrics.append(backtest(name, factory, y, starts, h_bt))
            except Exception as exc:  # a candidate that cannot fit is simply not eligible
                metrics.append(
                    ModelMetrics(name, n, windows, h_bt, 0, note=f"not eligible: {exc}"[:200])
                )
        chosen = best_model(metrics, chosen)
    else:
        metrics.append(
            ModelMetrics(
                "Naive", n, 0, h_bt, 0,
                note=f"{n} months of history: too short to backtest, naive fallback",
            )
        )
    try:
        res = finish(run_model(specs[chosen], y, horizon), nonneg)
    except Exception as exc:
        note = f"{chosen} failed on full history ({exc}); naive fallback"[:200]
        chosen = "Naive"
        res = finish(run_model(specs["Naive"], y, horizon), nonneg)
        metrics.append(ModelMetrics("Naive", n, 0, h_bt, 0, note=note))
    selected = [m for m in metrics if m.model == chosen and m.mae is not None]
    (selected[0] if selected and metrics[-1].n_windows else metrics[-1]).selected = True
    return SeriesForecast(
        chosen, res["mean"], res["lo-80"], res["hi-80"], res["lo-95"], res["hi-95"], metrics
    )


def _forecast_chunk(items: list[tuple[Any, np.ndarray]], horizon: int) -> list[tuple[Any, Any]]:
    with cached_normal_quantiles():
        return [(k, forecast_series(y, horizon)) for k, y in items]


def forecast_all(
    items: list[tuple[Any, np.ndarray]], horizon: int, n_jobs: int
) -> dict[Any, SeriesForecast]:
    """Forecast every (key, series) item, in ``n_jobs`` forked processes when worthwhile.

    Workers are forked (Linux only) so they inherit the imported statsforecast instead of
    paying its multi-second import; they only run numpy/statsforecast, never DuckDB. Results
    do not depend on ``n_jobs``.
    """
    if n_jobs <= 1 or len(items) < PARALLEL_MIN_SERIES or sys.platform != "linux":
        return dict(_forecast_chunk(items, horizon))
    import concurrent.futures
    import multiprocessing

    chunks = [items[i::n_jobs] for i in range(n_jobs)]
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as pool:
        parts = list(pool.map(_forecast_chunk, chunks, [horizon] * n_jobs))
    done = {k: f for part in parts for k, f in part}
    return {k: done[k] for k, _ in items}  # keep the input order
