"""The commitment calculator's arithmetic (pure, float64 inside the model like the forecast):
the forecast distribution of a month's commitment-eligible demand and the expected cost of an
hourly commitment over it.

A month's demand distribution comes from the forecast bands as a quantile function: linear
between (2.5 %, lo_95), (10 %, lo_80), (50 %, point), (90 %, hi_80), (97.5 %, hi_95), the end
segments' slopes carried into the tails, floored at 0. The expectation is the average over
GRID equally spaced probability levels (the midpoint rule over p in 0..1): deterministic, no
sampling noise.

Cost of one month with hourly commitment c (at the committed price, discount d), hourly
on-demand-equivalent demand u and H hours: H x (c + max(0, u - c / (1 - d))). Its expectation
is convex in c and smallest where P(u > c / (1 - d)) = 1 - d (the newsvendor rule): the
calculator evaluates every candidate c and also reports that closed form as a check."""

from __future__ import annotations

import numpy as np

LEVELS = np.array([0.025, 0.10, 0.5, 0.90, 0.975])
GRID = 400
CANDIDATES = 401  # commitment levels tried: the pooled demand's quantiles 0, 0.25 %, ... 100 %


def probability_grid(n: int = GRID) -> np.ndarray:
    return (np.arange(n) + 0.5) / n


def quantiles(lo95, lo80, point, hi80, hi95, p: np.ndarray) -> np.ndarray:
    """The quantile function through the five band values at probability levels ``p``; a
    missing band (None) is replaced by the point (no spread on that side)."""
    v = [point if x is None else x for x in (lo95, lo80)] + [point] + [
        point if x is None else x for x in (hi80, hi95)]
    v = np.maximum.accumulate(np.asarray(v, dtype=float))  # monotone even if bands cross
    out = np.interp(p, LEVELS, v)
    lo_slope = (v[1] - v[0]) / (LEVELS[1] - LEVELS[0])
    hi_slope = (v[4] - v[3]) / (LEVELS[4] - LEVELS[3])
    out = np.where(p < LEVELS[0], v[0] - (LEVELS[0] - p) * lo_slope, out)
    out = np.where(p > LEVELS[-1], v[4] + (p - LEVELS[-1]) * hi_slope, out)
    return np.maximum(out, 0.0)


def expected_cost(c: np.ndarray, demand: np.ndarray, discount: float, hours: float
                  ) -> np.ndarray:
    """Expected cost per month of each hourly commitment in ``c`` over demand samples
    (months x grid, hourly on-demand equivalent), averaged over the months."""
    covered = c / (1.0 - discount)
    over = np.maximum(demand[None, :, :] - covered[:, None, None], 0.0)
    return hours * (c + over.mean(axis=(1, 2)))


def optimise(demand: np.ndarray, discount: float, hours: float, current: float
             ) -> dict[str, float]:
    """The commitment that minimises expected cost, its expected cost, the current level's,
    and the newsvendor closed form (the pooled demand's ``discount`` quantile x (1 - d))."""
    pooled = demand.ravel()
    levels = np.quantile(pooled, np.linspace(0.0, 1.0, CANDIDATES)) * (1.0 - discount)
    cands = np.unique(np.concatenate([[0.0, current], levels]))
    costs = expected_cost(cands, demand, discount, hours)
    best = int(np.argmin(costs))
    return {"recommended": float(cands[best]), "expected_cost": float(costs[best]),
            "current_expected_cost": float(expected_cost(np.array([current]), demand,
                                                         discount, hours)[0]),
            "newsvendor": float(np.quantile(pooled, discount) * (1.0 - discount)),
            "demand_p10": float(np.quantile(pooled, 0.10)),
            "demand_p50": float(np.quantile(pooled, 0.50)),
            "demand_p90": float(np.quantile(pooled, 0.90))}
