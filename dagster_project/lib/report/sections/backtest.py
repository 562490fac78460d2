"""The out-of-sample backtest of the latest snapshot (forecast.backtest_accuracy), shown in
#accuracy beside the locked snapshots' track record. The numbers are computed once, by the
forecast (lib/forecast/accuracy.py); this reads them and pools steps 1-3 with its `pooled`."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from dagster_project.lib.forecast.accuracy import pooled
from dagster_project.lib.warehouse import table_exists

from .base import Column, Table

LEVELS = ("total", "team", "team_workload")  # the forecasting issue's proof levels
STEPS = range(1, 4)


def latest_snapshot(con: duckdb.DuckDBPyConnection, quarter_end: date) -> str | None:
    """The newest snapshot made after the quarter's last month, else the newest before it."""
    if not table_exists(con, "forecast", "forecast_snapshots"):
        return None
    row = con.execute(
        "select snapshot_id from forecast.forecast_snapshots "
        "order by as_of_month >= ? desc, "
        "case when as_of_month >= ? then as_of_month end asc, as_of_month desc, "
        "created_at desc limit 1", [quarter_end, quarter_end]).fetchall()
    return row[0][0] if row else None


def backtest(con: duckdb.DuckDBPyConnection, quarter_end: date
             ) -> tuple[str | None, Table | None]:
    """(summary sentence, table by level and step), or (None, None) without a backtest."""
    snap = latest_snapshot(con, quarter_end)
    if not snap or not table_exists(con, "forecast", "backtest_accuracy"):
        return None, None
    cols = ("level", "method_kind", "step", "n_points", "n_band_points", "wape",
            "coverage_80", "coverage_95")
    rows: list[dict[str, Any]] = [dict(zip(cols, r, strict=True)) for r in con.execute(
        "select level, method_kind, step, n_points, n_band_points, wape::double, "
        "coverage_80::double, coverage_95::double from forecast.backtest_accuracy "
        "where snapshot_id = ? and step <= ? order by level, step, method_kind",
        [snap, STEPS[-1]]).fetchall()]
    if not rows:
        return None, None
    ours = [dict(r, wape=_pct(r["wape"]), coverage_80=_pct(r["coverage_80"]),
                 coverage_95=_pct(r["coverage_95"]))
            for r in rows if r["method_kind"] == "mlcost" and r["level"] in LEVELS]
    p = pooled(rows, LEVELS, STEPS)
    text = (f"Rolling-origin backtests of snapshot {snap} (out of sample; docs/forecasting.md, "
            f"\"Backtests\"), pooled over levels {', '.join(LEVELS)} and steps 1-3: "
            f"{p['n_band_points']:,} series-months, 80% band coverage "
            f"{_pct(p['coverage_80'])}%, 95% band coverage {_pct(p['coverage_95'])}%.")
    table = Table(f"Backtest of snapshot {snap} by level and months ahead", [
        Column("level", "Level"), Column("step", "Months ahead", "int"),
        Column("n_points", "Points", "int"), Column("wape", "WAPE", "pct0"),
        Column("coverage_80", "Inside 80% band", "pct0"),
        Column("coverage_95", "Inside 95% band", "pct0")], ours, row_header="step")
    return text, table


def _pct(value: float | None) -> float | None:
    return None if value is None or value != value else round(value * 100, 1)
