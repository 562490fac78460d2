"""`mlcost forecast` on the pinned demo: the issue's example file, the demo's own scenarios
file, a bad file (exit 65, nothing written). Each test works on a copy of the warehouse, so
the pinned figures (test_pinned_demo.py) are not touched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.forecast.scenario_file import load_scenario_file

from .test_forecast_scenarios import EXAMPLE

MLCOST = str(Path(sys.executable).parent / "mlcost")


def mlcost(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLCOST_CONFIG": "", "DAGSTER_HOME": str(tmp / "dagster_home"),
           "MLCOST_REPORTS": str(tmp / "reports"), "MLCOST_EXPORTS": str(tmp / "exports")}
    env.pop("MLCOST_SCENARIOS", None)
    return subprocess.run([MLCOST, *args], env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def warehouse(pinned_demo, tmp_path) -> Path:
    copy = tmp_path / "wh.duckdb"
    shutil.copy(pinned_demo / "wh.duckdb", copy)
    return copy


def test_issue_example_on_the_pinned_demo(warehouse, tmp_path):
    example = tmp_path / "example.yml"
    example.write_text(EXAMPLE, encoding="utf-8")
    with duckdb.connect(str(warehouse)) as con:
        # the demo's run locked 2026Q4 (the current quarter) with its own file; this copy
        # drops that lock so --lock can be seen to write one
        demo_lock = con.execute("SELECT snapshot_id FROM forecast.forecast_locks "
                                "WHERE quarter = '2026Q4'").fetchone()[0]
        con.execute("DELETE FROM forecast.forecast_locks WHERE quarter = '2026Q4'")
    proc = mlcost(tmp_path, "forecast", "--horizon", "18", "--scenarios", str(example),
                  "--as-of", "2026-09", "--lock", "--warehouse", str(warehouse))
    assert proc.returncode == 0, proc.stderr[-3000:]
    snap = proc.stdout.split()[2]
    assert "as of 2026-09, 18 months" in proc.stdout and "Locked as the plan of 2026Q4" in \
        proc.stdout
    for name in ("baseline", "best", "base", "worst"):
        assert f"\n  {name} " in proc.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # team and model of the example are what the demo's seeds say
        assert con.execute("SELECT count(*) FROM reference.teams WHERE team = 'search-ranking'"
                           ).fetchall() == [(1,)]
        assert con.execute("SELECT DISTINCT team FROM reference.ml_models "
                           "WHERE ml_model = 'recsys-two-tower'").fetchall() == \
            [("recommendations",)]
        total = dict(con.execute(
            "SELECT month, max(point) FILTER (WHERE scenario = 'base') "
            "- max(point) FILTER (WHERE scenario = 'baseline') FROM forecast.forecast_values "
            "WHERE snapshot_id = ? AND level = 'total' GROUP BY month", [snap]).fetchall())
        assert len(total) == 18
        assert [total[m] for m in sorted(total)[3:6]] == [Decimal("8000.000000")] * 3
        assert all(total[m] == 0 for m in sorted(total)[:3])  # before 2027-01
        training = con.execute(
            "SELECT month, scenario, sum(point) FROM forecast.forecast_values "
            "WHERE snapshot_id = ? AND level = 'segment' AND ml_model = 'recsys-two-tower' "
            "AND workload = 'training' GROUP BY ALL", [snap]).fetchall()
        by = {}
        for month, scen, point in training:
            by.setdefault(month, {})[scen] = point
        months = sorted(by)
        assert len(months) == 18
        for i, month in enumerate(months):
            want = {"base": 2, "best": 1.6, "worst": 2.4} if i >= 6 else \
                {"base": 1, "best": 1, "worst": 1}  # 2027-04 is the 7th month
            for scen, factor in want.items():
                assert abs(float(by[month][scen]) - factor * float(by[month]["baseline"])) \
                    < 1e-5, (month, scen)
        # best <= base <= worst everywhere, and every scenario's hierarchy adds up
        (inverted,) = con.execute(
            "SELECT count(*) FROM (SELECT series_id, month, "
            "max(point) FILTER (WHERE scenario = 'best') AS best, "
            "max(point) FILTER (WHERE scenario = 'base') AS base, "
            "max(point) FILTER (WHERE scenario = 'worst') AS worst "
            "FROM forecast.forecast_values WHERE snapshot_id = ? GROUP BY ALL) "
            "WHERE NOT (best <= base AND base <= worst)", [snap]).fetchone()
        assert inverted == 0
        gaps = con.execute(
            "SELECT scenario, level, max(abs(s - t)) FROM (SELECT scenario, level, month, "
            "sum(point) AS s FROM forecast.forecast_values WHERE snapshot_id = ? GROUP BY ALL) "
            "JOIN (SELECT scenario, month, point AS t FROM forecast.forecast_values "
            "WHERE snapshot_id = ? AND level = 'total') USING (scenario, month) GROUP BY ALL",
            [snap, snap]).fetchall()
        assert len(gaps) == 4 * 5 and all(g < Decimal("0.01") for *_, g in gaps), gaps
        assert con.execute("SELECT snapshot_id FROM forecast.forecast_locks "
                           "WHERE quarter = '2026Q4'").fetchall() == [(snap,)]
    again = mlcost(tmp_path, "forecast", "--horizon", "18", "--scenarios", str(example),
                   "--as-of", "2026-09", "--lock", "--warehouse", str(warehouse))
    assert again.returncode == 0 and f"{snap} (reused)" in again.stdout
    assert "already locked, unchanged" in again.stdout
    assert demo_lock != snap  # the demo's file is not the example: another snapshot


def test_the_demo_ships_a_scenarios_file_that_run_uses(pinned_demo):
    path = pinned_demo / "demo" / "scenarios.yml"
    sfile = load_scenario_file(path)
    kinds = {a.kind for a in sfile.assumptions}
    assert kinds == {"monthly_cost", "multiplier", "growth_rate", "volume"}
    assert [a.name for a in sfile.assumptions[:2]] == ["ranker-v2 launch",
                                                       "training data doubles"]
    with duckdb.connect(str(pinned_demo / "wh.duckdb"), read_only=True) as con:
        snap, params = con.execute(
            "SELECT snapshot_id, params_json FROM forecast.forecast_snapshots "
            "ORDER BY as_of_month DESC, created_at DESC LIMIT 1").fetchone()
        names = [a["source"] for s in json.loads(params)["scenarios"] if s["name"] == "base"
                 for a in s["adjustments"]]
        assert names == [a.name for a in sfile.assumptions]
        # the run locked the current quarter (2026Q4, as of 2026-09) with this snapshot
        assert con.execute("SELECT snapshot_id FROM forecast.forecast_locks "
                           "WHERE quarter = '2026Q4'").fetchall() == [(snap,)]
        # growth from 2026-10 on: base above the baseline from the first month
        first = con.execute(
            "SELECT max(point) FILTER (WHERE scenario = 'base') "
            "- max(point) FILTER (WHERE scenario = 'baseline') FROM forecast.forecast_values "
            "WHERE snapshot_id = ? AND level = 'total' AND step = 1", [snap]).fetchone()[0]
        assert first > 0


def test_a_bad_file_exits_65_and_writes_nothing(warehouse, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("assumptions:\n  - name: typo\n    model: recsys-two-towr\n"
                   "    from: 2027-04\n    multiplier: 2\n", encoding="utf-8")

    def counts():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return [con.execute(f"SELECT count(*) FROM forecast.{t}").fetchone()[0]  # noqa: S608
                    for t in ("forecast_runs", "forecast_snapshots", "forecast_values")]

    before = counts()
    proc = mlcost(tmp_path, "forecast", "--scenarios", str(bad), "--warehouse", str(warehouse))
    assert proc.returncode == 65, proc.stderr
    assert f"{bad}: the scenarios file is not valid" in proc.stderr
    assert "line 3, assumption 'typo', field `model`: 'recsys-two-towr' is neither" in \
        proc.stderr
    assert "Traceback" not in proc.stderr
    assert counts() == before
    missing = mlcost(tmp_path, "forecast", "--scenarios", str(tmp_path / "nope.yml"),
                     "--warehouse", str(warehouse))
    assert missing.returncode == 66 and "scenarios file not found" in missing.stderr
    usage = mlcost(tmp_path, "forecast", "--as-of", "2026-08", "--lock", "--warehouse",
                   str(warehouse))
    assert usage.returncode == 64 and "2026-09 for 2026Q4" in usage.stderr


def test_run_with_a_bad_file_publishes_costs_and_exits_65(pinned_demo, warehouse, tmp_path):
    """`mlcost run` with a bad scenarios file: the costs of the rebuilt period are published,
    the forecast is not written, and the run exits 65 naming the file's problem."""
    bad = tmp_path / "bad.yml"
    bad.write_text("assumptions:\n  - name: late\n    team: fraud-detection\n"
                   "    from: 2027-13\n    multiplier: 1.1\n", encoding="utf-8")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        snapshots = con.execute("SELECT count(*) FROM forecast.forecast_snapshots").fetchone()
    env_run = ("run", "--landing", str(pinned_demo / "demo" / "landing"), "--warehouse",
               str(warehouse), "--period", "2026-09")
    proc = subprocess.run(
        [MLCOST, *env_run],
        env={**os.environ, "MLCOST_CONFIG": "", "MLCOST_SCENARIOS": str(bad),
             "DAGSTER_HOME": str(tmp_path / "dagster_home"),
             "MLCOST_REPORTS": str(tmp_path / "reports"),
             "MLCOST_EXPORTS": str(tmp_path / "exports")},
        capture_output=True, text=True, check=False)
    assert proc.returncode == 65, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "published the costs but did not forecast" in proc.stderr
    assert f"{bad}: the scenarios file is not valid" in proc.stderr
    assert "line 4" in proc.stderr and "Traceback" not in proc.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM forecast.forecast_snapshots").fetchone() == \
            snapshots
        assert con.execute("SELECT count(*) FROM marts.fct_cost_allocations "
                           "WHERE billing_period = DATE '2026-09-01'").fetchone()[0] > 0
