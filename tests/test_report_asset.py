"""The quarter-partitioned review-pack asset, its job and its two schedules
(docs/operations.md#the-quarterly-review-pack)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest

from dagster_project.defs.reports import partitions as qp
from dagster_project.defs.reports.assets import quarterly_review
from dagster_project.defs.resources import WarehouseResource
from dagster_project.exit_codes import MISSING_INPUT, ExitError
from dagster_project.lib import report


def test_quarter_keys_run_from_the_first_billing_period_to_the_running_quarter():
    assert qp.quarter_keys("2025-05", dt.date(2026, 7, 1)) == [
        "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    assert qp.quarter_keys("2026-09", dt.date(2026, 9, 30)) == ["2026Q3"]
    assert qp.quarter_keys("2024-12", dt.date(2025, 1, 1)) == ["2024Q4", "2025Q1"]
    with pytest.raises(ValueError, match="MLCOST_FIRST_BILLING_PERIOD must look like 2015-01"):
        qp.quarter_keys("2015/01", dt.date(2026, 1, 1))


def test_the_partitions_are_loaded_from_settings_and_the_clock():
    from dagster_project import settings

    keys = qp.review_quarters.get_partition_keys()
    today = dt.datetime.now(dt.UTC).date()
    assert keys == qp.quarter_keys(settings.first_billing_period(), today)
    assert keys[-1] == f"{today.year}Q{(today.month - 1) // 3 + 1}"


@pytest.mark.parametrize("at, closed, preliminary", [
    (dt.datetime(2026, 10, 5, 7), "2026Q3", "2026Q4"),
    (dt.datetime(2026, 10, 1, 7), "2026Q3", "2026Q3"),   # first days: the quarter just closed
    (dt.datetime(2026, 10, 4, 7), "2026Q3", "2026Q3"),
    (dt.datetime(2026, 8, 2, 7), "2026Q2", "2026Q3"),    # not a quarter's first month
    (dt.datetime(2027, 1, 5, 7), "2026Q4", "2027Q1"),    # across the year
    (dt.datetime(2027, 1, 1, 7), "2026Q4", "2026Q4"),
])
def test_which_quarter_each_schedule_renders(at, closed, preliminary):
    assert qp.closed_quarter(at) == closed
    assert qp.preliminary_quarter(at) == preliminary


def _tick(schedule, when: dt.datetime):
    """Evaluate a tick at ``when`` as the daemon does (the run request's partition is
    checked against the job's partitions)."""
    from dagster_project.definitions import defs

    ctx = dg.build_schedule_context(scheduled_execution_time=when.replace(tzinfo=dt.UTC),
                                    repository_def=defs.get_repository_def())
    return schedule.evaluate_tick(ctx)


def _partitions(monkeypatch, keys):
    """Schedules check keys against the partitions fixed at load time; pin them."""
    from dagster_project.defs import schedules

    monkeypatch.setattr(schedules, "review_quarters", dg.StaticPartitionsDefinition(keys))
    return schedules


def test_after_close_schedule_requests_the_closed_quarter(monkeypatch):
    schedules = _partitions(monkeypatch, ["2026Q2", "2026Q3", "2026Q4"])
    sched = schedules.quarterly_review_after_close
    assert sched.cron_schedule == "0 7 5 1,4,7,10 *" and sched.execution_timezone == "UTC"
    assert sched.job_name == "quarterly_review"
    assert sched.default_status == dg.DefaultScheduleStatus.STOPPED
    result = _tick(sched, dt.datetime(2026, 10, 5, 7))
    [request] = result.run_requests
    assert request.partition_key == "2026Q3"
    assert request.run_key == "final:2026Q3:2026-10-05"
    assert request.tags["mlcost/review"] == "final"


def test_preliminary_schedule_requests_the_running_quarter_daily(monkeypatch):
    schedules = _partitions(monkeypatch, ["2026Q2", "2026Q3", "2026Q4"])
    sched = schedules.quarterly_review_preliminary
    assert sched.cron_schedule == "0 7 * * *" and sched.job_name == "quarterly_review"
    keys = {when: _tick(sched, when).run_requests[0].partition_key
            for when in (dt.datetime(2026, 8, 14, 7), dt.datetime(2026, 10, 2, 7),
                         dt.datetime(2026, 10, 5, 7), dt.datetime(2026, 12, 31, 7))}
    assert list(keys.values()) == ["2026Q3", "2026Q3", "2026Q4", "2026Q4"]
    again = _tick(sched, dt.datetime(2026, 8, 15, 7)).run_requests[0]
    assert again.run_key == "preliminary:2026Q3:2026-08-15"  # one run per day


def test_a_quarter_unknown_at_load_time_is_skipped_with_the_reason(monkeypatch):
    schedules = _partitions(monkeypatch, ["2026Q2", "2026Q3"])
    result = _tick(schedules.quarterly_review_preliminary, dt.datetime(2026, 11, 2, 7))
    assert not result.run_requests
    assert "2026Q4 is not a partition of quarterly_review yet" in result.skip_message
    assert "reload the code location" in result.skip_message


def test_the_pack_has_its_own_job_outside_the_others():
    from dagster_project.definitions import defs

    key = dg.AssetKey(["reports", "quarterly_review"])
    graph = defs.resolve_asset_graph()
    assert graph.get(key).partitions_def.get_partition_keys() == \
        qp.review_quarters.get_partition_keys()
    assert dg.AssetKey(["reports", "quarterly_report"]) not in graph.get_all_asset_keys()
    for job in ("mlcost_full", "mlcost_build", "marts_daily"):
        assert key not in defs.resolve_job_def(job).asset_layer.executable_asset_keys, job
    review = defs.resolve_job_def("quarterly_review")
    assert set(review.asset_layer.executable_asset_keys) == {key}
    assert {"quarterly_review_after_close", "quarterly_review_preliminary",
            "mlcost_daily"} == {s.name for s in defs.schedules}
    # the pack is rendered after the variance and the review marts it reads
    parents = {p.to_user_string() for p in graph.get(key).parent_keys}
    assert {"variance/quarterly_variance", "marts/rpt_review_headline",
            "marts/rpt_review_data_quality"} <= parents


class _Refused(ExitError):
    pass


@pytest.fixture
def renderer(monkeypatch, tmp_path):
    """A stand-in for lib/report's render_review_pack (R3's API): records its calls."""
    calls = []

    def render_review_pack(con, quarter, out_dir, formats=("html",), notes_path=None):
        calls.append((quarter, Path(out_dir), formats))
        if quarter == "2015Q1":
            raise _Refused(f"no cost data in {quarter}", MISSING_INPUT)
        assert con.execute("select 42").fetchone() == (42,)  # a live read-only connection
        folder = Path(out_dir) / quarter
        folder.mkdir(parents=True)
        paths = {f: folder / f"report.{f}" for f in formats}
        for p in paths.values():
            p.write_text("x")
        return SimpleNamespace(paths=paths, preliminary=quarter == "2026Q4",
                               months_with_data=2 if quarter == "2026Q4" else 3,
                               data_through=dt.date(2026, 11, 30) if quarter == "2026Q4"
                               else dt.date(2026, 9, 30),
                               unavailable=[("accuracy", "marts.rpt_review_accuracy has not "
                                             "been built")])

    monkeypatch.setattr(report, "render_review_pack", render_review_pack, raising=False)
    monkeypatch.setattr(report, "ReviewRequestError", _Refused, raising=False)
    monkeypatch.setenv("MLCOST_REPORTS", str(tmp_path / "reports"))
    wh = tmp_path / "wh.duckdb"
    duckdb.connect(str(wh)).close()
    return calls, {"warehouse": WarehouseResource(path=str(wh))}


def test_the_asset_renders_its_partition_and_records_what_it_wrote(renderer, tmp_path):
    calls, resources = renderer
    result = dg.materialize([quarterly_review], partition_key="2026Q4", resources=resources)
    assert result.success
    assert calls == [("2026Q4", tmp_path / "reports", ("html", "pdf"))]
    [mat] = result.asset_materializations_for_node(quarterly_review.op.name)
    meta = {k: v.value for k, v in mat.metadata.items()}
    assert mat.partition == "2026Q4"
    assert meta["preliminary"] is True and meta["months_with_data"] == 2
    assert meta["data_through"] == "2026-11-30"
    assert meta["html"] == str(tmp_path / "reports" / "2026Q4" / "report.html")
    assert meta["pdf"] == str(tmp_path / "reports" / "2026Q4" / "report.pdf")
    assert meta["unavailable"] == [{"section": "accuracy",
                                    "reason": "marts.rpt_review_accuracy has not been built"}]


def test_a_quarter_without_cost_data_fails_the_run_with_the_renderers_message(renderer):
    calls, resources = renderer
    result = dg.materialize([quarterly_review], partition_key="2015Q1", resources=resources,
                            raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "no cost data in 2015Q1" in failure.event_specific_data.error.message
    assert calls and calls[0][0] == "2015Q1"
