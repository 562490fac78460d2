"""Every SQL block of docs/analyst-guide.md runs on the pinned demo and returns rows, and the
guide describes every published table."""

from __future__ import annotations

import re

import duckdb
import pytest

from dagster_project import settings

# The schemas an analyst queries (staging/intermediate/reference are internal): the ones
# `mlcost tables` lists.
from dagster_project.lib.sql_console import PUBLISHED_SCHEMAS

GUIDE = settings.PROJECT_ROOT / "docs" / "analyst-guide.md"
BLOCKS = re.findall(r"```sql\n(.*?)```", GUIDE.read_text(), flags=re.S)


def test_the_guide_has_a_dozen_questions():
    assert len(BLOCKS) >= 12


@pytest.mark.parametrize("n", range(len(BLOCKS)), ids=lambda n: f"q{n + 1}")
def test_each_question_runs_and_returns_rows(pinned_demo, n):
    with duckdb.connect(str(pinned_demo / "wh.duckdb"), read_only=True) as con:
        rows = con.execute(BLOCKS[n]).fetchall()
    assert rows, f"question {n + 1} returned no rows:\n{BLOCKS[n]}"


def test_every_published_table_is_described(pinned_demo):
    with duckdb.connect(str(pinned_demo / "wh.duckdb"), read_only=True) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ? order by 1", [list(PUBLISHED_SCHEMAS)]).fetchall()
    text = GUIDE.read_text()
    missing = [t for (t,) in tables if f"`{t}`" not in text]
    assert not missing, f"docs/analyst-guide.md does not describe {missing}"
