"""Issue #18's targets, judged from a `make bench` result: one row per target with the
measured value, the limit, pass / fail / not measured (and why), the floor or focus-converter
figure beside it, and the run that measured it. Pure functions over the result dict (the JSON
bench/run.py writes); a target this run did not measure is taken from the latest earlier
JSON in bench/results/ that measured it, marked with that run's stamp.

docs/benchmarks.md ("Issue #18 targets") explains every row.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

# What `mlcost run` prints when nothing changed (dagster_project/lib/pipeline.py):
# "mlcost: nothing new since <run id> (finished <time>); ...". The run id must follow.
NOOP_RE = re.compile(r"nothing new since \S+")
NOOP_PHRASE = "nothing new since RUN_ID"
# The run summary's closing line (lib/run_summary.py): "mlcost run finished in 12.3s; ...".
REPORTED_RE = re.compile(r"mlcost run finished in ([0-9]+(?:\.[0-9]+)?)s")

NOOP_MAX_S = 5.0
FIRST_RUN_MAX_S = 30.0
DAILY_MAX_S = 25.0
RUN_VS_FLOOR_MAX = 4.0
PEAK_RSS_MAX_MB = 8 * 1024  # 8 GB as GiB: the harness records MiB (bytes / 2**20)
FULL_100M_CMD = "make bench BENCH_SCALES=100M BENCH_FULL_RUN_MAX=100M"

PASS, FAIL, NOT_MEASURED = "pass", "fail", "not measured"


def says_nothing_new(text: str) -> bool:
    """True when `mlcost run`'s output says it had nothing to do, naming the last run."""
    return bool(NOOP_RE.search(text or ""))


def reported_seconds(text: str) -> float | None:
    """The elapsed time `mlcost run` reports in its summary (None when it printed none)."""
    found = REPORTED_RE.findall(text or "")
    return float(found[-1]) if found else None


def _row(tid: str, target: str, limit: str, *, measured=None, unit: str = "s",
         status: str = NOT_MEASURED, why: str | None = None, beside: str = "",
         run: str | None = None) -> dict:
    return {"id": tid, "target": target, "limit": limit, "measured": measured, "unit": unit,
            "status": status, "why": why, "beside": beside, "run": run, "load": None,
            "from_earlier_run": False}


def _judge(ok: bool) -> str:
    return PASS if ok else FAIL


def _s(v) -> str:
    return "—" if v is None else f"{v:g} s"


def _load(step: dict | None) -> float | None:
    """The 1-minute load average before the step: the machine is shared, read it first."""
    return ((step or {}).get("loadavg_before") or [None])[0]


def _step_failed(step: dict) -> str:
    return f"the step failed ({step.get('note', 'failed')}, exit {step.get('exit_code')})"


def _wall(steps: dict, key: str):
    st = steps.get(key)
    return st["wall_s"] if st and st.get("ok") else None


def _scale(result: dict, label: str) -> dict | None:
    for s in result.get("scales") or []:
        if s.get("scale") == label:
            return s
    return None


def _stamp(result: dict, part: dict | None) -> str | None:
    return (part or {}).get("run") or result.get("started_at")


def _first_hour_step(result: dict, row: dict, step: str) -> tuple[dict, dict | None]:
    """The first_hour group and its `step`; without the step the row says why, else it gets
    the step's run stamp and load."""
    fh = result.get("first_hour") or {}
    st = fh.get(step)
    if st:
        row.update(run=_stamp(result, fh), load=_load(st))
    else:
        row["why"] = "the first_hour group did not run"
    return fh, st


# ------------------------------------------------------------------ one evaluator a target
def noop(result: dict) -> dict:
    limit = f"≤ {NOOP_MAX_S:g} s and says \"{NOOP_PHRASE}\""
    row = _row("noop", "no-op `mlcost run` (nothing new in the landing folder)", limit)
    fh, st = _first_hour_step(result, row, "noop_demo")
    if not st:
        return row
    row["beside"] = "on the 18-month demo landing folder"
    if small := fh.get("noop_real"):
        said = "" if small.get("says_nothing_new") else ", without saying \"nothing new\""
        row["beside"] += f"; after the small first run: {_s(small['wall_s'])}{said}"
    if not st.get("ok"):
        row.update(status=FAIL, measured=st["wall_s"], why=_step_failed(st))
        return row
    says = bool(st.get("says_nothing_new"))
    row.update(measured=st["wall_s"], status=_judge(says and st["wall_s"] <= NOOP_MAX_S))
    if not says:
        row["why"] = "its output does not say \"nothing new since\": it ran the pipeline"
    return row


