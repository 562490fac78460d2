"""The measured steps of `make bench`, each run as its own process by bench/run.py (so its
wall time and peak memory are its own). Not a user-facing command."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _emit(**info) -> None:
    # bench/run.py reads the last stdout line as the step's own numbers.
    print("BENCH " + json.dumps(info, default=str), flush=True)


def cmd_generate(a) -> None:
    from dagster_project.lib.generate.scale import generate_scaled

    t = time.perf_counter()
    s = generate_scaled(Path(a.out), a.rows, seed=a.seed, providers=tuple(a.providers.split(",")))
    _emit(seconds=time.perf_counter() - t, rows=s.rows_by_provider, replicas=int(s.scale),
          bytes=sum(p.stat().st_size for p in s.files))


def cmd_floor(a) -> None:
    """The practical floor: every column of the source read and written once by DuckDB
    (`CREATE TABLE AS SELECT *` into a fresh DuckDB file), with the warehouse's settings."""
    from dagster_project.lib.warehouse import connect

    wh = Path(a.warehouse)
    wh.unlink(missing_ok=True)
    con = connect(wh)
    readers = {
        "parquet": "select * from read_parquet(?)",
        "json": "select * from read_json(?, format = 'newline_delimited')",
        "csv": "select * from read_csv(?, header = true)",
    }
    t = time.perf_counter()
    rows = 0
    for i, spec in enumerate(a.source):
        kind, glob = spec.split(":", 1)
        con.execute(f"create table t{i} as {readers[kind]}", [glob])
        rows += con.execute(f"select count(*) from t{i}").fetchone()[0]  # noqa: S608 (own name)
    con.close()
    _emit(seconds=time.perf_counter() - t, rows=rows)


def cmd_ingest(a) -> None:
    from dagster_project.lib.ingest.loader import ingest_landing
    from dagster_project.lib.warehouse import connection

    t = time.perf_counter()
    with connection(Path(a.warehouse)) as con:
        result = ingest_landing(con, Path(a.landing))
    loaded = result.by_status("loaded")
    waiting = result.by_status("waiting")
    _emit(seconds=time.perf_counter() - t, rows=sum(o.rows for o in loaded), files=len(loaded),
          errors=result.errors, waiting=len(waiting))
    # A step that loaded nothing measured nothing: fail it rather than report its time.
    if result.errors or waiting or not loaded:
        sys.exit(2)


def cmd_forecast(a) -> None:
    """Model selection (rolling-origin backtest) + forecast + band calibration of N synthetic
    monthly series at h = 18, exactly the work `mlcost run` does in its forecast stage."""
    import numpy as np

    from dagster_project.lib.forecast.config import DEFAULT_HORIZON
    from dagster_project.lib.forecast.series import forecast_all

    rng = np.random.default_rng(7)
    months = np.arange(a.months)
    items = []
    for i in range(a.series):
        level = rng.lognormal(7, 1.5)
        trend = (1 + rng.normal(0.01, 0.02)) ** months
        season = 1 + 0.1 * np.sin(2 * np.pi * months / 12 + rng.uniform(0, 6.3))
        noise = 1 + rng.normal(0, 0.08, a.months)
        items.append((i, np.maximum(0.0, level * trend * season * noise)))
    import resource

    forecast_all(items[:2], DEFAULT_HORIZON, 1)  # statsforecast's numba warm-up

    def cpu() -> float:  # this process and its reaped workers, user + system
        own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                                     resource.RUSAGE_CHILDREN))
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    t, c = time.perf_counter(), cpu()
    out = forecast_all(items, DEFAULT_HORIZON, a.jobs)
    # cpu_seconds / jobs is the wall time on ``jobs`` free cores (a shared box inflates wall)
    _emit(seconds=time.perf_counter() - t, cpu_seconds=cpu() - c, series=len(out), jobs=a.jobs,
          months=a.months, horizon=DEFAULT_HORIZON)


