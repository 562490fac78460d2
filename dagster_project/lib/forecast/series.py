"""Forecast one series (model selection + refit + backtest at rolling origins), and many
series across worker processes, then calibrate their bands per level."""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from . import seasonal
from .backtest import best_model, drift, origins, score, seasonal_naive
from .calibration import calibrate
from .config import (
    BACKTEST_HORIZON,
    BACKTEST_WINDOWS,
    CAL_HORIZON,
    CAL_MIN_ORIGINS,
    CAL_MIN_TRAIN,
    CAL_TARGET_ERRORS,
    MIN_TRAIN_MONTHS,
    PARALLEL_MIN_SERIES,
    RECENT_MONTHS,
)
from .intervals import cached_normal_quantiles, finish
from .models import (
    Backtest,
    ModelMetrics,
    SeriesForecast,
    candidate_specs,
    history_class,
    run_model,
)

_BANDS = ("mean", "lo-80", "hi-80", "lo-95", "hi-95")


def forecast_series(
    y: np.ndarray,
    horizon: int,
    *,
    backtest_horizon: int = BACKTEST_HORIZON,
    backtest_windows: int = BACKTEST_WINDOWS,
    cal_origins: int = CAL_MIN_ORIGINS,
    borrowed: dict[int, tuple[np.ndarray, str]] | None = None,
) -> SeriesForecast:
    """Select a model for one monthly series by rolling-origin backtest and forecast it.

    Leading zero months are dropped (the series starts at its first non-zero month). Models
    are fitted to the deseasonalised series (``seasonal``; ``borrowed`` = the parent's
    profiles by cut-off) and their forecasts reseasonalised. The candidates are scored on the
    last ``backtest_windows`` origins; the chosen model's forecasts at the last
    ``cal_origins`` origins (reusing the scoring fits) go into ``backtest`` for calibration.
    Series shorter than ``MIN_TRAIN_MONTHS + backtest_horizon`` months get the Naive model
    without a model choice; an all-zero series gets a zero forecast. The bands returned are
    statsforecast's parametric ones; ``forecast_all`` replaces them with calibrated ones.
    """
    y = np.asarray(y, dtype=float)
    nz = np.flatnonzero(y)
    if nz.size == 0:
        zeros = np.zeros(horizon)
        return SeriesForecast(
            "Zero", zeros, zeros, zeros, zeros, zeros,
            [ModelMetrics("Zero", len(y), 0, 0, 0, selected=True, note="all-zero history")],
        )
    first = int(nz[0])
    yt = y[first:]
    n, big_n = len(yt), len(y)
    nonneg = bool((yt >= 0).all())
    profile = seasonal.resolver(y, borrowed)
    h_bt = max(1, min(backtest_horizon, horizon))
    windows = min(backtest_windows, n - MIN_TRAIN_MONTHS - h_bt + 1)
    sel = origins(n, h_bt, windows) if windows >= 1 else []
    # origins train on >= CAL_MIN_TRAIN months, unless that leaves fewer than CAL_MIN_ORIGINS
    cal = list(range(max(n - cal_origins, min(CAL_MIN_TRAIN, n - CAL_MIN_ORIGINS),
                         MIN_TRAIN_MONTHS), n))

    def fit(factory: Any, o: int, h: int, intervals: bool) -> dict[str, np.ndarray]:
        """Fit on the first ``o`` months (deseasonalised at that cut-off), forecast ``h``."""
        prof, _ = profile(first + o)
        train = yt[:o] / seasonal.factors(prof, first, o)
        res = run_model(factory, train, h, intervals)
        f = seasonal.factors(prof, first + o, h)
        return {k: v * f for k, v in res.items() if k in _BANDS}

    metrics: list[ModelMetrics] = []
    fits: dict[str, dict[int, dict[str, np.ndarray]]] = {}
    chosen = "Naive"
    if sel:
        for name, factory in candidate_specs(sel[0]):
            try:
                fits[name] = {o: finish(fit(factory, o, min(CAL_HORIZON, n - o), True), nonneg)
                              for o in sel}
                metrics.append(score(name, fits[name], yt, sel, h_bt))
            except Exception as exc:  # a candidate that cannot fit is simply not eligible
                fits.pop(name, None)
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
    specs: dict[str, Any] = dict(candidate_specs(n))
    try:
        res = finish(fit(specs[chosen], n, horizon, True), nonneg)
    except Exception as exc:
        note = f"{chosen} failed on full history ({exc}); naive fallback"[:200]
        chosen = "Naive"
        res = finish(fit(specs["Naive"], n, horizon, True), nonneg)
        metrics.append(ModelMetrics("Naive", n, 0, h_bt, 0, note=note))
    selected = [m for m in metrics if m.model == chosen and m.mae is not None]
    (selected[0] if selected and metrics[-1].n_windows else metrics[-1]).selected = True
    bt = _backtest(y, first, cal, fits.get(chosen, {}), specs[chosen], fit, nonneg)
    return SeriesForecast(
        chosen, res["mean"], res["lo-80"], res["hi-80"], res["lo-95"], res["hi-95"], metrics,
        history_months=n, history_class=history_class(n),
        seasonal_source=profile(big_n)[1], backtest=bt,
    )


