"""The per-run machinery that keeps a daily run cheap (docs/benchmarks.md): the billing window
passed to dbt through the environment, one dbt target folder per asset, and the background
imports. Correctness only; timings are in `make bench`."""

from __future__ import annotations

import os

from dagster_project import settings


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
    from dagster_project.lib.dbt_manifest import prune_per_invocation_targets

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
