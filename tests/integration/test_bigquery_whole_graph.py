"""The whole asset graph with BigQuery as the warehouse (`mlcost run --target emulator`), on a
local emulator, against a DuckDB run (`--target dev`) of the same demo exports.

The demo comes from the pinned demo's generator (seed 42, end month 2026-09) over 6 months at
0.05 scale: the emulator loads CSV rows one by one (crucible's executemany, about 80 wide rows
a second), so the pinned demo's 245k rows would take most of an hour; 6 months still give a
locked quarter, a forecast and a variance. Its amounts are rounded to 9 decimals first (the
emulator's NUMERIC; see `_round_amounts_to_nine_decimals`). Compared: FOCUS totals per
provider, per-team allocation totals, the raw rows per delivery, the forecast and the variance (see
each test for how close and why), then `mlcost export` and `mlcost report` read
back from BigQuery. Run by `make test-bigquery`."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib import bigquery as bq

from .conftest import CRUCIBLE

pytestmark = pytest.mark.skipif(
    not CRUCIBLE, reason="needs the BigQuery emulator: run `make test-bigquery`")

PROJECT = "mlcost-whole-graph"
MLCOST = str(Path(sys.executable).parent / "mlcost")
DEMO = ["--end-month", "2026-09", "--months", "6", "--scale", "0.05", "--seed", "42"]
NINE = Decimal("1e-9")


# A number with more than 9 decimals in an export's text (CSV, JSON lines).
_LONG_DECIMAL = re.compile(rb"(?<![\w.])(-?\d+\.\d{10,})(?![\d.])")


def _round_amounts_to_nine_decimals(landing: Path) -> int:
    """Round every amount of the billing exports to 9 decimals, in place, keeping each file's
    format. The emulator has no BIGNUMERIC: its NUMERIC holds 9 decimals, and the demo's
    amounts have 10 (as CUR, Cloud Billing and Cost Management exports do), which could not
    reconcile exactly there. Both runs read the rounded files, so the comparison is fair.
    Returns how many values changed."""
    changed = 0

    def nine(m: re.Match) -> bytes:
        nonlocal changed
        changed += 1
        return str(Decimal(m.group(1).decode()).quantize(NINE, ROUND_HALF_EVEN)).encode()

    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        if path.suffix in (".csv", ".jsonl"):
            path.write_bytes(_LONG_DECIMAL.sub(nine, path.read_bytes()))
        elif path.suffix == ".parquet":
            con = duckdb.connect()
            src = str(path).replace("'", "''")
            # Paths of the test's own temporary folder, quotes doubled.
            cols = con.execute(f"describe select * from read_parquet('{src}')").fetchall()  # noqa: S608
            select = ", ".join(
                f"round({_q(c)}, 9)::{t} as {_q(c)}" if t in ("DOUBLE", "FLOAT") or (
                    t.startswith("DECIMAL") and int(t.split(",")[1].rstrip(")")) > 9)
                else _q(c) for c, t, *_ in cols)
            tmp = str(path.with_suffix(".tmp")).replace("'", "''")
            con.execute(f"copy (select {select} from read_parquet('{src}')) to '{tmp}' "  # noqa: S608
                        "(format parquet, compression snappy)")
            con.close()
            path.with_suffix(".tmp").replace(path)
            changed += 1
    return changed


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([MLCOST, *args], env=env, capture_output=True, text=True,
                          check=False, timeout=3000)


@pytest.fixture(scope="module")
def runs(emulator, tmp_path_factory):
    """(BigQuery client, DuckDB warehouse of the dev run, working copy of the BigQuery run,
    the BigQuery run's environment, its output)."""
    base = tmp_path_factory.mktemp("whole-graph")
    gen = _run(["generate", "--out", str(base / "demo"), *DEMO], dict(os.environ))
    assert gen.returncode == 0, gen.stderr
    assert _round_amounts_to_nine_decimals(base / "demo" / "landing") > 0
    common = {**{k: v for k, v in os.environ.items() if not k.startswith("MLCOST_BQ_")},
              "MLCOST_SETTLE_SECONDS": "0", "MLCOST_REFERENCE_SET": "demo",
              "MLCOST_MLFLOW_URI": f"sqlite:///{base / 'demo' / 'mlflow' / 'mlflow.db'}"}
    out = {}
    for target in ("dev", "emulator"):
        landing = base / target / "landing"
        shutil.copytree(base / "demo" / "landing", landing)
        shutil.copy(base / "demo" / "scenarios.yml", landing.parent / "scenarios.yml")
        env = {**common, "DAGSTER_HOME": str(base / target / "dagster_home"),
               "MLCOST_REPORTS": str(base / target / "reports")}
        if target == "emulator":
            env.update({"MLCOST_BQ_API_ENDPOINT": emulator, "MLCOST_BQ_PROJECT": PROJECT,
                        "MLCOST_BQ_MONEY_TYPE": "NUMERIC"})
        res = _run(["run", "--target", target, "--landing", str(landing),
                    "--warehouse", str(base / target / "wh.duckdb")], env)
        assert res.returncode == 0, (res.stdout + res.stderr)[-6000:]
        out[target] = (env, res)
    settings = bq.BigQuerySettings(project=PROJECT, api_endpoint=emulator, money_type="NUMERIC")
    return (bq.client_for(settings), base / "dev" / "wh.duckdb", base / "emulator" / "wh.duckdb",
            out["emulator"][0], out["emulator"][1])


def _bq(client, sql: str) -> list[tuple]:
    return [tuple(r.values()) for r in client.query(sql).result()]


def _duck(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _exact(rows) -> set[tuple]:
    return {tuple(Decimal(str(v)).normalize() if isinstance(v, (Decimal, float)) else v
                  for v in row) for row in rows}


def test_the_run_on_bigquery_says_what_it_did(runs):
    *_, res = runs
    loaded = next(line for line in res.stdout.splitlines() if line.startswith("Rows loaded:"))
    assert all(p in loaded for p in ("aws", "azure", "gcp")), loaded
    assert "Billing periods rebuilt: 2026-04 to 2026-09" in res.stdout, res.stdout
    assert "Traceback" not in res.stderr


def test_raw_rows_per_delivery_match(runs):
    client, dev, _, _, _ = runs
    got = {r[0]: r[1] for r in _bq(
        client, f"select file_id, row_count from `{PROJECT}.meta.load_ledger` "  # noqa: S608
        "where status = 'loaded'")}
    want = {r[0]: r[1] for r in _duck(
        dev, "select file_id, row_count from meta.load_ledger where status = 'loaded'")}
    assert got == want and len(got) > 10


def test_focus_totals_per_provider_match_to_the_cent_and_beyond(runs):
    client, dev, *_ = runs
    sql = ("select ProviderName, sum(BilledCost), sum(EffectiveCost), count(*) from {} "
           "group by 1")
    got = _exact(_bq(client, sql.format(f"`{PROJECT}.focus.focus_cost_and_usage`")))
    want = _exact(_duck(dev, sql.format("focus.focus_cost_and_usage")))
    assert got == want and len(want) == 3


def _by_key(rows, width: int) -> dict[tuple, tuple[Decimal, ...]]:
    return {r[:width]: tuple(Decimal(str(v)) for v in r[width:]) for r in rows}


def _max_gap(got: dict, want: dict) -> Decimal:
    assert got.keys() == want.keys(), got.keys() ^ want.keys()
    return max(abs(a - b) for k in want for a, b in zip(got[k], want[k], strict=True))


def test_team_totals_match_to_the_cent(runs):
    """Shared-cost split shares are DOUBLE on DuckDB and decimal on BigQuery, each piece then
    rounded (10 decimals; 9 on the emulator's NUMERIC): team totals may differ by a few
    millionths, never by a cent, and each engine conserves the FOCUS total exactly (dbt test
    assert_cost_allocations_conserve_focus_totals, which ran on both)."""
    client, dev, *_ = runs
    sql = "select team, sum(billed_cost), sum(effective_cost) from {} group by 1"
    got = _by_key(_bq(client, sql.format(f"`{PROJECT}.marts.fct_cost_allocations`")), 1)
    want = _by_key(_duck(dev, sql.format("marts.fct_cost_allocations")), 1)
    assert len(want) >= 4
    assert _max_gap(got, want) < Decimal("0.0001")
    total = "select sum(billed_cost), sum(effective_cost) from {}"
    assert _exact(_bq(client, total.format(f"`{PROJECT}.marts.fct_cost_allocations`"))) == \
        _exact(_duck(dev, total.format("marts.fct_cost_allocations")))


def test_forecast_and_variance_match(runs):
    client, dev, *_ = runs
    fc = ("select v.scenario, v.level, v.series_id, v.month, round(v.point, 2) "
          "from {v} v join {s} s using (snapshot_id) where v.level in ('total', 'team')")
    got = set(_bq(client, fc.format(v=f"`{PROJECT}.forecast.forecast_values`",
                                    s=f"`{PROJECT}.forecast.forecast_snapshots`")))
    want = set(_duck(dev, fc.format(v="forecast.forecast_values",
                                    s="forecast.forecast_snapshots")))
    assert got and {r[0] for r in got} >= {"baseline", "base", "best", "worst"}
    assert {r[:4] for r in got} == {r[:4] for r in want}
    # Floats inside the model; both engines feed it the same exact monthly costs.
    diffs = {r[:4]: r[4] for r in got} , {r[:4]: r[4] for r in want}
    worst = max(abs(Decimal(str(diffs[0][k])) - Decimal(str(diffs[1][k]))) for k in diffs[1])
    assert worst <= Decimal("0.01"), worst
    # Built on the team totals above (equal to a few millionths): equal to the cent.
    var = ("select quarter, level, coalesce(team, ''), coalesce(workload, ''), "
           "coalesce(ml_model, ''), actual_cost, forecast_cost, volume_effect, mix_effect, "
           "price_effect, commitment_effect from {}")
    got = _by_key(_bq(client, var.format(f"`{PROJECT}.variance.quarterly_variance`")), 5)
    want = _by_key(_duck(dev, var.format("variance.quarterly_variance")), 5)
    assert want and _max_gap(got, want) < Decimal("0.01")


def test_export_and_report_read_bigquery(runs, tmp_path):
    client, dev, working_copy, env, _ = runs
    out = tmp_path / "variance.csv"
    res = _run(["export", "variance", "--target", "emulator", "--warehouse",
                str(working_copy), "--out", str(out)], env)
    assert res.returncode == 0, res.stderr
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    (n,) = _duck(dev, "select count(*) from variance.quarterly_variance")[0]
    assert len(rows) == n > 0
    res = _run(["report", "--quarter", "2026Q3", "--format", "html", "--target", "emulator",
                "--warehouse", str(working_copy), "--out", str(tmp_path / "reports")], env)
    assert res.returncode == 0, res.stdout + res.stderr
    html = (tmp_path / "reports" / "2026Q3" / "report.html").read_text()
    for anchor in ("headline", "bridge", "drivers", "outlook", "data-quality"):
        assert f'id="{anchor}"' in html
