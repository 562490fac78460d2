"""The raw great-expectations suites as the ingest step runs them (`validate_loaded`,
docs/operations.md "gx_suite"): on the rows of the files a run loaded only, and a suite that
cannot run is a failed check naming the error, never an exception out of the ingest step."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dagster_project import settings
from dagster_project.defs.ingest.checks import validate_loaded
from dagster_project.defs.resources import WarehouseResource
from dagster_project.lib.ingest.loader import ingest_landing
from dagster_project.lib.warehouse import connection

SAMPLE = (Path(__file__).parent / "fixtures" / "real" / "oci" / "cost_report_csv_native"
          / "reports_cost-csv_0000000030000269.csv")


@pytest.fixture
def loaded(tmp_path) -> tuple[WarehouseResource, list[str], int]:
    """Two deliveries of the OCI sample: the second, in a folder of its own, a re-delivery
    without the first row (both files' rows stay in the raw table)."""
    for day in ("day1", "day2"):
        (tmp_path / "landing" / "oci" / day).mkdir(parents=True)
    shutil.copy(SAMPLE, tmp_path / "landing" / "oci" / "day1" / "a.csv")
    lines = SAMPLE.read_text().splitlines(keepends=True)
    (tmp_path / "landing" / "oci" / "day2" / "b.csv").write_text("".join([lines[0], *lines[2:]]))
    wh = tmp_path / "wh.duckdb"
    with connection(wh) as con:
        result = ingest_landing(con, tmp_path / "landing", settle=0)
        ids = sorted(o.file_id for o in result.by_status("loaded"))
        first_rows = con.execute("select count(*) from raw.oci_cost_report where _file_id = ?",
                                 [ids[0]]).fetchone()[0]
    assert len(ids) == 2
    return WarehouseResource(path=str(wh)), ids, first_rows


def test_a_suite_validates_only_the_files_it_is_given(loaded, monkeypatch):
    monkeypatch.delenv("MLCOST_DBT_WORKER", raising=False)  # no run, no worker: in process
    warehouse, ids, first_rows = loaded
    res = validate_loaded(warehouse, "oci_cost_report", ids[:1])
    assert res.check_name == "gx_suite" and res.asset_key.path == ["raw", "oci_cost_report"]
    assert res.metadata["files_validated"].value == 1
    assert res.metadata["rows_total"].value == first_rows  # not the other delivery's rows
    both = validate_loaded(warehouse, "oci_cost_report", ids)
    assert both.metadata["rows_total"].value > first_rows


def test_a_suite_that_cannot_run_is_a_failed_check_naming_the_error(loaded, tmp_path,
                                                                    monkeypatch):
    warehouse, ids, _ = loaded
    broken = tmp_path / "expectations"
    broken.mkdir()
    (broken / "raw_oci_cost_report.json").write_text("{not json")
    monkeypatch.setattr(settings, "EXPECTATIONS_DIR", broken)
    res = validate_loaded(warehouse, "oci_cost_report", ids)
    assert res.passed is False
    assert "raw_oci_cost_report.json could not run" in res.description
    assert "JSONDecodeError" in res.metadata["error"].value
