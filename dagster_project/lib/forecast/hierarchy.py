"""Hierarchy reconciliation: top-down forecast proportions down to the segments (IPF).

The level forecasts are made coherent from the top: teams share the total in proportion to
their own forecasts, each team's workload and model margins share the team's, and the
team's workload x model cells are fitted to both margins by iterative proportional fitting
seeded with the recent mix; each cell is then split across its segments.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .config import IPF_ITERATIONS, RECENT_MONTHS
from .history import History
from .models import SeriesForecast


def _null_last(v: Any) -> tuple[bool, str]:
    return (v is None, "" if v is None else str(v))


def allocate(target: np.ndarray, weights: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Split ``target`` (H,) across children in proportion to ``weights`` (C, H).

    Where all weights of a month are zero, ``fallback`` (C,) shares are used, then equal shares.
    """
    weights = np.maximum(weights, 0.0)
    out = np.zeros_like(weights)
    fb = np.maximum(fallback, 0.0)
    fb = fb / fb.sum() if fb.sum() > 0 else np.full(len(fb), 1.0 / len(fb))
    for t in range(weights.shape[1]):
        w = weights[:, t]
        share = w / w.sum() if w.sum() > 0 else fb
        out[:, t] = target[t] * share
    return out


def ipf(seed: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Iterative proportional fitting of seed (R, C, H) to row (R, H) and column (C, H) totals.

    Each month (last axis) is fitted independently. Ends with a row step so the row totals
    are met exactly; column totals are met as far as the seed's zero pattern allows.
    """
    x = seed.astype(float).copy()
    tol = 1e-10 * max(1.0, float(np.abs(cols).max(initial=0.0)))
    for _ in range(IPF_ITERATIONS):
        cs = x.sum(axis=0)
        x *= np.divide(cols, cs, out=np.ones_like(cols), where=cs > 0)[None, :, :]
        rs = x.sum(axis=1)
        x *= np.divide(rows, rs, out=np.ones_like(rows), where=rs > 0)[:, None, :]
        if float(np.abs(x.sum(axis=0) - cols).max(initial=0.0)) <= tol:
            break
    return x


def reconcile(
    hist: History, fc: dict[tuple[str, tuple], SeriesForecast]
) -> tuple[dict[tuple[str, tuple], np.ndarray], np.ndarray]:
    """Top-down forecast-proportions reconciliation.

    Returns reconciled points per (level, key) and segment points (n_segments, H).
    """
    segs = hist.segments
    horizon = len(fc[("total", ())].mean)
    recent = np.maximum(hist.cost[:, -RECENT_MONTHS:].sum(axis=1), 0.0)
    full = np.maximum(hist.cost.sum(axis=1), 0.0)
    out: dict[tuple[str, tuple], np.ndarray] = {}
    total = fc[("total", ())].mean
    out[("total", ())] = total
    teams = sorted({s["team"] for s in segs}, key=_null_last)
    team_w = np.array([fc[("team", (t,))].mean for t in teams])
    team_fb = np.array([sum(full[i] for i, s in enumerate(segs) if s["team"] == t) for t in teams])
    team_pts = allocate(total, team_w, team_fb)
    seg_pts = np.zeros((len(segs), horizon))
    for ti, team in enumerate(teams):
        tp = team_pts[ti]
        out[("team", (team,))] = tp
        idx = [i for i, s in enumerate(segs) if s["team"] == team]
        workloads = sorted({segs[i]["workload"] for i in idx}, key=_null_last)
        models = sorted({segs[i]["ml_model"] for i in idx}, key=_null_last)

        def margin(
            level: str, names: list[str], attr: str, idx=idx, tp=tp, team=team
        ) -> np.ndarray:
            weights = np.array([fc[(level, (team, n))].mean for n in names])
            fallback = np.array([sum(full[i] for i in idx if segs[i][attr] == n) for n in names])
            return allocate(tp, weights, fallback)

        rows = margin("team_workload", workloads, "workload")
        cols = margin("team_model", models, "ml_model")
        cell_of = {i: (workloads.index(segs[i]["workload"]), models.index(segs[i]["ml_model"]))
                   for i in idx}
        exists = np.zeros((len(workloads), len(models)), dtype=bool)
        seed_recent = np.zeros(exists.shape)
        seed_full = np.zeros(exists.shape)
        for i, (r, c) in cell_of.items():
            exists[r, c] = True
            seed_recent[r, c] += recent[i]
            seed_full[r, c] += full[i]
        seeds = np.repeat(seed_recent[:, :, None], horizon, axis=2)
        for t in range(horizon):
            seed = seeds[:, :, t]  # a view: fallbacks below edit ``seeds`` in place
            for r in range(seed.shape[0]):  # rows needing cost but without a recent seed
                if rows[r, t] > 0 and seed[r].sum() == 0:
                    seed[r] = seed_full[r] if seed_full[r].sum() > 0 else exists[r].astype(float)
            for c in range(seed.shape[1]):
                if cols[c, t] > 0 and seed[:, c].sum() == 0:
                    seed[:, c] = (
                        seed_full[:, c] if seed_full[:, c].sum() > 0 else exists[:, c].astype(float)
                    )
        cells = ipf(seeds, rows, cols)
        for r, w in enumerate(workloads):
            out[("team_workload", (team, w))] = cells[r].sum(axis=0)
        for c, m in enumerate(models):
            out[("team_model", (team, m))] = cells[:, c].sum(axis=0)
        # split each cell across its segments by recent (then full-history, then equal) share
        for r in range(len(workloads)):
            for c in range(len(models)):
                members = [i for i, rc in cell_of.items() if rc == (r, c)]
                if not members:
                    continue
                w = np.array([recent[i] for i in members])
                if w.sum() <= 0:
                    w = np.array([full[i] for i in members])
                if w.sum() <= 0:
                    w = np.ones(len(members))
                for k, i in enumerate(members):
                    seg_pts[i] = cells[r, c] * (w[k] / w.sum())
    return out, seg_pts


def reference_prices(hist: History) -> np.ndarray:
    """Unit price per segment at the as-of run rate (last 3 months; else all history)."""
    prices = np.full(len(hist.segments), np.nan)
    for i, seg in enumerate(hist.segments):
        if seg["pricing_unit"] is None:
            continue
        for window in (slice(-RECENT_MONTHS, None), slice(None)):
            q = hist.qty[i, window]
            ok = ~np.isnan(q) & (q > 0)
            if ok.any():
                c = hist.cost[i, window][ok].sum()
                price = c / q[ok].sum()
                if price > 0:
                    prices[i] = price
                break
    return prices
