"""`make bench`: measure mlcost against the practical floor and focus-converter.

Every measured step runs as its own process; the harness samples the resident memory of the
step's whole process tree (every 0.1 s, with psutil) and records wall time, peak RSS of the
tree and of its largest process, exit status and the machine load around it. Results go to
``bench/results/bench-<UTC timestamp>.json`` plus ``bench/results/results.md`` (the latest
run as Markdown tables, headed by issue #18's targets, pass / fail: bench/targets.py). See
docs/benchmarks.md for what each number means.

Environment (all optional):
  BENCH_SCALES            CUR 2.0 rows per scale, comma separated (default ``1M``;
                          full mode: ``1M,10M,100M``)
  BENCH_DATA              where generated data and scratch warehouses go (default
                          ``/tmp/mlcost-bench``); datasets are reused when complete
  BENCH_FULL_RUN_MAX      largest scale at which the whole ``mlcost run`` is timed
                          (default ``10M``; above it only the floor, ingest and the FOCUS
                          build are timed)
  BENCH_ALL_PROVIDERS_MAX largest scale generated with GCP and Azure volumes (default ``10M``;
                          above, CUR only, to keep the data on disk in tens of GB)
  BENCH_RUN_ALL           ``1`` to also time the whole ``mlcost run`` on the every-provider
                          dataset (off by default: the CUR run is the target's measure)
  BENCH_INCREMENTAL_SCALE fleet-size multiplier of the 18-month warehouse of the incremental
                          benchmark (default ``1``, the demo company)
  BENCH_FORECAST_SERIES   series counts for the forecast benchmark (default ``1000``; full
                          mode ``1000,10000``)
  BENCH_FIRST_RUN_SAMPLE  the small real export of the first_hour group's first run, a path
                          under tests/fixtures/real (default: the OCI cost report, 506 rows)
  BENCH_SKIP              comma-separated step groups to skip: demo, incremental, forecast,
                          first_hour, focus_converter, focus_converter_file, all_providers,
                          scales
  BENCH_TIMEOUT           per-step timeout in seconds (default 3600)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import sys
from pathlib import Path

import psutil
import targets
from first_hour import backdate, bench_first_hour
from harness import (  # bench/ is on sys.path: this file runs as a script
    BIN,
    DBT,
    DBT_DIRS,
    ROOT,
    STEPS,
    _env_list,
    _fresh,
    _loadavg,
    _mlcost_env,
    measure,
)

from dagster_project.lib.generate.scale import parse_scale

FC_BIN = ROOT / ".venv-focus-converter" / "bin" / "focus-converter"
RESULTS = ROOT / "bench" / "results"


# ------------------------------------------------------------------ per scale
def bench_scale(label: str, data: Path, logs: Path, *, all_providers: bool, full_run: bool,
                focus_converter: bool) -> dict:
    rows = parse_scale(label)
    if not isinstance(rows, int):
        raise SystemExit(f"BENCH_SCALES: {label!r} is not a row count such as 1M")
    ds = data / f"cur-{label}"
    providers = "aws,gcp,azure" if all_providers else "aws"
    out: dict = {"scale": label, "cur_rows_target": rows, "providers": providers, "steps": {}}
    steps = out["steps"]
    marker = ds / ".complete"
    if not (marker.exists() and marker.read_text() == providers):
        _fresh(ds)
        steps["generate"] = measure(f"{label}-generate", [*STEPS, "generate", "--out", str(ds),
                                                          "--rows", str(rows), "--providers",
                                                          providers], log_dir=logs)
        if not steps["generate"]["ok"]:
            return out
        marker.write_text(providers)
    counts = json.loads((ds / "rows.json").read_text()) if (ds / "rows.json").exists() else None
    if steps.get("generate", {}).get("own"):
        counts = steps["generate"]["own"]["rows"]
        (ds / "rows.json").write_text(json.dumps(counts))
    out["rows"] = counts
    # Deliveries older than the loader's settle time: freshly generated files would be left
    # for a later run and the ingest would time nothing.
    backdate(ds / "landing", 3600)
    cur_dir = ds / "landing" / "aws"
    cur_glob = str(cur_dir / "**" / "*.parquet")
    work = data / "work"

    # 1. The floor: DuckDB CTAS of the CUR files.
    steps["floor_cur"] = measure(f"{label}-floor-cur", [
        *STEPS, "floor", "--warehouse", str(_fresh(work / "floor.duckdb")),
        "--source", f"parquet:{cur_glob}"], log_dir=logs)
    # 2. Normalize = ingest (raw layer) + dbt build of the FOCUS model and its parents.
    wh = _fresh(work / "normalize.duckdb")
    env = {"MLCOST_WAREHOUSE": str(wh)}
    steps["ingest_cur"] = measure(f"{label}-ingest-cur", [
        *STEPS, "ingest", "--warehouse", str(wh), "--landing", str(cur_dir)], log_dir=logs)
    # dbt's partial-parse state is keyed on the profile, which names the warehouse file: a
    # fresh warehouse means one full parse, which a project pays once per warehouse, not per
    # delivery. It is timed on its own; focus_cur is the build that follows it.
    steps["dbt_parse_cur"] = measure(f"{label}-dbt-parse-cur", [
        *DBT, "parse", "--quiet", *DBT_DIRS], env=env, log_dir=logs)
    steps["focus_cur"] = measure(f"{label}-focus-cur", [
        *DBT, "build", "--quiet", *DBT_DIRS, "--select", "+focus_cost_and_usage",
        "--exclude-resource-type", "test", "unit_test"], env=env, log_dir=logs)
    # 3. The whole pipeline on the same CUR files, from an empty warehouse.
    if full_run:
        wh = _fresh(work / "run.duckdb")
        steps["run_cur"] = measure(f"{label}-mlcost-run-cur", [
            str(BIN / "mlcost"), "run", "--landing", str(cur_dir), "--warehouse", str(wh)],
            env=_mlcost_env(work), log_dir=logs)
    # 4. focus-converter on the same CUR (its streaming dataset mode; file mode at 1M).
    if focus_converter and FC_BIN.exists():
        modes = ["dataset"] + (["file"] if rows <= 1_000_000 and "focus_converter_file"
                               not in _env_list("BENCH_SKIP", "") else [])
        for mode in modes:
            dst = _fresh(work / f"fc-{mode}")
            dst.mkdir()
            src = str(next(cur_dir.rglob("*.parquet")).parent)
            if mode == "file":
                files = sorted(cur_dir.rglob("*.parquet"))
                if len(files) != 1:
                    continue
                src = str(files[0])
            # File mode fails on CUR 2.0 map columns and then hangs in its worker pool:
            # bound it by the dataset-mode time.
            ds_run = steps.get("focus_converter_dataset", {})
            limit = 2 * ds_run["wall_s"] + 60 if mode == "file" and ds_run.get("ok") else None
            steps[f"focus_converter_{mode}"] = measure(f"{label}-focus-converter-{mode}", [
                str(FC_BIN), "convert", "--provider", "aws", "--data-format", "parquet",
                "--parquet-data-format", mode, "--data-path", src, "--export-path", str(dst)],
                log_dir=logs, timeout=limit)
            shutil.rmtree(dst, ignore_errors=True)
    # 5. Every provider (matching GCP NDJSON and Azure CSV volumes): throughput and floor.
    if all_providers and "all_providers" not in _env_list("BENCH_SKIP", ""):
        land = ds / "landing"
        steps["floor_all"] = measure(f"{label}-floor-all", [
            *STEPS, "floor", "--warehouse", str(_fresh(work / "floor-all.duckdb")),
            "--source", f"parquet:{cur_glob}",
            "--source", f"json:{land / 'gcp' / '**' / '*.jsonl'}",
            "--source", f"csv:{land / 'azure' / '*' / '**' / '*.csv'}"], log_dir=logs)
        wh = _fresh(work / "normalize-all.duckdb")
        env = {"MLCOST_WAREHOUSE": str(wh)}
        steps["ingest_all"] = measure(f"{label}-ingest-all", [
            *STEPS, "ingest", "--warehouse", str(wh), "--landing", str(land)], log_dir=logs)
        steps["focus_all"] = measure(f"{label}-focus-all", [
            *DBT, "build", "--quiet", *DBT_DIRS, "--select", "+focus_cost_and_usage",
            "--exclude-resource-type", "test", "unit_test"], env=env, log_dir=logs)
        if full_run and os.environ.get("BENCH_RUN_ALL") == "1":
            wh = _fresh(work / "run-all.duckdb")
            steps["run_all"] = measure(f"{label}-mlcost-run-all", [
                str(BIN / "mlcost"), "run", "--landing", str(land), "--warehouse", str(wh)],
                env=_mlcost_env(work), log_dir=logs)
    for run_log in work.glob("logs/*.log"):  # mlcost's own run log (dbt node timings)
        shutil.copy2(run_log, logs / f"{label}-{run_log.name}")
    shutil.rmtree(work, ignore_errors=True)
    out["derived"] = derive(out)
    return out


def derive(out: dict) -> dict:
    s = out["steps"]
    counts = out.get("rows") or {}
    cur = counts.get("aws", 0)
    total = sum(counts.values())

    def wall(k):
        return s[k]["wall_s"] if k in s and s[k]["ok"] else None

    d: dict = {}
    floor = wall("floor_cur")
    norm = (wall("ingest_cur") + wall("focus_cur")) if wall("ingest_cur") and \
        wall("focus_cur") else None
    if floor:
        d["floor_cur_rows_per_s"] = round(cur / floor)
    if norm:
        d["normalize_cur_s"] = round(norm, 2)
        d["normalize_cur_rows_per_s"] = round(cur / norm)
        d["normalize_cur_peak_rss_mb"] = max(s["ingest_cur"]["peak_rss_tree_mb"],
                                             s["focus_cur"]["peak_rss_tree_mb"])
        if floor:
            d["normalize_vs_floor"] = round(norm / floor, 2)
        if wall("dbt_parse_cur"):  # with the one-off parse of a new warehouse's project
            d["normalize_cold_cur_s"] = round(norm + wall("dbt_parse_cur"), 2)
            if floor:
                d["normalize_cold_vs_floor"] = round(d["normalize_cold_cur_s"] / floor, 2)
    if wall("run_cur") and floor:
        d["run_vs_floor"] = round(wall("run_cur") / floor, 2)
    for mode in ("dataset", "file"):
        fc = wall(f"focus_converter_{mode}")
        if fc and norm:
            d[f"focus_converter_{mode}_vs_normalize"] = round(fc / norm, 2)
    floor_all = wall("floor_all")
    norm_all = (wall("ingest_all") + wall("focus_all")) if wall("ingest_all") and \
        wall("focus_all") else None
    if norm_all:
        d["normalize_all_rows_per_s"] = round(total / norm_all)
        d["normalize_all_peak_rss_mb"] = max(s["ingest_all"]["peak_rss_tree_mb"],
                                             s["focus_all"]["peak_rss_tree_mb"])
        if floor_all:
            d["normalize_all_vs_floor"] = round(norm_all / floor_all, 2)
    if wall("run_all"):
        d["run_all_rows_per_s"] = round(total / wall("run_all"))
        if floor_all:
            d["run_all_vs_floor"] = round(wall("run_all") / floor_all, 2)
    return d


# ------------------------------------------------------------------ fixed benchmarks
def bench_demo(data: Path, logs: Path) -> dict:
    """`make demo` after install: dbt parse + `mlcost demo`; start-up costs separately."""
    work = _fresh(data / "demo")
    env = _mlcost_env(work)
    out = {
        "dbt_startup": measure("demo-dbt-startup", [*DBT, "ls", "--quiet", *DBT_DIRS,
                                                    "--resource-type", "seed"], log_dir=logs),
        "dagster_startup": measure("demo-dagster-startup", [
            sys.executable, "-c", "from dagster_project.definitions import defs; "
            "defs.get_repository_def()"], log_dir=logs),
        "dbt_parse": measure("demo-dbt-parse", [*DBT, "parse", "--quiet", *DBT_DIRS],
                             log_dir=logs),
        "mlcost_demo": measure("demo-mlcost-demo", [
            str(BIN / "mlcost"), "demo", "--out", str(work / "demo"), "--warehouse",
            str(work / "warehouse.duckdb")], env=env, log_dir=logs),
    }
    ok = all(v["ok"] for v in out.values())
    out["make_demo_s"] = round(out["dbt_parse"]["wall_s"] + out["mlcost_demo"]["wall_s"], 2) \
        if ok else None
    shutil.rmtree(work, ignore_errors=True)
    return out


def bench_incremental(data: Path, logs: Path) -> dict:
    """An 18-month warehouse receives the next day's delivery (the month-to-date exports of
    the last month re-delivered one day longer, overwriting the same paths, as the providers
    do), versus a full rebuild of the same 18 months from an empty warehouse."""
    from dagster_project.lib.generate import default_end_month, generate

    work = _fresh(data / "incremental")
    full_land = work / "demo"
    # The demo company (≈ 4,250 CUR rows a month), or N times its fleet: at demo size the
    # fixed costs of a run (start-ups, checks) are most of both runs.
    fleet = float(os.environ.get("BENCH_INCREMENTAL_SCALE", "1"))
    generate(full_land, months=18, scale=fleet)
    end = default_end_month()
    last_day = (dt.date(end.year + end.month // 12, end.month % 12 + 1, 1)
                - dt.timedelta(days=1))
    day_before = work / "landing"
    cut = measure("incr-day-cut", [*STEPS, "day-cut", "--src", str(full_land / "landing"),
                                   "--dst", str(day_before), "--last-day",
                                   last_day.isoformat()], log_dir=logs)
    wh = work / "warehouse.duckdb"
    env = _mlcost_env(work)
    run = [str(BIN / "mlcost"), "run", "--landing", str(day_before), "--warehouse", str(wh)]
    out = {"last_day": last_day.isoformat(), "fleet_scale": fleet, "day_cut": cut,
           "full_rebuild": measure("incr-full-rebuild", run, env=env, log_dir=logs)}
    for rel in cut.get("own", {}).get("changed", []):
        shutil.copy2(full_land / "landing" / rel, day_before / rel)  # the next day's delivery
    out["daily_run"] = measure("incr-daily-run", run, env=env, log_dir=logs)
    if out["full_rebuild"]["ok"] and out["daily_run"]["ok"]:
        out["daily_vs_full"] = round(out["daily_run"]["wall_s"] / out["full_rebuild"]["wall_s"],
                                     3)
    shutil.rmtree(work, ignore_errors=True)
    return out


# The targets for forecasting N series at h = 18 with calibration, on 2 cores.
FORECAST_TARGET_S = {"1000": 60.0, "10000": 600.0}


def bench_forecast(logs: Path) -> dict:
    """Forecast N synthetic 36-month series at h = 18 with calibrated bands; wall time of the
    forecast itself (``own.seconds``), peak RSS, and pass/fail against the target."""
    out = {}
    for n in _env_list("BENCH_FORECAST_SERIES", "1000"):
        st = measure(f"forecast-{n}", [*STEPS, "forecast", "--series", n, "--jobs", "2"],
                     log_dir=logs)
        target = FORECAST_TARGET_S.get(n)
        own = st.get("own", {})
        secs, cpu = own.get("seconds"), own.get("cpu_seconds")
        st["target_s"] = target
        st["passed"] = (None if target is None or secs is None
                        else bool(st["ok"] and secs <= target))
        # CPU seconds / 2: the wall time on two *free* cores (the shared box inflates wall)
        st["free_cores_s"] = round(cpu / 2, 1) if cpu is not None else None
        st["passed_free_cores"] = (None if target is None or cpu is None
                                   else bool(st["ok"] and cpu / 2 <= target))
        out[n] = st
    return out


def ensure_focus_converter() -> bool:
    """focus-converter in its own venv (it pins polars 0.20 / pyarrow 14): set up by `make
    bench` (target .venv-focus-converter); absent means the comparison is reported as skipped."""
    return FC_BIN.exists()


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import duckdb

    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total
                                                                / 2**30, 1),
        "os": platform.platform(), "python": platform.python_version(),
        "duckdb": duckdb.__version__, "loadavg_at_start": _loadavg(),
    }


def merge(paths: list[str]) -> int:
    """`bench/run.py --merge A.json B.json ...`: one results.md (and bench-merged-*.json)
    from runs that measured different parts, e.g. scales and the fixed groups in parallel."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    out = {**runs[0], "scales": [], "notes": [], "merged_from": [Path(p).name for p in paths]}
    scales: dict[str, dict] = {}
    for r in runs:
        # each part keeps the stamp of the run that measured it (the targets table shows it);
        # a scale measured again by a later run (the arguments are oldest first) replaces it
        scales.update({s["scale"]: {"run": r["started_at"], **s} for s in r.get("scales", [])})
        out["notes"] += r.get("notes", [])
        for k in ("forecast", "demo", "incremental", "first_hour"):
            if k in r:
                out[k] = {"run": r["started_at"], **r[k]} if k == "first_hour" else r[k]
    out["scales"] = list(scales.values())
    m = out["machine"]
    m["loadavg_at_start"] = [r["machine"]["loadavg_at_start"] for r in runs]
    m["loadavg_at_end"] = [r["machine"].get("loadavg_at_end") for r in runs]
    _write(out, "merged-" + "-".join(r["started_at"] for r in runs))
    return 0


