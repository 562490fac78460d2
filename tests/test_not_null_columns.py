"""The generic test `not_null_columns` (dbt_models/tests/generic/not_null_columns.sql): a
model's required columns in one test. It passes on a seed as shipped, fails once a required
value is missing, and its rows name each column with nulls and how many."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.conftest import run_dbt


def test_fails_naming_each_column_with_nulls_and_their_count(tmp_path):
    wh, target = tmp_path / "wh.duckdb", tmp_path / "target"
    seeded = run_dbt(wh, target, ["seed", "--select", "teams"])
    assert seeded.success, seeded.output
    clean = run_dbt(wh, target, ["test", "--select", "not_null_columns_teams"])
    assert clean.success, clean.output

    with duckdb.connect(str(wh)) as con:  # seeds are in schema `reference` (dbt_project.yml)
        assert con.execute("select count(*) from reference.teams").fetchone()[0] >= 2
        con.execute("update reference.teams set team = null where rowid in "
                    "(select rowid from reference.teams order by rowid limit 2)")
        con.execute("update reference.teams set receives_shared_costs = null "
                    "where rowid = (select max(rowid) from reference.teams)")
    failed = run_dbt(wh, target, ["test", "--select", "not_null_columns_teams"])
    assert not failed.success
    assert "not_null_columns_teams" in failed.output

    # The failing rows: one per column with nulls, the columns without nulls absent.
    compiled = next((target / "compiled").rglob("not_null_columns_teams.sql"))
    with duckdb.connect(str(wh), read_only=True) as con:
        found = sorted(con.execute(Path(compiled).read_text()).fetchall())
    assert found == [("receives_shared_costs", 1), ("team", 2)]