def first_run(result: dict) -> dict:
    row = _row("first_run", "first `mlcost run` on one small real export, empty warehouse",
               f"≤ {FIRST_RUN_MAX_S:g} s")
    fh, st = _first_hour_step(result, row, "first_run")
    if not st:
        return row
    sample = fh.get("sample") or {}
    render = (st.get("own") or {}).get("render_seconds")
    row["beside"] = (f"{sample.get('path', '?')} ({sample.get('rows') or '?'} rows); "
                     f"review pack included: {_s(render)}")
    row["measured"] = st["wall_s"]
    if not st.get("ok"):
        row.update(status=FAIL, why=_step_failed(st))
        return row
    row["status"] = _judge(st["wall_s"] <= FIRST_RUN_MAX_S)
    return row


def daily(result: dict) -> dict:
    row = _row("daily_aws", "daily demo run: AWS re-delivers the current month of an 18-month "
               "warehouse (forecast and variance included, review pack excluded)",
               f"≤ {DAILY_MAX_S:g} s")
    fh, st = _first_hour_step(result, row, "daily_aws")
    if not st:
        return row
    render = (st.get("own") or {}).get("render_seconds")
    beside = [f"wall incl. review pack {_s(st['wall_s'])}", f"review pack {_s(render)}"]
    if fh.get("full_build"):
        beside.append(f"full build of the 18 months {_s(fh['full_build']['wall_s'])}")
    inc = result.get("incremental") or {}
    if inc.get("daily_run", {}).get("ok"):
        beside.append(f"every provider re-delivering (incremental group) "
                      f"{_s(inc['daily_run']['wall_s'])}")
    row["beside"] = "; ".join(beside)
    if not st.get("ok"):
        row.update(status=FAIL, measured=st["wall_s"], why=_step_failed(st))
        return row
    if render is None:  # the renderer could not be timed: judge the whole wall, say so
        row.update(measured=st["wall_s"], status=_judge(st["wall_s"] <= DAILY_MAX_S),
                   why="review-pack time unknown: judged on the wall time including it")
        return row
    run_s = round(st["wall_s"] - render, 2)
    row.update(measured=run_s, status=_judge(run_s <= DAILY_MAX_S))
    return row


def focus_converter(result: dict, label: str) -> dict:
    row = _row(f"vs_focus_converter_{label}",
               f"mlcost normalize faster than focus-converter at {label} CUR rows",
               "ratio > 1", unit="×")
    sc = _scale(result, label)
    if sc is None:
        row["why"] = f"scale {label} not in this run (BENCH_SCALES)"
        return row
    row["run"] = _stamp(result, sc)
    s, d = sc.get("steps") or {}, sc.get("derived") or {}
    ratio = d.get("focus_converter_dataset_vs_normalize")
    if ratio is None:
        fc = s.get("focus_converter_dataset")
        if fc is None:
            row["why"] = "focus-converter not run (not installed, or BENCH_SKIP)"
        elif not fc.get("ok"):
            row["why"] = f"focus-converter {_step_failed(fc)}"
        else:
            row["why"] = "mlcost's ingest or FOCUS build failed"
        return row
    row["load"] = _load(s.get("focus_converter_dataset"))
    fc_s, cold_s = _wall(s, "focus_converter_dataset"), d.get("normalize_cold_cur_s")
    cold = f"; {fc_s / cold_s:.2f}× with the one-off dbt parse" if fc_s and cold_s else ""
    row["beside"] = (f"focus-converter {_s(fc_s)} vs normalize {_s(d.get('normalize_cur_s'))} "
                     f"(ingest + FOCUS build{cold}); floor {_s(_wall(s, 'floor_cur'))}")
    row.update(measured=ratio, status=_judge(ratio > 1))
    return row


def run_vs_floor(result: dict) -> dict:
    row = _row("run_vs_floor_10M", "whole `mlcost run` at 10M CUR rows vs the DuckDB load floor",
               f"≤ {RUN_VS_FLOOR_MAX:g}×", unit="×")
    sc = _scale(result, "10M")
    if sc is None:
        row["why"] = "scale 10M not in this run (BENCH_SCALES)"
        return row
    row["run"] = _stamp(result, sc)
    s, d = sc.get("steps") or {}, sc.get("derived") or {}
    ratio = d.get("run_vs_floor")
    if ratio is None:
        st = s.get("run_cur")
        row["why"] = ("the whole run was not timed at 10M (BENCH_FULL_RUN_MAX)" if st is None
                      else f"`mlcost run` {_step_failed(st)}" if not st.get("ok")
                      else "the floor step failed")
        return row
    row["load"] = _load(s.get("run_cur"))
    row["beside"] = (f"`mlcost run` {_s(_wall(s, 'run_cur'))} vs floor "
                     f"{_s(_wall(s, 'floor_cur'))}; peak RSS {s['run_cur']['peak_rss_tree_mb']:,} "
                     "MB")
    row.update(measured=ratio, status=_judge(ratio <= RUN_VS_FLOOR_MAX))
    return row


