"""Calibrated 80/95% bands from pooled out-of-sample errors, per level and horizon step.

Each series' backtest (series.py) gives forecasts made at rolling origins from data before
the origin only. Their errors are made relative -- ``(actual - forecast) / |forecast|`` (the
recent level when the forecast is zero) -- so that series of different sizes pool within a
level. For each level and step ``h`` the band half-width is the empirical quantile (linear
interpolation) of the absolute relative errors, p = 0.80 and 0.95. (The conservative
conformal rank ``ceil((n + 1) p)`` over-covered on the demo -- 84% / 98% nested coverage --
because early in a backtest few errors exist and the rank then picks the largest.) A step
needs ``CAL_MIN_ERRORS`` errors; the quantiles are made non-decreasing over the steps (a
running maximum) and, past the last calibrated step ``h_c``, grow as
``q(h_c) * sqrt(h / h_c)`` (random-walk growth). A level without any calibrated step uses
its parent level's table (team_model / team_workload -> team -> total; the total -> team),
and failing that keeps statsforecast's parametric intervals. ``new`` series (< 6 months,
never backtested themselves) get their level's half-width times ``NEW_SERIES_WIDEN``.

``tables(..., before=t)`` uses only errors whose target month is before ``t``: the nested
(sequential) calibration behind the honest coverage in accuracy.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .config import (
    CAL_HORIZON,
    CAL_MIN_ERRORS,
    CAL_MIN_ORIGINS,
    CAL_MIN_TRAIN,
    CAL_TARGET_ERRORS,
    INTERVAL_LEVELS,
    NEW_SERIES_WIDEN,
    SEASONAL_MIN_MONTHS,
    SEASONAL_STRENGTH_MIN,
)
from .models import Backtest, SeriesForecast

# Where a level without calibrated steps borrows its table: its parents first; the total
# (one series, few errors early in a backtest) borrows the teams' (wider) errors.
FALLBACK = {"team_model": ("team", "total"), "team_workload": ("team", "total"),
            "team": ("total",), "total": ("team",)}
METHOD_COLUMNS = {"mlcost": "point", "seasonal_naive": "snaive", "drift": "drift"}


def calibration_params() -> dict[str, Any]:
    """The calibration and seasonality settings (part of a snapshot's parameters hash)."""
    return {
        "bands": "empirical quantiles of |relative out-of-sample error| per level x step",
        "origins": {"min": CAL_MIN_ORIGINS, "target_errors": CAL_TARGET_ERRORS,
                    "min_train": CAL_MIN_TRAIN, "max_step": CAL_HORIZON},
        "min_errors": CAL_MIN_ERRORS,
        "beyond_backtest": "sqrt(h / h_c)",
        "new_series_widen": NEW_SERIES_WIDEN,
        "seasonality": {"min_months": SEASONAL_MIN_MONTHS, "min_strength": SEASONAL_STRENGTH_MIN,
                        "borrow": "team_model/team_workload -> team -> total"},
    }


def denominators(point: np.ndarray, level: np.ndarray) -> np.ndarray:
    """What an error is divided by: |forecast|, or the recent level when the forecast is 0."""
    return np.where(np.abs(point) > 0, np.abs(point), np.abs(level))


def records(bts: list[Backtest], column: str = "point") -> dict[str, np.ndarray]:
    """One level's backtest entries of one method: step, target month index, |rel. error|."""
    if not bts:
        return {"step": np.zeros(0, int), "target": np.zeros(0, int), "err": np.zeros(0)}
    step = np.concatenate([b.step for b in bts])
    target = np.concatenate([b.origin + b.step - 1 for b in bts])
    point = np.concatenate([getattr(b, column) for b in bts])
    actual = np.concatenate([b.actual for b in bts])
    den = denominators(point, np.concatenate([b.level for b in bts]))
    ok = den > 0
    err = np.abs(actual - point)[ok] / den[ok]
    return {"step": step[ok], "target": target[ok], "err": err}


def empirical_quantile(errors: np.ndarray, p: float) -> float:
    """The empirical ``p`` quantile of the errors (linear interpolation between ranks)."""
    return float(np.quantile(errors, p))


def quantile_table(rec: dict[str, np.ndarray], horizon: int,
                   before: int | None = None) -> np.ndarray | None:
    """Half-widths (2, horizon) for the 80/95% bands, or None when no step is calibrated."""
    step, err = rec["step"], rec["err"]
    if before is not None:
        keep = rec["target"] < before
        step, err = step[keep], err[keep]
    qs: list[list[float]] = []
    for s in range(1, CAL_HORIZON + 1):
        e = err[step == s]
        if len(e) < CAL_MIN_ERRORS:
            break
        qs.append([empirical_quantile(e, lv / 100.0) for lv in INTERVAL_LEVELS])
    if not qs:
        return None
    q = np.maximum.accumulate(np.array(qs).T, axis=1)  # (2, h_c), non-decreasing
    h_c = q.shape[1]
    out = np.empty((len(INTERVAL_LEVELS), horizon))
    for s in range(1, horizon + 1):
        out[:, s - 1] = q[:, s - 1] if s <= h_c else q[:, -1] * math.sqrt(s / h_c)
    out[1] = np.maximum(out[1], out[0])  # the 95% band contains the 80% band
    return out


def tables(recs: dict[str, dict[str, np.ndarray]], horizon: int,
           before: int | None = None) -> dict[str, tuple[np.ndarray, str] | None]:
    """Per level: (half-widths, source) with the parent fallback; None if nothing calibrates."""
    own = {lv: quantile_table(r, horizon, before) for lv, r in recs.items()}
    out: dict[str, tuple[np.ndarray, str] | None] = {}
    for lv in recs:
        table, source = own[lv], "level"
        for up in FALLBACK.get(lv, ()) if table is None else ():
            table, source = own.get(up), "parent"
            if table is not None:
                break
        out[lv] = (table, source) if table is not None else None
    return out


def band(point: np.ndarray, q: np.ndarray, nonneg: bool) -> tuple[np.ndarray, ...]:
    """(lo_80, hi_80, lo_95, hi_95) of ``point`` with relative half-widths ``q`` (2, H)."""
    d = np.abs(point)
    lo80, hi80 = point - q[0] * d, point + q[0] * d
    lo95, hi95 = point - q[1] * d, point + q[1] * d
    if nonneg:
        lo80, lo95 = np.maximum(lo80, 0.0), np.maximum(lo95, 0.0)
    return lo80, hi80, lo95, hi95


def calibrate(fc: dict[Any, SeriesForecast], level_of: Callable[[Any], str]) -> None:
    """Replace every series' bands, in place, with its level's calibrated bands."""
    by_level: dict[str, list[Backtest]] = {}
    for k, f in fc.items():
        lst = by_level.setdefault(level_of(k), [])
        if f.backtest is not None:
            lst.append(f.backtest)
    if not fc:
        return
    horizon = len(next(iter(fc.values())).mean)
    tabs = tables({lv: records(b) for lv, b in by_level.items()}, horizon)
    for k, f in fc.items():
        found = tabs.get(level_of(k))
        if found is None or f.model == "Zero":
            continue
        q, f.calibration = found
        if f.history_class == "new":
            q = q * NEW_SERIES_WIDEN
        nonneg = bool((f.mean >= 0).all())
        f.lo_80, f.hi_80, f.lo_95, f.hi_95 = band(f.mean, q, nonneg)
