"""The per-run machinery that keeps a daily run cheap (docs/benchmarks.md): the billing window
passed to dbt through the environment, one dbt target folder per asset, the great-expectations
worker process and the background imports. Correctness only; timings are in `make bench`."""

from __future__ import annotations

import os

import duckdb
import pytest

from dagster_project import settings
from dagster_project.lib import quality

SUITE = {
    "name": "raw_budgets",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "team"},
         "meta": {"critical": True}},
        {"type": "expect_column_values_to_match_regex",
         "kwargs": {"column": "budget_amount",
                    "regex": "^-?[0-9]+(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$"}},
    ],
}


@pytest.fixture
def budgets(tmp_path):
    suite = tmp_path / "raw_budgets.json"
    import json

    suite.write_text(json.dumps(SUITE))
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.budgets (team varchar, budget_amount varchar)")
    con.execute("insert into raw.budgets values ('ml', '10.5'), (null, '1e3'), ('data', 'ten')")
    yield con, suite
    con.close()


def _summary(res: quality.SuiteResult) -> tuple:
    return (res.suite, res.success, res.rows_validated, res.rows_total, res.critical_failed,
            sorted((f["expectation"], f["column"], f["unexpected_count"], tuple(f["examples"]))
                   for f in res.failures))


def test_worker_validates_exactly_like_this_process(budgets, monkeypatch):
    con, suite = budgets
    quality.prewarm()
    via_worker = quality.validate_table(con, "raw", "budgets", suite)
    assert quality._worker is not None and quality._worker[0].is_alive()
    monkeypatch.setattr(quality, "_worker", None)  # no worker: validated here
    in_process = quality.validate_table(con, "raw", "budgets", suite)
    assert _summary(via_worker) == _summary(in_process)
    assert _summary(in_process) == (
        "raw_budgets", False, 3, 3, True,
        [("expect_column_values_to_match_regex", "budget_amount", 1, ("ten",)),
         ("expect_column_values_to_not_be_null", "team", 1, ("None",))])


def test_a_suite_the_worker_cannot_run_names_suite_and_table(budgets):
    con, suite = budgets
    bad = {**SUITE, "expectations": [{"kwargs": {"column": "team"}}]}  # no type: GX raises
    quality.prewarm()
    with pytest.raises(quality.ValidationError, match="raw_budgets on budgets: TypeError"):
        quality._validate("budgets", bad, con.execute("select * from raw.budgets").df())
    assert quality._worker[0].is_alive()  # one bad suite does not end the worker


def test_a_dead_worker_falls_back_to_this_process(budgets):
    con, suite = budgets
    quality.prewarm()
    proc = quality._worker[0]
    proc.kill()
    proc.join(timeout=10)
    res = quality.validate_table(con, "raw", "budgets", suite)
    assert res.rows_validated == 3 and not res.success
    quality.prewarm()  # a new worker for the next validation
    assert quality._worker[0].pid != proc.pid and quality._worker[0].is_alive()


def test_billing_window_is_set_for_the_invocation_only(monkeypatch):
    from dagster_project.defs.dbt.assets import WINDOW_ENV, billing_window

    start, end = WINDOW_ENV["billing_period_start"], WINDOW_ENV["billing_period_end"]
    monkeypatch.delenv(start, raising=False)
    monkeypatch.setenv(end, "2020-01-01")  # e.g. left in an operator's shell
    with billing_window({"billing_period_start": "2026-03-01",
                         "billing_period_end": "2026-04-01"}):
        assert (os.environ[start], os.environ[end]) == ("2026-03-01", "2026-04-01")
    assert start not in os.environ and os.environ[end] == "2020-01-01"
    # No window: a stray variable must not narrow the unwindowed invocations (staging views).
    with billing_window(None):
        assert start not in os.environ and end not in os.environ
    assert os.environ[end] == "2020-01-01"


def test_per_invocation_target_folders_of_earlier_versions_are_pruned(tmp_path, monkeypatch):
    from dagster_project.cli import prune_per_invocation_targets

    target = tmp_path / "target"
    keep = ["compiled", "run", "dbt_billing_history", "dbt_billing_history-0123abc"]
    stale = ["dbt_billing_history-16c7735-08b8dcf", "mlcost_dbt_models-0a3e202-ce0684f"]
    for name in keep + stale:
        (target / name).mkdir(parents=True)
        (target / name / "manifest.json").write_text("{}")
    (target / "manifest.json").write_text("{}")
    monkeypatch.setattr(settings, "DBT_PROJECT_DIR", tmp_path)
    assert prune_per_invocation_targets() == 2
    assert sorted(p.name for p in target.iterdir()) == sorted([*keep, "manifest.json"])


def test_warm_imports_start_once_per_module():
    from dagster_project.lib.warm import warm_imports

    thread = warm_imports(("colorsys", "no_such_module_mlcost"))
    assert thread is not None
    thread.join(timeout=30)
    assert not thread.is_alive()  # a missing module is left to the stage that needs it
    assert warm_imports(("colorsys",)) is None
