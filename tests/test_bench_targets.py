"""Issue #18's targets table of `make bench` (bench/targets.py): how each target is judged from
a result, what "not measured" says, the fill from earlier runs, the Markdown table, and that
the harness recognises the no-op sentence `mlcost run` really prints. Nothing is timed here."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import targets  # noqa: E402  (bench/ is a folder of scripts, not a package)

RESULTS = ROOT / "bench" / "results"
REAL = ROOT / "tests" / "fixtures" / "real"


def step(wall: float, ok: bool = True, **extra) -> dict:
    return {"wall_s": wall, "ok": ok, "exit_code": 0 if ok else 1, "peak_rss_tree_mb": 500,
            "loadavg_before": [1.5, 1.2, 1.0],
            **({} if ok else {"note": "failed"}), **extra}


def first_hour(**over) -> dict:
    fh = {"run": "20261207T120000Z",
          "sample": {"path": "tests/fixtures/real/oci/x.csv", "rows": 506},
          "first_run": step(28.0, own={"render_seconds": 2.0}),
          "noop_real": step(0.9, says_nothing_new=True),
          "full_build": step(80.0, own={"render_seconds": 3.0}),
          "daily_aws": step(27.5, own={"render_seconds": 3.0}),
          "noop_demo": step(1.2, says_nothing_new=True)}
    fh.update(over)
    return fh


def scale(label: str, *, fc: float | None, norm: float, floor: float, run: float | None,
          run_rss: int = 6000, stamp: str = "20261130T181442Z") -> dict:
    steps = {"floor_cur": step(floor), "ingest_cur": step(norm / 2), "focus_cur": step(norm / 2),
             "dbt_parse_cur": step(9.0)}
    derived = {"normalize_cur_s": norm, "normalize_cold_cur_s": norm + 9.0}
    if fc is not None:
        steps["focus_converter_dataset"] = step(fc)
        derived["focus_converter_dataset_vs_normalize"] = round(fc / norm, 2)
    if run is not None:
        steps["run_cur"] = {**step(run), "peak_rss_tree_mb": run_rss}
        derived["run_vs_floor"] = round(run / floor, 2)
    return {"scale": label, "run": stamp, "steps": steps, "derived": derived}


def by_id(rows: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in rows}


# --- the no-op sentence ----------------------------------------------------------------------


@pytest.fixture
def noop_warehouse(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """A landing folder with one real export, loaded, and the state of a successful run
    ("run-42") recorded: the next `mlcost run` on it has nothing to do."""
    from dagster_project.lib import run_state
    from dagster_project.lib.ingest.loader import ingest_landing
    from dagster_project.lib.warehouse import connection

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    landing.mkdir()
    sample = REAL / "gcp/bigquery_detailed_export_csv/2022-08-01_5.csv"
    copy = landing / sample.name
    copy.write_bytes(sample.read_bytes())
    hour_ago = time.time() - 3600  # delivered long enough ago to count as settled
    os.utime(copy, (hour_ago, hour_ago))
    with connection(wh) as con:
        assert not ingest_landing(con, landing, settle=0).errors
    files = run_state.snapshot(landing)
    assert run_state.write_state(wh, "run-42", str(landing), files, time.time(), 10)
    return landing, wh


def test_the_noop_sentence_is_what_mlcost_run_prints(noop_warehouse, capsys):
    """The harness's check matches the line the real no-op path prints (lib/pipeline.py), so a
    reworded message fails here rather than turning target 1 into a silent FAIL."""
    from dagster_project.lib import pipeline

    landing, wh = noop_warehouse
    assert pipeline.run_pipeline(str(landing), str(wh)) == 0
    out = capsys.readouterr().out
    assert targets.says_nothing_new(out)
    assert "nothing new since run-42" in out


def test_steps_run_passes_the_cli_through(noop_warehouse, tmp_path):
    """`bench/steps.py run` is `mlcost run` (same output, same exit code) plus its own numbers;
    a run that renders no review pack has no render time (unknown, not zero)."""
    landing, wh = noop_warehouse
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "steps.py"), "run", "--landing",
                           str(landing), "--warehouse", str(wh)], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert targets.says_nothing_new(proc.stdout)
    own = json.loads(proc.stdout.strip().splitlines()[-1].removeprefix("BENCH "))
    assert own["exit_code"] == 0 and own["render_seconds"] is None


def test_the_review_pack_hook_the_bench_times_exists():
    """steps.py times the packs by wrapping pack.render_after_run, which lib/pipeline.py must
    look up when it renders (not bind at import): a rename here would lose the split."""
    import dagster_project.lib.report.pack as pack
    from dagster_project.lib import pipeline

    assert callable(pack.render_after_run)
    assert "from dagster_project.lib.report.pack import render_after_run" in \
        inspect.getsource(pipeline.run_pipeline)


def test_noop_sentence_and_reported_time_parsing():
    assert not targets.says_nothing_new("mlcost run finished in 41.2s; warehouse x")
    assert not targets.says_nothing_new("")
    assert not targets.says_nothing_new("nothing new since")  # no run named: not the sentence
    log = "Review pack 2026Q3: x\nmlcost run finished in 41.2s; warehouse /w.duckdb\n"
    assert targets.reported_seconds(log) == 41.2
    assert targets.reported_seconds("mlcost: nothing new since r1 (finished t)") is None


# --- each target -----------------------------------------------------------------------------


def test_first_hour_targets_pass_and_fail_on_their_limits():
    rows = by_id(targets.evaluate({"started_at": "x", "first_hour": first_hour()}))
    assert rows["noop"]["status"] == "pass" and rows["noop"]["measured"] == 1.2
    assert rows["noop"]["run"] == "20261207T120000Z" and rows["noop"]["load"] == 1.5
    assert rows["first_run"]["status"] == "pass" and rows["first_run"]["measured"] == 28.0
    assert "tests/fixtures/real/oci/x.csv (506 rows)" in rows["first_run"]["beside"]
    # the daily run is judged without the review pack: 27.5 - 3.0 = 24.5 <= 25
    assert rows["daily_aws"]["measured"] == 24.5 and rows["daily_aws"]["status"] == "pass"
    assert "full build of the 18 months 80 s" in rows["daily_aws"]["beside"]

    slow = by_id(targets.evaluate({"first_hour": first_hour(
        first_run=step(30.5), daily_aws=step(28.5, own={"render_seconds": 3.0}),
        noop_demo=step(5.2, says_nothing_new=True))}))
    assert [slow[k]["status"] for k in ("noop", "first_run", "daily_aws")] == ["fail"] * 3
    assert slow["daily_aws"]["measured"] == 25.5


def test_a_fast_run_that_does_not_say_nothing_new_fails():
    rows = by_id(targets.evaluate({"first_hour": first_hour(
        noop_demo=step(2.0, says_nothing_new=False))}))
    assert rows["noop"]["status"] == "fail"
    assert "nothing new since" in rows["noop"]["why"]


def test_failed_steps_fail_and_say_why():
    rows = by_id(targets.evaluate({"first_hour": first_hour(
        noop_demo=step(0.5, ok=False, says_nothing_new=True), first_run=step(12.0, ok=False),
        daily_aws=step(10.0, ok=False))}))
    for key in ("noop", "first_run", "daily_aws"):
        assert rows[key]["status"] == "fail", key
        assert "the step failed" in rows[key]["why"], key


def test_daily_run_without_a_render_time_is_judged_on_the_whole_wall():
    rows = by_id(targets.evaluate({"first_hour": first_hour(daily_aws=step(24.0, own={}))}))
    assert rows["daily_aws"]["measured"] == 24.0 and rows["daily_aws"]["status"] == "pass"
    assert "review-pack time unknown" in rows["daily_aws"]["why"]


def test_focus_converter_and_floor_targets_from_the_scales():
    result = {"started_at": "r", "scales": [
        scale("1M", fc=15.88, norm=18.83, floor=4.57, run=77.1),
        scale("10M", fc=137.3, norm=113.19, floor=39.86, run=150.0, run_rss=6766)]}
    rows = by_id(targets.evaluate(result))
    assert rows["vs_focus_converter_1M"]["measured"] == 0.84
    assert rows["vs_focus_converter_1M"]["status"] == "fail"
    assert rows["vs_focus_converter_10M"]["measured"] == 1.21
    assert rows["vs_focus_converter_10M"]["status"] == "pass"
    assert "floor 39.86 s" in rows["vs_focus_converter_10M"]["beside"]
    assert rows["run_vs_floor_10M"]["measured"] == 3.76
    assert rows["run_vs_floor_10M"]["status"] == "pass"
    assert "6,766 MB" in rows["run_vs_floor_10M"]["beside"]
    result["scales"][1] = scale("10M", fc=137.3, norm=113.19, floor=39.86, run=237.18)
    assert by_id(targets.evaluate(result))["run_vs_floor_10M"]["status"] == "fail"


def test_not_measured_says_why():
    rows = by_id(targets.evaluate({"started_at": "r", "scales": [
        scale("1M", fc=None, norm=18.0, floor=4.0, run=None)]}))
    assert all(r["status"] == "not measured" and r["why"] and r["run"] in (None, "20261130T181442Z")
               for r in rows.values())
    assert "first_hour" in rows["noop"]["why"]
    assert "focus-converter not run" in rows["vs_focus_converter_1M"]["why"]
    assert "scale 10M not in this run" in rows["vs_focus_converter_10M"]["why"]
    assert targets.FULL_100M_CMD in rows["peak_rss_100M"]["why"]
    assert "CI" in rows["make_test"]["why"] and rows["make_test"]["measured"] is None


def test_100m_peak_rss():
    ok = scale("100M", fc=None, norm=1100.0, floor=452.0, run=2000.0, run_rss=7900)
    assert by_id(targets.evaluate({"scales": [ok]}))["peak_rss_100M"]["status"] == "pass"
    big = scale("100M", fc=None, norm=1100.0, floor=452.0, run=2000.0, run_rss=8500)
    assert by_id(targets.evaluate({"scales": [big]}))["peak_rss_100M"]["status"] == "fail"
    killed = scale("100M", fc=None, norm=1100.0, floor=452.0, run=2000.0, run_rss=7000)
    killed["steps"]["run_cur"].update(ok=False, note="killed (out of memory?)", exit_code=-9)
    row = by_id(targets.evaluate({"scales": [killed]}))["peak_rss_100M"]
    assert row["status"] == "fail" and "out of memory" in row["why"]


# --- earlier runs ------------------------------------------------------------------------------


def test_unmeasured_targets_come_from_the_newest_earlier_run_that_has_them():
    now = {"started_at": "20261207T120000Z", "first_hour": first_hour()}
    newer = {"started_at": "20261201T000000Z", "scales": [
        scale("1M", fc=20.0, norm=18.0, floor=4.0, run=None, stamp="20261201T000000Z")]}
    older = {"started_at": "20261130T000000Z", "scales": [
        scale("1M", fc=15.0, norm=18.0, floor=4.0, run=None, stamp="20261130T000000Z"),
        scale("10M", fc=137.0, norm=113.0, floor=40.0, run=237.0, stamp="20261130T000000Z")],
        "first_hour": first_hour(noop_demo=step(40.0, says_nothing_new=False))}
    rows = by_id(targets.with_earlier(targets.evaluate(now), [newer, older]))
    assert rows["noop"]["status"] == "pass" and not rows["noop"]["from_earlier_run"]
    assert rows["vs_focus_converter_1M"]["run"] == "20261201T000000Z"  # the newer one
    assert rows["vs_focus_converter_1M"]["status"] == "pass"
    assert rows["vs_focus_converter_1M"]["from_earlier_run"]
    assert rows["run_vs_floor_10M"]["run"] == "20261130T000000Z"
    assert rows["peak_rss_100M"]["status"] == "not measured"
    assert not rows["peak_rss_100M"]["from_earlier_run"]


def test_load_earlier_reads_plain_runs_newest_first(tmp_path):
    for stamp in ("20261130T120000Z", "20261201T120000Z", "20261202T120000Z"):
        (tmp_path / f"bench-{stamp}.json").write_text(json.dumps({"started_at": stamp}))
    (tmp_path / "bench-merged-20261130T120000Z-20261201T120000Z.json").write_text(
        json.dumps({"started_at": "merged"}))
    (tmp_path / "bench-20261203T120000Z.json").write_text("{half written")
    got = [r["started_at"] for r in targets.load_earlier(tmp_path, exclude="20261202T120000Z")]
    assert got == ["20261201T120000Z", "20261130T120000Z"]


def test_committed_run_gives_the_figures_docs_quote():
    """The run docs/benchmarks.md quotes (1M, 10M): 0.84x and 1.21x against focus-converter,
    5.95x the floor for the whole run at 10M."""
    run = json.loads((RESULTS / "bench-20261130T181442Z.json").read_text())
    rows = by_id(targets.evaluate(run))
    assert (rows["vs_focus_converter_1M"]["measured"],
            rows["vs_focus_converter_1M"]["status"]) == (0.84, "fail")
    assert (rows["vs_focus_converter_10M"]["measured"],
            rows["vs_focus_converter_10M"]["status"]) == (1.21, "pass")
    assert (rows["run_vs_floor_10M"]["measured"], rows["run_vs_floor_10M"]["status"]) == \
        (5.95, "fail")


# --- the table ---------------------------------------------------------------------------------


def test_markdown_table_has_one_row_per_target_and_escapes_cells():
    now = {"started_at": "20261207T120000Z", "first_hour": first_hour(
        sample={"path": "a|b.csv", "rows": 3})}
    older = {"started_at": "20261130T000000Z", "scales": [
        scale("1M", fc=15.0, norm=18.0, floor=4.0, run=None, stamp="20261130T000000Z")]}
    lines = targets.render_md(targets.with_earlier(targets.evaluate(now), [older]))
    body = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert len(body) == len(targets.evaluate({}))
    assert all(line.count(" | ") == 6 for line in body)  # the escaped | is not a separator
    assert any("a\\|b.csv" in line for line in body)
    fc = next(line for line in body if "at 1M" in line)
    assert "**FAIL**" in fc and "20261130T000000Z (earlier run)" in fc
    assert any("not measured: run `make bench BENCH_SCALES=100M" in line for line in body)


@pytest.mark.parametrize("status,shown", [("pass", "**pass**"), ("fail", "**FAIL**"),
                                          ("not measured", "not measured")])
def test_status_words(status, shown):
    row = {**targets._row("t", "a target", "≤ 1 s", measured=None, status=status),
           "why": None}
    assert f"| {shown} |" in targets.render_md([row])[-2]


def test_first_hour_reports_the_rows_the_run_loaded(noop_warehouse, tmp_path):
    import first_hour

    _, wh = noop_warehouse
    assert first_hour._rows_loaded(wh) == 9  # the GCP detailed sample: 9 rows
    assert first_hour._rows_loaded(tmp_path / "none.duckdb") is None
