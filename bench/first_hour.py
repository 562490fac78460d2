"""The `first_hour` bench group: what a user feels on the first day and every day after
(issue #18). Five timed `mlcost run`s, one of them the build the next two need:

1. ``first_run``: one small real export (tests/fixtures/real, a few hundred rows) into an
   empty warehouse; ``noop_real``: the same landing folder again, nothing changed.
2. ``full_build``: an 18-month demo warehouse built from a landing folder cut one day short
   (as bench_incremental does; not a target, the base of the next two).
3. ``daily_aws``: AWS alone re-delivers the current month one day longer (GCP and Azure have
   not delivered yet that day); the run's time without the review packs is the target.
4. ``noop_demo``: `mlcost run` again over that landing folder, where nothing changed since.

The timed runs of 1 and 3 go through `steps.py run` (the CLI's own entry point, with the
review-pack time measured apart); the no-ops run the installed `mlcost` command itself.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

import targets
from harness import BIN, ROOT, STEPS, _fresh, _mlcost_env, measure

# The default small real export: OCI's native cost report, 506 rows of real (non-zero) cost;
# BENCH_FIRST_RUN_SAMPLE names another file under tests/fixtures/real.
DEFAULT_SAMPLE = "oci/cost_report_csv_native/reports_cost-csv_0000000030000269.csv"
REAL = ROOT / "tests" / "fixtures" / "real"


def backdate(folder: Path, seconds_ago: float) -> None:
    """Deliveries older than the loader's settle time (MLCOST_SETTLE_SECONDS, 10 s): a real
    daily run finds files delivered hours ago, not seconds, and a young file would be left
    for a later run (and would keep the no-op from being recorded)."""
    t = time.time() - seconds_ago
    for p in folder.rglob("*"):
        if p.is_file():
            os.utime(p, (t, t))


def _read(step: dict) -> str:
    try:
        return Path(step["log"]).read_text(errors="replace")
    except (KeyError, OSError):
        return ""


def _annotate(step: dict, work: Path) -> dict:
    """What the run said about itself: the no-op sentence and its own elapsed time. Its
    Dagster/dbt log (step and dbt node timings) is kept beside the step's log."""
    run_log = work / "logs" / "mlcost-last-run.log"
    if run_log.exists() and step.get("log"):
        shutil.copy2(run_log, Path(step["log"]).with_suffix(".run.log"))
        run_log.unlink()  # a no-op writes none: do not copy this one again
    text = _read(step)
    step["says_nothing_new"] = targets.says_nothing_new(text)
    step["reported_s"] = targets.reported_seconds(text)
    return step


def _rows_loaded(warehouse: Path) -> int | None:
    """Rows the run loaded, from its ledger (any format; None if the run left no ledger)."""
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        (rows,) = con.execute("select sum(row_count) from meta.load_ledger "
                              "where status = 'loaded'").fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return None if rows is None else int(rows)


def _run_cmd(landing: Path, warehouse: Path, *, split_render: bool) -> list[str]:
    if split_render:
        return [*STEPS, "run", "--landing", str(landing), "--warehouse", str(warehouse)]
    return [str(BIN / "mlcost"), "run", "--landing", str(landing), "--warehouse", str(warehouse)]


def _env(work: Path) -> dict:
    # Review packs inside the scratch folder, not the project's data/reports.
    return {**_mlcost_env(work), "MLCOST_REPORTS": str(work / "reports")}


def first_run(work: Path, logs: Path) -> dict:
    rel = os.environ.get("BENCH_FIRST_RUN_SAMPLE", DEFAULT_SAMPLE)
    sample = REAL / rel
    if not sample.is_file():
        raise FileNotFoundError(f"BENCH_FIRST_RUN_SAMPLE={rel}: no such file under {REAL}")
    landing = work / "landing"
    landing.mkdir(parents=True)
    shutil.copy2(sample, landing / sample.name)
    backdate(landing, 3600)
    wh = work / "warehouse.duckdb"
    env = _env(work)
    out = {"sample": {"path": f"tests/fixtures/real/{rel}", "rows": None}}
    out["first_run"] = _annotate(measure("fh-first-run-real", _run_cmd(
        landing, wh, split_render=True), env=env, log_dir=logs), work)
    out["sample"]["rows"] = _rows_loaded(wh)
    out["noop_real"] = _annotate(measure("fh-noop-real", _run_cmd(
        landing, wh, split_render=False), env=env, log_dir=logs), work)
    return out


def demo_daily(work: Path, logs: Path) -> dict:
    from dagster_project.lib.generate import default_end_month, generate

    full_land = work / "demo"
    generate(full_land, months=18)
    end = default_end_month()
    last_day = (dt.date(end.year + end.month // 12, end.month % 12 + 1, 1)
                - dt.timedelta(days=1))
    landing = work / "landing"
    cut = measure("fh-day-cut", [*STEPS, "day-cut", "--src", str(full_land / "landing"),
                                 "--dst", str(landing), "--last-day", last_day.isoformat()],
                  log_dir=logs)
    out: dict = {"last_day": last_day.isoformat(), "day_cut": cut}
    if not cut["ok"]:
        return out
    backdate(landing, 2 * 3600)  # yesterday's deliveries
    wh = work / "warehouse.duckdb"
    env = _env(work)
    out["full_build"] = _annotate(measure("fh-demo-full-build", _run_cmd(
        landing, wh, split_render=True), env=env, log_dir=logs), work)
    if not out["full_build"]["ok"]:
        return out
    # The next morning AWS re-delivers its month-to-date files one day longer, same paths.
    aws = [rel for rel in cut.get("own", {}).get("changed", []) if rel.startswith("aws/")]
    for rel in aws:
        shutil.copy2(full_land / "landing" / rel, landing / rel)
        t = time.time() - 3600
        os.utime(landing / rel, (t, t))
    out["redelivered"] = aws
    out["daily_aws"] = _annotate(measure("fh-daily-aws", _run_cmd(
        landing, wh, split_render=True), env=env, log_dir=logs), work)
    out["noop_demo"] = _annotate(measure("fh-noop-demo", _run_cmd(
        landing, wh, split_render=False), env=env, log_dir=logs), work)
    return out


def bench_first_hour(data: Path, logs: Path) -> dict:
    work = _fresh(data / "first_hour")
    try:
        out = first_run(work / "real", logs)
        out.update(demo_daily(work / "demo", logs))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out
