"""The pinned demo's figures are what they were when they were stored (tests/fixtures/
pinned_demo/, written by `python -m tests.pinned_demo WAREHOUSE DIR`): a refactor changes no
total, forecast point or variance effect. A change that is meant to move a figure rewrites the
stored copy in the same commit and says why."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest

from dagster_project import settings

from .conftest import FIXTURES, run_dbt
from .pinned_demo import FIGURES, figures, read

STORED = FIXTURES / "pinned_demo"


@pytest.fixture(scope="module")
def now(pinned_demo):
    return figures(pinned_demo / "wh.duckdb")


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_pinned_demo_figures_are_unchanged(now, name):
    stored = read(STORED)[name]
    got = now[name]
    assert got[0] == stored[0], f"{name}: columns changed"
    was, now_rows = Counter(map(tuple, stored[1:])), Counter(map(tuple, got[1:]))
    missing, extra = list(was - now_rows), list(now_rows - was)
    assert not missing and not extra, (
        f"{name}: {len(missing)} stored row(s) differ, e.g. {missing[:3]}; "
        f"now: {extra[:3]}")
    assert len(got) == len(stored)


def test_every_dbt_unit_test_passes(pinned_demo, tmp_path):
    """`mlcost run` leaves dbt's unit tests out (fixed inputs: nothing a run's data changes);
    they run here, on a copy of a warehouse where every model they mock exists."""
    wh = tmp_path / "wh.duckdb"
    shutil.copy(pinned_demo / "wh.duckdb", wh)
    res = run_dbt(wh, tmp_path / "target", ["test", "--select", "test_type:unit"],
                  reference_set="demo")
    assert res.success, res.output[-4000:]
    manifest = json.loads((settings.DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    ran = {r["unique_id"] for r in results if r["status"] == "pass"}
    assert manifest["unit_tests"] and ran == set(manifest["unit_tests"])
