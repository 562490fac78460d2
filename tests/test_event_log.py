"""mlcost's Dagster event log (lib/event_log.py): the instance mlcost configures uses it, runs
are recorded as with Dagster's own class, and Dagster's own class reads the same files."""

from __future__ import annotations

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage


@dg.asset
def tiny():
    return 1


def test_runs_are_recorded_and_readable_by_dagsters_own_class(tmp_path, monkeypatch):
    from dagster_project.lib.event_log import MlcostSqliteEventLogStorage
    from dagster_project.lib.instance import ensure_dagster_home

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    ensure_dagster_home()
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, MlcostSqliteEventLogStorage)
        result = dg.materialize([tiny], instance=instance)
        assert result.success
        with storage.run_connection(result.run_id) as conn:
            # WAL with synchronous=NORMAL (1): atomic commits without an fsync per event.
            assert conn.exec_driver_sql("pragma journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("pragma synchronous").scalar() == 1
        ours = [r.event_log_entry.dagster_event_type for r in
                storage.get_records_for_run(result.run_id, limit=1000).records]
        latest = instance.get_latest_materialization_event(dg.AssetKey("tiny"))
        assert latest is not None and latest.run_id == result.run_id
    plain = SqliteEventLogStorage(str(tmp_path / "home" / "history" / "runs"))
    theirs = [r.event_log_entry.dagster_event_type for r in
              plain.get_records_for_run(result.run_id, limit=1000).records]
    assert theirs == ours and dg.DagsterEventType.ASSET_MATERIALIZATION in theirs


def test_a_long_lived_process_keeps_only_a_few_files_open(tmp_path, monkeypatch):
    """`dagster dev` reads every run's file: engines beyond MAX_OPEN_SHARDS are closed, and a
    run whose engine was closed is still read whole when it is opened again."""
    from dagster_project.lib import event_log
    from dagster_project.lib.instance import ensure_dagster_home

    monkeypatch.setattr(event_log, "MAX_OPEN_SHARDS", 2)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    ensure_dagster_home()
    with dg.DagsterInstance.get() as instance:
        runs = [dg.materialize([tiny], instance=instance).run_id for _ in range(4)]
        storage = instance.event_log_storage
        assert len(storage._engines) <= 2
        first = storage.get_records_for_run(runs[0], limit=1000).records
        assert any(r.event_log_entry.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS
                   for r in first)
        assert len(storage._engines) <= 2


def test_a_table_found_is_not_asked_for_again(tmp_path, monkeypatch):
    """Dagster asks `has_table` before storing each asset check result: a yes is remembered
    (tables are only ever added), a no is asked again (a migration may add the table)."""
    from dagster_project.lib.instance import ensure_dagster_home

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    ensure_dagster_home()
    asked: list[str] = []
    real = SqliteEventLogStorage.has_table

    def counting(self, name):
        asked.append(name)
        return real(self, name)

    monkeypatch.setattr(SqliteEventLogStorage, "has_table", counting)
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert storage.supports_asset_checks and storage.has_table("asset_check_executions")
        assert not storage.has_table("no_such_table") and not storage.has_table("no_such_table")
    assert asked.count("asset_check_executions") == 1
    assert asked.count("no_such_table") == 2