def main() -> int:
    if sys.argv[1:2] == ["--merge"]:
        return merge(sys.argv[2:])
    data = Path(os.environ.get("BENCH_DATA", "/tmp/mlcost-bench"))
    data.mkdir(parents=True, exist_ok=True)
    skip = set(_env_list("BENCH_SKIP", ""))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    logs = data / "logs" / stamp
    full_max = parse_scale(os.environ.get("BENCH_FULL_RUN_MAX", "10M"))
    all_max = parse_scale(os.environ.get("BENCH_ALL_PROVIDERS_MAX", "10M"))
    result: dict = {"started_at": stamp, "machine": machine(),
                    "config": {k: v for k, v in os.environ.items() if k.startswith("BENCH_")},
                    "scales": [], "notes": []}
    fc = "focus_converter" not in skip and ensure_focus_converter()
    if "focus_converter" not in skip and not fc:
        result["notes"].append("focus-converter not installed (.venv-focus-converter): "
                               "comparison skipped; `make bench` sets it up")
    if "scales" not in skip:
        for label in _env_list("BENCH_SCALES", "1M"):
            n = parse_scale(label)
            result["scales"].append({"run": stamp, **bench_scale(
                label, data, logs, all_providers=n <= all_max, full_run=n <= full_max,
                focus_converter=fc)})
            _write(result, stamp)
    groups = {"forecast": lambda: bench_forecast(logs), "demo": lambda: bench_demo(data, logs),
              "incremental": lambda: bench_incremental(data, logs),
              "first_hour": lambda: {"run": stamp, **bench_first_hour(data, logs)}}
    for name, fn in groups.items():
        if name in skip:
            continue
        try:
            result[name] = fn()
        except Exception as exc:  # one broken group must not lose the others' numbers
            result["notes"].append(f"{name}: harness error {exc!r}")
        _write(result, stamp)
    result["machine"]["loadavg_at_end"] = _loadavg()
    _write(result, stamp)
    print(f"[bench] results: {RESULTS / ('bench-' + stamp + '.json')} and "
          f"{RESULTS / 'results.md'}")
    return 0