def cmd_day_cut(a) -> None:
    """Copy a landing folder with the last day of its last month removed from every billing
    and metrics file of that month: the warehouse as it stood the day before."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    src, dst = Path(a.src), Path(a.dst)
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    last = dt.date.fromisoformat(a.last_day)
    changed = []
    for p in sorted(dst.rglob("*")):
        if not p.is_file():
            continue
        if p.suffix == ".parquet" and f"BILLING_PERIOD={last:%Y-%m}" in str(p):
            t = pq.read_table(p)
            start = pc.cast(t.column("line_item_usage_start_date"), "date32")
            keep = pc.not_equal(start, pa.scalar(last, type=pa.date32()))
            pq.write_table(t.filter(keep), p, compression="snappy")
            changed.append(p)
        elif p.suffix == ".jsonl" and p.stem.endswith(f"{last:%Y%m}"):
            needle = f'"usage_start_time":"{last:%Y-%m-%d} '
            lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
            p.write_text("".join(x for x in lines if needle not in x), encoding="utf-8")
            changed.append(p)
        elif p.suffix == ".csv" and f"{last:%Y%m}" in p.parent.name:  # Azure month folders
            raw = p.read_text(encoding="utf-8")
            header, _, body = raw.partition("\n")
            day = f"{last:%m/%d/%Y}"
            keep = [line for line, rec in zip(body.splitlines(keepends=True),
                                              csv.reader(io.StringIO(body)), strict=True)
                    if rec[10] != day]
            p.write_text(header + "\n" + "".join(keep), encoding="utf-8")
            changed.append(p)
        elif p.name == f"utilization_{last:%Y-%m}.csv":
            lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
            p.write_text("".join(x for x in lines if not x.startswith(last.isoformat())),
                         encoding="utf-8")
            changed.append(p)
    _emit(changed=[str(c.relative_to(dst)) for c in changed])


def cmd_run(a) -> None:
    """`mlcost run` exactly as the command runs it (dagster_project.cli.main), with the time
    spent on the review packs measured apart: issue #18 judges the daily run without them and
    the CLI has no switch to leave them out. The renderer's import is counted as its cost."""
    t0 = time.perf_counter()
    import dagster_project.lib.report.pack as pack

    spent = [time.perf_counter() - t0]
    render = getattr(pack, "render_after_run", None)
    if render is not None:  # lib/pipeline.py looks the function up at the end of each run
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return render(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - t)

        pack.render_after_run = timed
    from dagster_project.cli import main as mlcost

    code = 0
    try:
        code = mlcost(["run", "--landing", a.landing, "--warehouse", a.warehouse]) or 0
    except SystemExit as exc:  # the CLI exits with its documented code
        code = exc.code if isinstance(exc.code, int) else 1
    # Without a call (a failed run, or the renderer renamed) the split is unknown, not zero.
    _emit(seconds=time.perf_counter() - t0, exit_code=code,
          render_seconds=round(sum(spent), 2) if render is not None and len(spent) > 1
          else None)
    sys.exit(code)


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--out", required=True)
    g.add_argument("--rows", type=int, required=True)
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--providers", default="aws,gcp,azure")
    g.set_defaults(func=cmd_generate)
    f = sub.add_parser("floor")
    f.add_argument("--warehouse", required=True)
    f.add_argument("--source", action="append", required=True, help="kind:glob")
    f.set_defaults(func=cmd_floor)
    i = sub.add_parser("ingest")
    i.add_argument("--warehouse", required=True)
    i.add_argument("--landing", required=True)
    i.set_defaults(func=cmd_ingest)
    fc = sub.add_parser("forecast")
    fc.add_argument("--series", type=int, required=True)
    fc.add_argument("--months", type=int, default=36)
    fc.add_argument("--jobs", type=int, default=2)
    fc.set_defaults(func=cmd_forecast)
    d = sub.add_parser("day-cut")
    d.add_argument("--src", required=True)
    d.add_argument("--dst", required=True)
    d.add_argument("--last-day", required=True)
    d.set_defaults(func=cmd_day_cut)
    r = sub.add_parser("run")
    r.add_argument("--landing", required=True)
    r.add_argument("--warehouse", required=True)
    r.set_defaults(func=cmd_run)
    a = p.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
