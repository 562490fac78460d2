"""Nothing lost, nothing twice: a load killed with SIGKILL mid-transaction leaves the warehouse
as it was before that delivery, and the next run loads the delivery exactly once."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from dagster_project.lib.ingest.loader import ingest_landing
from dagster_project.lib.warehouse import connection

REAL = Path(__file__).parent / "fixtures" / "real"
FOCUS_SAMPLE = REAL / "multi/focus_1.0_finops_foundation_sample/focus_sample.csv"
SAMPLE_BILLED = Decimal("20.52022672899")

# Loads the landing folder with the loader's `before_commit` seam replaced by a hold.
HOLD_SCRIPT = Path(__file__).parent / "support" / "hold_before_commit.py"


def _restated_many(dest: Path, factor: int, copies: int) -> None:
    """The sample's rows `copies` times, every amount times `factor`: one big re-delivery."""
    with open(FOCUS_SAMPLE, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    money = [header.index("BilledCost"), header.index("EffectiveCost")]
    for r in body:
        for i in money:
            r[i] = str(Decimal(r[i]) * factor)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for _ in range(copies):
        w.writerows(body)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(out.getvalue())


def _state(wh: Path):
    with connection(wh, read_only=True) as con:
        return (
            con.execute("select count(*), sum(try_cast(billed_cost as decimal(38, 24))) "
                        "from raw.focus").fetchone(),
            con.execute("select file_id, path, status from meta.load_ledger order by all"
                        ).fetchall(),
            con.execute("select file_id, billing_period, is_current, superseded_by "
                        "from meta.deliveries order by all").fetchall(),
        )


def test_sigkill_mid_load_leaves_the_warehouse_unchanged_and_a_rerun_completes(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    (landing / "2024-09-v1").mkdir(parents=True)
    (landing / "2024-09-v1" / "focus.csv").write_bytes(FOCUS_SAMPLE.read_bytes())
    old = time.time() - 600
    os.utime(landing / "2024-09-v1" / "focus.csv", (old, old))
    with connection(wh) as con:
        ingest_landing(con, landing, settle=0)
    before = _state(wh)

    # A big re-delivery of the month (20,000 rows) supersedes v1 inside its transaction.
    _restated_many(landing / "2024-09-v2" / "focus.csv", factor=2, copies=20)
    held = tmp_path / "held"
    proc = subprocess.Popen([sys.executable, str(HOLD_SCRIPT), str(wh), str(landing), str(held)],
                            cwd=Path(__file__).parent.parent)
    try:
        deadline = time.monotonic() + 120
        while not held.exists():  # rows inserted, supersession applied, commit pending
            assert proc.poll() is None, "the load ended before reaching the hold point"
            assert time.monotonic() < deadline, "the load never reached the hold point"
            time.sleep(0.05)
        assert held.read_text().endswith("2024-09-v2/focus.csv")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    # Exactly as before the delivery: no raw rows, no ledger row, v1 still current.
    assert _state(wh) == before

    with connection(wh) as con:
        result = ingest_landing(con, landing, settle=0)
        assert [o.status for o in result.outcomes] == ["duplicate", "loaded"]
        assert con.execute("select count(*) from raw.focus").fetchone() == (1000 + 20_000,)
        assert con.execute(
            "select count(*) from meta.load_ledger where status = 'loaded'").fetchone() == (2,)
        assert con.execute("select sum(billed_total) from meta.deliveries where is_current"
                           ).fetchone()[0] == SAMPLE_BILLED * 2 * 20
        # A third run is a no-op.
        again = ingest_landing(con, landing, settle=0)
        assert {o.status for o in again.outcomes} == {"duplicate"}
        assert con.execute("select count(*) from raw.focus").fetchone() == (21_000,)
