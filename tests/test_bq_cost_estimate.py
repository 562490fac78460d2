"""tools/bq_cost_estimate.py (docs/bigquery.md, "What production costs"): the arithmetic on one
case computed by hand, the bytes-per-row rules on a tiny DuckDB table, and its usage errors."""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal
from pathlib import Path

import duckdb

TOOL = Path(__file__).resolve().parents[1] / "tools" / "bq_cost_estimate.py"
spec = importlib.util.spec_from_file_location("bq_cost_estimate", TOOL)
bce = importlib.util.module_from_spec(spec)
sys.modules["bq_cost_estimate"] = bce  # dataclasses look their module up there
spec.loader.exec_module(bce)

TIB = 2**40


def test_estimate_matches_a_hand_computed_case():
    # 2^30 rows a month, 4 months: raw = 2^30 * 4 * 256 B = 1 TiB; FOCUS window (1 month) =
    # 2^30 * 512 B = 0.5 TiB; allocation history = 2^30 * 4 * 128 B = 0.5 TiB.
    i = bce.Inputs(rows_per_month=2**30, history_months=4, window_months=1, runs_per_day=1,
                   raw_bytes=256, focus_bytes=512, alloc_bytes=128, raw_scans=2,
                   window_passes=3, history_passes=1, gcs_staging=True)
    e = bce.estimate(i)
    assert (e.raw_scan_bytes, e.raw_window_bytes, e.window_bytes, e.history_bytes) == (
        2 * TIB, TIB / 2, Decimal("1.5") * TIB, TIB / 2)
    assert e.daily_run_bytes == 4 * TIB                       # 2*1 + 3*0.5 + 1*0.5
    assert e.daily_run_bytes_partitioned_raw == Decimal("2.5") * TIB  # 2*0.25 + 1.5 + 0.5
    assert e.rebuild_bytes == Decimal("8.5") * TIB            # 2*1 + 3*2 + 0.5
    assert e.month_query_usd == Decimal("743.75")             # (30*4 - 1 free) * 6.25
    assert e.month_query_usd_partitioned_raw == Decimal("462.50")  # (75 - 1) * 6.25
    assert e.rebuild_usd == Decimal("53.13")                  # 8.5 * 6.25 = 53.125
    # Active: raw 1024 GiB + 3 months * 640 GiB; long-term: 1 month * 640 GiB.
    assert (e.active_gib, e.long_term_gib) == (2944, 640)
    assert e.storage_usd == Decimal("65.08")                  # (2944 - 10) * 0.02 + 640 * 0.01
    assert e.gcs_usd == Decimal("26.62")                      # 1024 * 0.026
    assert "| Total per month | $835.45 | $554.20 |" in bce.table(i, e)


def test_measure_applies_bigquery_sizes(tmp_path):
    wh = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(wh))
    con.execute("create schema raw; create schema focus")
    con.execute("create table raw.aws_cur2 (a varchar, b varchar, _billing_period date)")
    con.execute("insert into raw.aws_cur2 values ('abc', null, date '2026-01-01'), "
                "('é', 'xy', null)")
    con.execute('create table focus.focus_cost_and_usage ("BilledCost" decimal(38, 24), '
                '"x_Qty" decimal(18, 6), "Flag" boolean, "N" bigint)')
    con.execute("insert into focus.focus_cost_and_usage values (1, 2, true, 3), "
                "(null, null, null, null)")
    con.close()
    # STRING = 2 + UTF-8 bytes, DATE 8, NULL 0: (5 + 0 + 8) + (4 + 4 + 0) = 21.
    # BIGNUMERIC 32 + NUMERIC 16 + BOOL 1 + INT64 8 = 57; the all-null row 0.
    assert bce.measure(wh) == {"raw.aws_cur2": (2, 21), "raw": (2, 21),
                               "focus.focus_cost_and_usage": (2, 57)}


def test_usage_errors(capsys):
    assert bce.main(["estimate", "--rows-per-month", "0"]) == 64
    assert "--rows-per-month must be positive" in capsys.readouterr().err
    assert bce.main(["estimate", "--window-months", "40", "--history-months", "36"]) == 64
    assert bce.main(["measure", "/nonexistent.duckdb"]) == 66
    assert bce.main(["estimate"]) == 0
    assert "| Total per month |" in capsys.readouterr().out


def test_docs_table_is_the_scripts_output():
    doc = (TOOL.parents[1] / "docs" / "bigquery.md").read_text()
    assert bce.table(bce.Inputs(), bce.estimate(bce.Inputs())) in doc
