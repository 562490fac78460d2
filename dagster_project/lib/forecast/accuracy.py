"""Out-of-sample accuracy of a snapshot's method and its baselines, per level and step.

Every series' backtest (series.py) holds forecasts made at rolling origins from the months
before each origin only: the selected model's (``mlcost``), the seasonal naive's and the
drift's. Here they are scored against the actuals per level x horizon step x method into
``forecast.backtest_accuracy``: ``n_points``, ``wape`` = sum|a - f| / sum|a|, ``mape`` = mean
|a - f| / |a| over non-zero actuals, ``bias`` = sum(f - a) / sum|a| (> 0: over-forecast), and
the 80/95% coverage. The coverage is honest: the band scored at origin ``t`` is calibrated
(calibration.py) only from errors whose target month is before ``t`` (nested, sequential
conformal), so it is not ~80% by construction; points without any earlier errors to
calibrate from are left out of the coverage (``n_band_points`` counts the scored ones). Each
method is calibrated from its own errors, so the baselines' coverage is comparable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np

from .calibration import METHOD_COLUMNS, denominators, tables
from .config import CAL_HORIZON
from .models import Backtest, SeriesForecast

COLUMNS = ("level", "method_kind", "step", "n_series", "n_points", "n_band_points", "wape",
           "mape", "bias", "coverage_80", "coverage_95")


def _entries(bts: list[tuple[int, Backtest]], column: str) -> dict[str, np.ndarray]:
    cat = {f: np.concatenate([getattr(b, f) for _, b in bts])
           for f in ("origin", "step", "actual", "level", column)}
    sid = np.concatenate([np.full(len(b.step), i) for i, b in bts])
    point = cat[column]
    den = denominators(point, cat["level"])
    ok = den > 0
    e = {"series": sid, "origin": cat["origin"], "step": cat["step"], "actual": cat["actual"],
         "point": point}
    e = {k: v[ok] for k, v in e.items()}
    e["target"] = e["origin"] + e["step"] - 1
    e["err"] = np.abs(e["actual"] - e["point"]) / den[ok]
    return e


def accuracy_rows(
    fc: dict[Any, SeriesForecast], level_of: Callable[[Any], str]
) -> list[dict[str, Any]]:
    """One row per level x method x step (steps 1..CAL_HORIZON that have backtest points)."""
    by_level: dict[str, list[tuple[int, Backtest]]] = {}
    for i, (k, f) in enumerate(fc.items()):
        if f.backtest is not None:
            by_level.setdefault(level_of(k), []).append((i, f.backtest))
    rows: list[dict[str, Any]] = []
    for method, column in METHOD_COLUMNS.items():
        ent = {lv: _entries(b, column) for lv, b in by_level.items()}
        cov = {lv: np.full((2, len(e["err"])), np.nan) for lv, e in ent.items()}
        for t in np.unique(np.concatenate([e["origin"] for e in ent.values()] or [[]])):
            tabs = tables(ent, CAL_HORIZON, before=int(t))
            for lv, e in ent.items():
                at = np.flatnonzero(e["origin"] == t)
                if at.size == 0 or tabs[lv] is None:
                    continue
                q = tabs[lv][0][:, e["step"][at] - 1]  # (2, points)
                cov[lv][:, at] = e["err"][at][None, :] <= q + 1e-12
        for lv, e in ent.items():
            for s in np.unique(e["step"]):
                m = e["step"] == s
                a, p = e["actual"][m], e["point"][m]
                scale = float(np.abs(a).sum())
                nzero = a != 0
                c = cov[lv][:, m]
                scored = ~np.isnan(c[0])
                rows.append({
                    "level": lv, "method_kind": method, "step": int(s),
                    "n_series": int(np.unique(e["series"][m]).size), "n_points": int(m.sum()),
                    "n_band_points": int(scored.sum()),
                    "wape": float(np.abs(a - p).sum()) / scale if scale > 0 else None,
                    "mape": float(np.mean(np.abs(a - p)[nzero] / np.abs(a[nzero])))
                    if nzero.any() else None,
                    "bias": float((p - a).sum()) / scale if scale > 0 else None,
                    "coverage_80": float(c[0][scored].mean()) if scored.any() else None,
                    "coverage_95": float(c[1][scored].mean()) if scored.any() else None,
                })
    return rows


def pooled(rows: list[dict[str, Any]], levels: tuple[str, ...], steps: range,
           method: str = "mlcost") -> dict[str, float]:
    """Points and pooled 80/95% coverage over some levels and steps (the issue's proof)."""
    sel = [r for r in rows if r["level"] in levels and r["step"] in steps
           and r["method_kind"] == method and r["n_band_points"]]
    n = sum(r["n_band_points"] for r in sel)
    return {
        "n_points": sum(r["n_points"] for r in sel),
        "n_band_points": n,
        "coverage_80": sum(r["coverage_80"] * r["n_band_points"] for r in sel) / n if n else
        float("nan"),
        "coverage_95": sum(r["coverage_95"] * r["n_band_points"] for r in sel) / n if n else
        float("nan"),
    }


def write_backtest_accuracy(
    con: duckdb.DuckDBPyConnection, snapshot: str, fc: dict[tuple[str, tuple], SeriesForecast]
) -> int:
    """Insert the snapshot's ``forecast.backtest_accuracy`` rows; returns how many."""
    rows = accuracy_rows(fc, lambda k: k[0])
    if not rows:  # no series long enough to backtest
        return 0
    con.executemany(
        "INSERT INTO forecast.backtest_accuracy (snapshot_id, level, method_kind, step, "
        "n_series, n_points, n_band_points, wape, mape, bias, coverage_80, coverage_95) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[snapshot, *(r[c] for c in COLUMNS)] for r in rows],
    )
    return len(rows)
