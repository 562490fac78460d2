"""Yearly seasonality as multiplicative monthly indices, estimated or borrowed from a parent.

Every series of a run covers the same calendar months, so the calendar position of month
index ``i`` is ``i % 12`` for every series (and ``n + k`` for the ``k``-th forecast month). A
profile is a length-12 array of indices with mean 1, indexed by that position.

A series with at least ``SEASONAL_MIN_MONTHS`` months (after its leading zeros) before the
cut-off estimates its own profile by multiplicative decomposition (the ratio of each month
to a quadratic trend in log cost, averaged per calendar position); the profile is used when the
seasonal strength of those log ratios (the share of their variance explained by the calendar
month, adjusted for the 12 means fitted) reaches ``SEASONAL_STRENGTH_MIN``, otherwise the
series is treated as not seasonal. A shorter series borrows its parent's profile at the same cut-off
(``team_model`` / ``team_workload`` -> ``team`` -> ``total``). A cut-off is a month index:
only months before it are used, so backtest origins never see the future.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .config import SEASON_LENGTH, SEASONAL_MIN_MONTHS, SEASONAL_STRENGTH_MIN

ONES = np.ones(SEASON_LENGTH)
_CLIP = (0.2, 5.0)  # an index outside this range is an artefact of a launch or a gap


def own_profile(y: np.ndarray, first: int, cut: int) -> np.ndarray | None:
    """The profile of ``y[first:cut]`` (ONES when not seasonal), None when too short."""
    m = SEASON_LENGTH
    z = np.asarray(y[first:cut], dtype=float)
    n = len(z)
    if n < SEASONAL_MIN_MONTHS or (z <= 0).any():
        return None if n < SEASONAL_MIN_MONTHS else ONES
    # log ratio to a quadratic trend in log cost (a moving average would lose a year of
    # ratios, leaving none to test the profile against with two years of history)
    t = np.arange(n, dtype=float)
    lr = np.log(z) - np.polyval(np.polyfit(t, np.log(z), 2), t)
    pos = (np.arange(n) + first) % m
    means = np.array([lr[pos == k].mean() for k in range(m)])
    means -= means.mean()
    total = float(lr @ lr)
    if total <= 0:
        return ONES
    rem = lr - means[pos]
    # share of variance explained by the calendar month, adjusted for the parameters fitted
    # (12 means, 3 trend terms): with two years of noise the raw share is ~0.5 by chance
    strength = 1.0 - (float(rem @ rem) / (n - m - 2)) / (total / (n - 3))
    if strength < SEASONAL_STRENGTH_MIN:
        return ONES
    return np.clip(np.exp(means), *_CLIP)


def parent_key(key: Any) -> Any | None:
    """The key whose profile a short series borrows, or None (total, bench keys)."""
    if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str)):
        return None
    level, keyvals = key
    if level in ("team_workload", "team_model"):
        return ("team", keyvals[:1])
    if level == "team":
        return ("total", ())
    return None


def profile_table(y: np.ndarray, cuts: Iterable[int]) -> dict[int, np.ndarray | None]:
    """Own profiles of one series at each cut-off."""
    nz = np.flatnonzero(y)
    first = int(nz[0]) if nz.size else len(y)
    return {c: own_profile(y, first, c) for c in cuts}


def borrowed_profiles(
    items: list[tuple[Any, np.ndarray]],
) -> dict[Any, dict[int, tuple[np.ndarray, str]]]:
    """For every key that has children: (profile, source) per cut-off, its own profile when
    long enough, else its parent's (recursively); keys of ``total`` and ``team`` only."""
    series = dict(items)
    parents = {parent_key(k) for k, _ in items} - {None}
    parents |= {parent_key(p) for p in parents} - {None}
    out: dict[Any, dict[int, tuple[np.ndarray, str]]] = {}
    for key in sorted(parents, key=lambda k: 0 if k[0] == "total" else 1):
        y = series.get(key)
        table = profile_table(y, range(len(y) + 1)) if y is not None else {}
        up = out.get(parent_key(key))
        out[key] = {}
        for c in range((len(y) if y is not None else 0) + 1):
            own = table.get(c)
            if own is not None:
                out[key][c] = (own, key[0])
            elif up is not None and c in up:
                out[key][c] = up[c]
    return out


def resolver(
    y: np.ndarray, borrowed: dict[int, tuple[np.ndarray, str]] | None
) -> Callable[[int], tuple[np.ndarray, str]]:
    """``profile(cut) -> (indices, source)`` for one series: own, borrowed or none."""
    nz = np.flatnonzero(y)
    first = int(nz[0]) if nz.size else len(y)
    cache: dict[int, tuple[np.ndarray, str]] = {}

    def profile(cut: int) -> tuple[np.ndarray, str]:
        if cut not in cache:
            own = own_profile(y, first, cut)
            if own is not None:
                cache[cut] = (own, "own" if own is not ONES else "none")
            elif borrowed and cut in borrowed:
                cache[cut] = borrowed[cut]
            else:
                cache[cut] = (ONES, "none")
        return cache[cut]

    return profile


def factors(profile: np.ndarray, start: int, length: int) -> np.ndarray:
    """The indices of months ``start .. start + length - 1``."""
    return profile[(start + np.arange(length)) % SEASON_LENGTH]
