"""The track record (forecast.forecast_accuracy) and the forecast export view."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from dagster_project.lib import forecast as fc
from dagster_project.lib.forecast import export_views

from .test_forecast import make_db

MLCOST = str(Path(sys.executable).parent / "mlcost")
EXPORT_COLUMNS = ["snapshot_id", "as_of_month", "created_at", "locked", "scenario", "level",
                  "team", "ml_model", "workload", "provider", "month", "point", "lo_80",
                  "hi_80", "lo_95", "hi_95", "method"]
ACCURACY_COLUMNS = ["quarter", "snapshot_id", "as_of_month", "locked_at", "retroactive",
                    "scenario", "level", "series_id", "team", "workload", "ml_model", "month",
                    "horizon", "method", "point", "lo_80", "hi_80", "lo_95", "hi_95", "actual",
                    "error", "abs_error", "abs_pct_error", "in_band_80", "in_band_95"]


def locked_db(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """Actuals 2024-01..2025-12; 2025Q3 locked now (after the fact), 2025Q4 locked on time."""
    con = make_db(duckdb.connect(str(path) if path else ":memory:"))
    fc.ensure_locked_forecast(con, "2025Q3", horizon=6)
    on_time = fc.build_forecasts(con, as_of_month=date(2025, 9, 1), horizon=3).snapshot_id
    con.execute("INSERT INTO forecast.forecast_locks VALUES ('2025Q4', ?, DATE '2025-09-01', "
                "TIMESTAMP '2025-10-02 06:00:00')", [on_time])
    fc.ensure_locked_forecast(con, "2026Q1", horizon=3)  # its months have not closed
    return con


def test_locked_snapshots_are_scored_against_actuals_as_months_close():
    con = locked_db()
    cols = [d[0] for d in con.execute("SELECT * FROM forecast.forecast_accuracy LIMIT 0")
            .description]
    assert cols == ACCURACY_COLUMNS
    rows = con.execute(
        "SELECT quarter, month, horizon, point, actual, error, lo_80, hi_80, in_band_80, "
        "in_band_95, lo_95, hi_95, retroactive FROM forecast.forecast_accuracy "
        "WHERE level = 'total' AND scenario = 'baseline' ORDER BY quarter, month").fetchall()
    # 2025Q3's lock forecast 6 months from 2025-07, 2025Q4's 3 from 2025-10; the data ends in
    # 2025-12, so 2026Q1's lock is not scored yet
    assert [(q, m, h) for q, m, h, *_ in rows] == (
        [("2025Q3", date(2025, m, 1), m - 6) for m in range(7, 13)]
        + [("2025Q4", date(2025, m, 1), m - 9) for m in range(10, 13)])
    monthly = dict(con.execute(
        "SELECT CAST(billing_month AS DATE), sum(effective_cost) FROM marts.fct_costs_monthly "
        "GROUP BY 1").fetchall())
    for _q, month, _h, point, actual, error, lo80, hi80, in80, in95, lo95, hi95, _r in rows:
        assert actual == monthly[month]
        assert error == actual - point
        assert in80 == (lo80 <= actual <= hi80) and in95 == (lo95 <= actual <= hi95)
    assert {q: r for q, *_, r in rows} == {"2025Q3": True, "2025Q4": False}
    # team x workload series are scored against the same keys of the mart
    tw = con.execute(
        "SELECT a.quarter, a.team, a.workload, a.month, a.actual, sum(m.effective_cost) "
        "FROM forecast.forecast_accuracy a JOIN marts.fct_costs_monthly m "
        "ON m.team = a.team AND m.workload = a.workload AND m.billing_month = a.month "
        "WHERE a.level = 'team_workload' AND a.scenario = 'base' GROUP BY ALL").fetchall()
    assert tw and all(actual == want for *_, actual, want in tw)
    levels = {r[0] for r in con.execute(
        "SELECT DISTINCT level FROM forecast.forecast_accuracy").fetchall()}
    assert levels == {"total", "team", "team_workload", "team_model"}
    # a month that is scored but had no cost for a series counts as zero actual cost
    con.execute("DELETE FROM marts.fct_costs_monthly WHERE team = 'vision' "
                "AND billing_month = DATE '2025-11-01'")
    (zero,) = con.execute(
        "SELECT actual FROM forecast.forecast_accuracy WHERE level = 'team' AND team = 'vision' "
        "AND month = DATE '2025-11-01' AND quarter = '2025Q4' AND scenario = 'baseline'"
    ).fetchone()
    assert zero == 0


def test_view_constants_match_the_view_text():
    assert f"INTERVAL {export_views.LOCK_GRACE_DAYS} DAY" in export_views.FORECAST_ACCURACY
    assert "IN ({})".format(", ".join(repr(s) for s in export_views.SCORED_SCENARIOS)) in \
        export_views.FORECAST_ACCURACY


def test_grace_decides_retroactive():
    con = locked_db()
    snap = fc.build_forecasts(con, as_of_month=date(2025, 3, 1), horizon=3).snapshot_id
    late = datetime(2025, 4, 8, 0, 0, 1)  # quarter start + 7 days + 1 s
    con.execute("INSERT INTO forecast.forecast_locks VALUES ('2025Q2', ?, DATE '2025-03-01', ?)",
                [snap, late])
    (flag,) = con.execute("SELECT DISTINCT retroactive FROM forecast.forecast_accuracy "
                          "WHERE quarter = '2025Q2'").fetchone()
    assert flag is True


def test_old_warehouse_is_migrated_model_to_method():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA forecast")
    con.execute("""CREATE TABLE forecast.forecast_values (snapshot_id VARCHAR NOT NULL,
        scenario VARCHAR NOT NULL, level VARCHAR NOT NULL, series_id VARCHAR NOT NULL,
        team VARCHAR, workload VARCHAR, ml_model VARCHAR, provider VARCHAR,
        service_name VARCHAR, pricing_unit VARCHAR, month DATE NOT NULL, step INTEGER NOT NULL,
        model VARCHAR, point DECIMAL(38,6) NOT NULL, lo_80 DECIMAL(38,6), hi_80 DECIMAL(38,6),
        lo_95 DECIMAL(38,6), hi_95 DECIMAL(38,6), base_point DECIMAL(38,6),
        pricing_quantity DECIMAL(38,12),
        PRIMARY KEY (snapshot_id, scenario, series_id, month))""")
    con.execute("INSERT INTO forecast.forecast_values (snapshot_id, scenario, level, series_id, "
                "month, step, model, point) VALUES ('s', 'baseline', 'total', '[\"total\"]', "
                "DATE '2025-01-01', 1, 'AutoETS', 12.5)")
    fc.ensure_schema(con)
    assert con.execute("SELECT method, point, history_class FROM forecast.forecast_values"
                       ).fetchall() == [("AutoETS", Decimal("12.5"), None)]
    fc.ensure_schema(con)  # idempotent


def test_exports_have_the_published_columns(tmp_path):
    path = tmp_path / "wh.duckdb"
    locked_db(path).close()
    env = {**os.environ, "MLCOST_CONFIG": "", "DAGSTER_HOME": str(tmp_path / "dh"),
           "MLCOST_REPORTS": str(tmp_path / "r"), "MLCOST_EXPORTS": str(tmp_path / "e")}
    for table, columns in (("forecast", EXPORT_COLUMNS), ("forecast_accuracy", ACCURACY_COLUMNS)):
        out = tmp_path / f"{table}.csv"
        proc = subprocess.run([MLCOST, "export", table, "--out", str(out), "--warehouse",
                               str(path)], env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        with out.open(newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames
            rows = list(reader)
        assert header[:len(columns)] == columns, header
        assert rows
        if table == "forecast":
            assert {r["scenario"] for r in rows} == {"baseline", "base", "best", "worst"}
            assert {r["locked"] for r in rows} == {"true"}  # every snapshot here is locked
