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


def test_unique_key_fails_on_a_repeated_or_missing_key_and_names_it(tmp_path):
    """`unique_key` (tests/generic/unique_key.sql): dbt's `unique` and `not_null` in one scan.
    Rendered on the seed `teams` (its key `team`): no rows as shipped; one row per key value
    that repeats or is null, with its count."""
    wh, target = tmp_path / "wh.duckdb", tmp_path / "target"
    seeded = run_dbt(wh, target, ["seed", "--select", "teams"])
    assert seeded.success, seeded.output
    compiled = run_dbt(wh, target, ["compile", "--quiet", "--inline",
                                    "{{ test_unique_key(ref('teams'), 'team') }}"])
    assert compiled.success, compiled.output
    sql = compiled.output.strip()
    assert sql.lower().startswith("select"), sql
    with duckdb.connect(str(wh)) as con:
        assert con.execute(sql).fetchall() == []
        first, second, third = [r[0] for r in con.execute(
            "select rowid from reference.teams order by rowid limit 3").fetchall()]
        con.execute("update reference.teams set team = (select team from reference.teams "
                    "where rowid = ?) where rowid = ?", [first, second])
        repeated = con.execute("select team from reference.teams where rowid = ?",
                               [first]).fetchone()[0]
        con.execute("update reference.teams set team = null where rowid = ?", [third])
        found = sorted(con.execute(sql).fetchall(), key=str)
    assert found == sorted([(repeated, 2), (None, 1)], key=str)