def peak_rss_100m(result: dict) -> dict:
    row = _row("peak_rss_100M", "full `mlcost run` at 100M CUR rows: peak RSS (process tree)",
               f"≤ {PEAK_RSS_MAX_MB:,} MB (8 GB)", unit="MB")
    sc = _scale(result, "100M")
    st = (sc or {}).get("steps", {}).get("run_cur")
    if st is None:
        row["why"] = f"run `{FULL_100M_CMD}` in the background (hours; not part of the default"\
            " bench)"
        return row
    row.update(run=_stamp(result, sc), load=_load(st))
    s = sc["steps"]
    beside = [f"wall {_s(st['wall_s'])}"]
    for key, what in (("floor_cur", "floor"), ("ingest_cur", "ingest"),
                      ("focus_cur", "FOCUS build")):
        if s.get(key):
            beside.append(f"{what} peak {s[key]['peak_rss_tree_mb']:,} MB")
    row["beside"] = "; ".join(beside)
    row["measured"] = st["peak_rss_tree_mb"]
    if not st.get("ok"):  # an OOM kill is a measured failure, other failures are not
        row.update(status=FAIL, why=_step_failed(st))
        return row
    row["status"] = _judge(st["peak_rss_tree_mb"] <= PEAK_RSS_MAX_MB)
    return row


def make_test(result: dict) -> dict:
    return _row("make_test", "`make test` on 2 cores", "≤ 10 min",
                why="the bench does not run the test suite; its measure is pytest's closing "
                "line (\"N passed in …s\") in the CI / `make test` log")


def evaluate(result: dict) -> list[dict]:
    """The targets as measured by `result` alone."""
    return [noop(result), first_run(result), daily(result), focus_converter(result, "1M"),
            focus_converter(result, "10M"), run_vs_floor(result), peak_rss_100m(result),
            make_test(result)]


def with_earlier(rows: list[dict], earlier: list[dict]) -> list[dict]:
    """Fill each target not measured in `rows` from the first of `earlier` (newest first)
    that measured it; such a row keeps its own run stamp and is marked from_earlier_run."""
    out = []
    for row in rows:
        if row["status"] == NOT_MEASURED:
            for old in earlier:
                found = next(r for r in evaluate(old) if r["id"] == row["id"])
                if found["status"] != NOT_MEASURED:
                    row = {**found, "from_earlier_run": True}
                    break
        out.append(row)
    return out


def load_earlier(results_dir: Path, exclude: str | None = None) -> list[dict]:
    """Every plain `bench-<stamp>.json` in `results_dir`, newest first, except `exclude`.
    Merged files (`bench-merged-*`) are skipped: they only repeat plain runs."""
    out = []
    for p in sorted(results_dir.glob("bench-*.json"), reverse=True):
        stamp = p.stem.removeprefix("bench-")
        if stamp.startswith("merged-") or stamp == exclude:
            continue
        try:
            out.append(json.loads(p.read_text()))
        except (OSError, ValueError):
            continue  # a half-written or foreign file is not a measurement
    return out


def _value(row: dict) -> str:
    v = row["measured"]
    if v is None:
        return "—"
    if row["unit"] == "×":
        return f"{v:g}×"
    if row["unit"] == "MB":
        return f"{v:,} MB"
    return f"{v:g} s"


def _cell(text: str) -> str:
    """A Markdown table cell: a `|` in the text would end the cell, a newline the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_md(rows: list[dict]) -> list[str]:
    """The targets table of results.md."""
    lines = ["## Issue #18 targets (2 cores)", "",
             "| target | measured | limit | result | beside it | run | load |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        result = {PASS: "**pass**", FAIL: "**FAIL**"}.get(r["status"], "not measured")
        if r["why"]:
            result += f": {r['why']}"
        run = r["run"] or "—"
        if r["from_earlier_run"]:
            run += " (earlier run)"
        load = "—" if r.get("load") is None else f"{r['load']:g}"
        cells = (r["target"], _value(r), r["limit"], result, r["beside"] or "", run, load)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines + [""]
