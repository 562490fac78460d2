"""Daily anomaly detection on one cost series (pure numpy; floats only here, the reported
money is recomputed exactly in ``build``). The rules are in docs/anomalies.md.

Expected cost of a day = median of the same weekday over the previous ``weeks`` weeks, so a
weekly pattern (weekend dips, Monday training runs) is normal. The residual is scaled by a
robust sigma (MAD) of the past residuals, the larger of the same weekday's and all days'. A
day is anomalous when its z-score, its absolute impact and its impact relative to the
expected cost all pass their thresholds. Anomalous days of one direction, at most ``gap`` days
apart, form one event. An event longer than ``max_event_days``, or whose weekdays one and two
weeks later are closer to the event's level than to the expected one, is a level shift (a
launch, a retirement, a seasonal step): the baseline adopts it within ``weeks`` weeks and it
is not reported.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Params:
    weeks: int = 4  # same-weekday history of the baseline
    scale_weeks: int = 8  # history of the residual scale (all days)
    tail_weeks: int = 13  # history of the same weekday's residual scale
    z: float = 5.0  # |z| at or above this
    min_impact: float = 50.0  # |actual - expected| per day at or above this (billing currency)
    min_relative: float = 0.3  # ... and at or above this share of the expected cost
    max_event_days: int = 7  # longer runs are level shifts, not anomalies
    gap: int = 1  # anomalous days this far apart (days between) are one event


@dataclass(frozen=True)
class Event:
    start: int  # day index, inclusive
    end: int  # day index, inclusive
    direction: str  # spike | drop
    score: float  # the largest |z| of its days
    peak: int  # day index of that |z|
    is_open: bool  # less than a week after it: it may still turn out to be a step


def baseline(x: np.ndarray, weeks: int) -> np.ndarray:
    """Median of x[t-7], x[t-14], ..., x[t-7*weeks] (NaN where that history is missing)."""
    n = len(x)
    lagged = np.full((weeks, n), np.nan)
    for k in range(1, weeks + 1):
        lagged[k - 1, 7 * k:] = x[: n - 7 * k]
    out = np.full(n, np.nan)
    ok = ~np.isnan(lagged).any(axis=0)
    out[ok] = np.median(lagged[:, ok], axis=0)
    return out


def _past(r: np.ndarray, width: int, min_count: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``width`` values before each position as windows (NaN-padded at the start) and
    whether enough of each (``min_count``) are known."""
    padded = np.concatenate([np.full(width, np.nan), r])
    win = sliding_window_view(padded, width)[:-1]  # window ending just before each position
    return win, (~np.isnan(win)).sum(axis=1) >= min_count


def nan_quantile_rows(a: np.ndarray, q: float) -> np.ndarray:
    """``np.nanpercentile(a, 100 * q, axis=1)`` (linear method, the same floats) without its
    Python loop over rows: numpy applies it row by row (`apply_along_axis`), which was most
    of the anomaly stage's time on a demo's few hundred series."""
    s = np.sort(a, axis=1)  # NaNs sort last
    n = (~np.isnan(a)).sum(axis=1)
    pos = (np.maximum(n, 1) - 1) * q
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, np.maximum(n, 1) - 1)
    rows = np.arange(len(a))
    below, above, t = s[rows, lo], s[rows, hi], pos - lo
    # numpy's own interpolation (`_lerp`), so that results match it exactly
    diff = above - below
    out = np.where(t >= 0.5, above - diff * (1 - t), below + diff * t)
    out[n == 0] = np.nan
    return out


def _spread(win: np.ndarray, ok: np.ndarray, tail: bool) -> np.ndarray:
    """Sigma of each window: MAD-based, or (``tail``) the larger of that and the 85th
    percentile of the absolute deviations / 1.44 (equal for normal noise; larger for a weekday
    whose normal range has a heavy tail, such as training runs of varying length)."""
    with warnings.catch_warnings():  # windows without history give NaN, on purpose
        warnings.simplefilter("ignore", RuntimeWarning)
        dev = np.abs(win - np.nanmedian(win, axis=1, keepdims=True))
        out = MAD_TO_SIGMA * np.nanmedian(dev, axis=1)
        if tail:
            out = np.fmax(out, nan_quantile_rows(dev, 0.85) / 1.44)
    out[~ok] = np.nan
    return out


def robust_sigma(r: np.ndarray, p: Params) -> np.ndarray:
    """Per day, the sigma of the residuals before it, the larger of all days' (MAD over the
    last ``scale_weeks`` weeks, at least two weeks of them known, else NaN: not judged yet) and
    the same weekday's (its last ``tail_weeks`` values, at least three known, tail-aware)."""
    pooled = _spread(*_past(r, 7 * p.scale_weeks, 14), tail=False)
    same = np.full(len(r), np.nan)
    for wd in range(7):
        idx = np.arange(wd, len(r), 7)
        same[idx] = _spread(*_past(r[idx], p.tail_weeks, 3), tail=True)
    return np.where(np.isnan(pooled), np.nan, np.fmax(pooled, same))


def scores(x: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(expected, z, anomalous sign: +1 spike, -1 drop, 0 normal) per day of series x."""
    x = np.asarray(x, dtype=np.float64)
    b = baseline(x, p.weeks)
    r = x - b
    sigma = robust_sigma(r, p)
    # A floor on the scale: a constant series (a fixed fee, one always-on instance) has MAD 0.
    sigma = np.where(np.isnan(sigma), np.nan, np.maximum(sigma, 0.02 * np.abs(b) + 0.5))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = r / sigma
        rel = np.abs(r) / np.fmax(np.abs(b), 1e-9)
    flag = (np.abs(z) >= p.z) & (np.abs(r) >= p.min_impact) & (rel >= p.min_relative)
    flag &= ~np.isnan(z)
    return b, z, np.where(flag, np.sign(r), 0).astype(np.int8)


def _persists(x: np.ndarray, b: np.ndarray, start: int, end: int, p: Params) -> bool:
    """Whether the event is a step: the same weekdays one and two weeks later are closer to the
    event's level than to the expected one (medians). Too early to tell: not a step."""
    days = np.arange(start, end + 1)
    later = np.concatenate([days + 7, days + 14])
    later = later[later < len(x)]
    if len(later) < len(days):
        return False  # reported, flagged is_open
    during, expected = np.median(x[days]), np.median(b[days])
    after = np.median(x[later])
    return bool(abs(after - during) < abs(after - expected))


def detect(x: np.ndarray, p: Params = Params(), first: int = 0) -> list[Event]:
    """Anomaly events of daily series ``x``; days before ``first`` + the baseline's history
    (the series' first day with cost) are never judged."""
    b, z, sign = scores(x, p)
    sign[: first + 7 * p.weeks] = 0
    events: list[Event] = []
    n = len(x)
    for direction, s in (("spike", 1), ("drop", -1)):
        days = np.nonzero(sign == s)[0]
        if len(days) == 0:
            continue
        # Split where the distance to the previous anomalous day exceeds the gap.
        cuts = np.nonzero(np.diff(days) > p.gap + 1)[0] + 1
        for run in np.split(days, cuts):
            start, end = int(run[0]), int(run[-1])
            if end - start + 1 > p.max_event_days or _persists(x, b, start, end, p):
                continue  # a level shift
            peak = int(run[np.argmax(np.abs(z[run]))])
            events.append(Event(start, end, direction, float(abs(z[peak])), peak,
                                n - 1 - end < 7))
    return sorted(events, key=lambda e: (e.start, e.direction))
