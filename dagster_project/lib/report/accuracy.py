"""The report's forecast-accuracy section: read from ``forecast.backtest_accuracy``.

The numbers are computed once, by the forecast (lib/forecast/accuracy.py); this only reads
them for one snapshot and pools steps 1-3 with the same ``pooled`` function the tests use.
"""

from __future__ import annotations

from typing import Any

import duckdb

from dagster_project.lib.forecast.accuracy import pooled
from dagster_project.lib.warehouse import table_exists

LEVELS = ("total", "team", "team_workload")  # the proof levels
STEPS = range(1, 4)
BASELINES = ("seasonal_naive", "drift")


def accuracy_section(con: duckdb.DuckDBPyConnection, snapshot_id: str | None
                     ) -> tuple[dict[str, Any] | None, str | None]:
    """(section, None), or (None, why it is not shown)."""
    if not snapshot_id:
        return None, "no forecast snapshot to score"
    if not table_exists(con, "forecast", "backtest_accuracy"):
        return None, "forecast.backtest_accuracy does not exist (forecast not run yet)"
    cols = ("level", "method_kind", "step", "n_points", "n_band_points", "wape", "coverage_80",
            "coverage_95")
    rows = [dict(zip(cols, r, strict=True)) for r in con.execute(
        "SELECT level, method_kind, step, n_points, n_band_points, wape::DOUBLE, "
        "coverage_80::DOUBLE, coverage_95::DOUBLE FROM forecast.backtest_accuracy "
        "WHERE snapshot_id = ? AND step <= ? ORDER BY level, step, method_kind",
        [snapshot_id, STEPS[-1]]).fetchall()]
    if not rows:
        return None, f"snapshot {snapshot_id} has no backtest accuracy (history too short)"
    by_key = {(r["level"], r["step"], r["method_kind"]): r for r in rows}
    table = []
    for level in LEVELS:
        for step in STEPS:
            ours = by_key.get((level, step, "mlcost"))
            if ours is None:
                continue
            line = {"level": level, "step": step, "n_points": ours["n_points"],
                    "wape": _pct(ours["wape"]), "coverage_80": _pct(ours["coverage_80"]),
                    "coverage_95": _pct(ours["coverage_95"])}
            for b in BASELINES:
                other = by_key.get((level, step, b))
                line[b] = _pct(other["wape"]) if other else None
            naive = line["seasonal_naive"]
            line["beats_naive_by"] = (round(naive - line["wape"], 1)
                                      if naive is not None and line["wape"] is not None else None)
            table.append(line)
    p = pooled(rows, LEVELS, STEPS)
    summary = {"n_band_points": p["n_band_points"], "coverage_80": _pct(p["coverage_80"]),
               "coverage_95": _pct(p["coverage_95"])}
    return {"snapshot_id": snapshot_id, "rows": table, "pooled": summary}, None


def _pct(value: float | None) -> float | None:
    return None if value is None or value != value else round(value * 100, 1)