def _write(result: dict, stamp: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    # Targets this run did not measure come from the latest earlier run that did.
    result["targets"] = targets.with_earlier(targets.evaluate(result),
                                             targets.load_earlier(RESULTS, exclude=stamp))
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "results.md").write_text(render_md(result))


def _f(v, unit="") -> str:
    return "—" if v is None else f"{v:,}{unit}" if isinstance(v, int) else f"{v}{unit}"


def render_md(r: dict) -> str:
    m = r["machine"]
    lines = [
        "# mlcost benchmark results",
        "",
        (f"Runs {', '.join(r['merged_from'])} merged (`bench/run.py --merge`; the first one's "
         "machine)" if r.get("merged_from") else f"Run {r['started_at']}") +
        f" on {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, "
        f"{m['os']}, Python {m['python']}, DuckDB {m['duckdb']}. Load average at start "
        f"{m['loadavg_at_start']}" + (f", at end {m['loadavg_at_end']}" if
                                      "loadavg_at_end" in m else "") +
        " (the machine is shared; every step also records its own load).",
        "",
        "Generated by `make bench` (bench/run.py); raw numbers in the JSON beside this file. "
        "What each step measures: docs/benchmarks.md.",
        "",
    ]
    for note in r.get("notes", []):
        lines.append(f"- note: {note}")
    if r.get("notes"):
        lines.append("")
    if r.get("targets"):
        lines += targets.render_md(r["targets"])
    if r.get("scales"):
        lines += ["## Per scale (one CUR 2.0 month)", "",
                  "| scale | rows (aws / gcp / azure) | step | wall s | peak RSS MB (tree) | "
                  "load before | ok |", "|---|---|---|---|---|---|---|"]
        for s in r["scales"]:
            c = s.get("rows") or {}
            rows = " / ".join(_f(c.get(k)) for k in ("aws", "gcp", "azure"))
            for name, st in s["steps"].items():
                lines.append(f"| {s['scale']} | {rows} | {name} | {st['wall_s']} | "
                             f"{st['peak_rss_tree_mb']:,} | {st['loadavg_before'][0]} | "
                             f"{'yes' if st['ok'] else st.get('note', 'no')} |")
        lines += ["", "| scale | derived | value |", "|---|---|---|"]
        for s in r["scales"]:
            for k, v in (s.get("derived") or {}).items():
                lines.append(f"| {s['scale']} | {k} | {_f(v)} |")
        lines.append("")
    if r.get("forecast"):
        lines += ["## Forecast (model selection by backtest + forecast, 18 monthly points, "
                  "2 worker processes, calibrated bands)", "",
                  "| series | wall s | CPU s / 2 | peak RSS MB | ok | target s | passed (wall) "
                  "| passed (CPU / 2) |", "|---|---|---|---|---|---|---|---|"]
        for n, st in r["forecast"].items():
            own = st.get("own", {})
            yes = {True: "yes", False: "NO", None: "-"}
            lines.append(f"| {n} | {_f(own.get('seconds') and round(own['seconds'], 1))} "
                         f"(process {st['wall_s']}) | {_f(st.get('free_cores_s'))} | "
                         f"{st['peak_rss_tree_mb']:,} | {'yes' if st['ok'] else 'no'} | "
                         f"{_f(st.get('target_s'))} | {yes[st.get('passed')]} | "
                         f"{yes[st.get('passed_free_cores')]} |")
        lines.append("")
    if r.get("demo"):
        d = r["demo"]
        lines += ["## Demo (18 months, AWS + GCP + Azure)", "", "| step | wall s | peak RSS MB |",
                  "|---|---|---|"]
        for k in ("dbt_startup", "dagster_startup", "dbt_parse", "mlcost_demo"):
            lines.append(f"| {k} | {d[k]['wall_s']} | {d[k]['peak_rss_tree_mb']:,} |")
        lines += [f"| make demo (dbt parse + mlcost demo) | {_f(d.get('make_demo_s'))} | |", ""]
    if r.get("incremental"):
        i = r["incremental"]
        fleet = i.get("fleet_scale", 1)
        size = "demo" if fleet == 1 else f"demo fleet × {fleet:g}"
        lines += [f"## Incremental daily run vs full rebuild (18-month {size} warehouse)", "",
                  f"Next day's delivery: the last month's exports re-delivered with "
                  f"{i['last_day']} added.", "", "| run | wall s | peak RSS MB |",
                  "|---|---|---|"]
        for k in ("full_rebuild", "daily_run"):
            lines.append(f"| {k} | {i[k]['wall_s']} | {i[k]['peak_rss_tree_mb']:,} |")
        lines += [f"| daily / full | {_f(i.get('daily_vs_full'))} | |", ""]
    if r.get("first_hour"):
        f = r["first_hour"]
        sample = f.get("sample") or {}
        lines += ["## First hour (issue #18)", "",
                  f"Small real export: `{sample.get('path')}` ({_f(sample.get('rows'))} rows). "
                  "18-month demo; the daily run: AWS re-delivers its current month with one "
                  f"more day ({f.get('last_day', '?')}).", "",
                  "| run | wall s | run's own report s | review pack s | says nothing new | "
                  "peak RSS MB | load before |", "|---|---|---|---|---|---|---|"]
        for k in ("first_run", "noop_real", "full_build", "daily_aws", "noop_demo"):
            if st := f.get(k):
                lines.append(f"| {k} | {st['wall_s']} | {_f(st.get('reported_s'))} | "
                             f"{_f((st.get('own') or {}).get('render_seconds'))} | "
                             f"{'yes' if st.get('says_nothing_new') else 'no'} | "
                             f"{st['peak_rss_tree_mb']:,} | {st['loadavg_before'][0]} |")
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
