"""The pinned demo's figures are what they were when they were stored (tests/fixtures/
pinned_demo/, written by `python -m tests.pinned_demo WAREHOUSE DIR`): a refactor changes no
total, forecast point or variance effect. A change that is meant to move a figure rewrites the
stored copy in the same commit and says why."""

from __future__ import annotations

from collections import Counter

import pytest

from .conftest import FIXTURES
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