def _backtest(
    y: np.ndarray,
    first: int,
    starts: list[int],
    done: dict[int, dict[str, np.ndarray]],
    factory: Any,
    fit: Any,
    nonneg: bool,
) -> Backtest | None:
    """The chosen model's forecasts at ``starts`` (reusing ``done`` fits) and the baselines'."""
    cols: dict[str, list[np.ndarray]] = {k: [] for k in
                                          ("origin", "step", "actual", "level", "point",
                                           "snaive", "drift")}
    n = len(y) - first
    for o in starts:
        h = min(CAL_HORIZON, n - o)
        try:
            point = done[o]["mean"][:h] if o in done else finish_mean(fit(factory, o, h, False),
                                                                       nonneg)
        except Exception:  # an origin the model cannot fit is left out of calibration
            continue
        origin = first + o
        cols["origin"].append(np.full(h, origin))
        cols["step"].append(np.arange(1, h + 1))
        cols["actual"].append(y[origin : origin + h])
        cols["level"].append(np.full(h, float(np.mean(np.abs(y[max(first, origin -
                                                                   RECENT_MONTHS):origin])))))
        cols["point"].append(point)
        cols["snaive"].append(seasonal_naive(y, first, origin, h))
        cols["drift"].append(drift(y, first, origin, h))
    if not cols["origin"]:
        return None
    return Backtest(**{k: np.concatenate(v) for k, v in cols.items()})


def finish_mean(res: dict[str, np.ndarray], nonneg: bool) -> np.ndarray:
    """The point forecast, clipped at zero for a non-negative series."""
    return np.maximum(res["mean"], 0.0) if nonneg else res["mean"]


def _forecast_chunk(
    items: list[tuple[Any, np.ndarray, int, Any]], horizon: int
) -> list[tuple[Any, Any]]:
    with cached_normal_quantiles():
        return [(k, forecast_series(y, horizon, cal_origins=c, borrowed=b))
                for k, y, c, b in items]


def _level(key: Any) -> str:
    return key[0] if isinstance(key, tuple) and key and isinstance(key[0], str) else "series"


def forecast_all(
    items: list[tuple[Any, np.ndarray]], horizon: int, n_jobs: int
) -> dict[Any, SeriesForecast]:
    """Forecast every (key, series) item, in ``n_jobs`` forked processes when worthwhile, and
    calibrate the bands of each level (``key[0]``; one pool when keys carry no level).

    Workers are forked (Linux only) so they inherit the imported statsforecast instead of
    paying its multi-second import; they only run numpy/statsforecast, never DuckDB. Results
    do not depend on ``n_jobs``.
    """
    borrowed = seasonal.borrowed_profiles(items)
    per_level: dict[str, int] = {}
    for k, _ in items:
        per_level[_level(k)] = per_level.get(_level(k), 0) + 1
    work = [(k, y, max(CAL_MIN_ORIGINS, math.ceil(CAL_TARGET_ERRORS / per_level[_level(k)])),
             borrowed.get(seasonal.parent_key(k))) for k, y in items]
    if n_jobs <= 1 or len(items) < PARALLEL_MIN_SERIES or sys.platform != "linux":
        done = dict(_forecast_chunk(work, horizon))
    else:
        import concurrent.futures
        import multiprocessing

        chunks = [work[i::n_jobs] for i in range(n_jobs)]
        ctx = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as pool:
            parts = list(pool.map(_forecast_chunk, chunks, [horizon] * n_jobs))
        done = {k: f for part in parts for k, f in part}
    out = {k: done[k] for k, _ in items}  # keep the input order
    calibrate(out, _level)
    return out
