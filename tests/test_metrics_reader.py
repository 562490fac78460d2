"""The one metrics reader (dagster_project/lib/metrics, docs/metrics.md): CloudWatch
GetMetricData and Prometheus query_range responses shaped like the real ones
(tests/fixtures/metrics/), their daily rows, their landing in raw.utilization_metrics with
lineage (every fixture, the Cloud Monitoring and Azure Monitor ones too, whose readers
tests/test_metrics_reader_cloud.py covers), and a clear one-paragraph error for each kind of
bad file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.ingest.detect import detect
from dagster_project.lib.ingest.errors import BadInputError
from dagster_project.lib.metrics import MetricRow, read_metrics

FIX = Path(__file__).parent / "fixtures" / "metrics"
ENDPOINT = "arn:aws:sagemaker:us-east-1:222222222222:endpoint/query-ranker-prod"
VM = ("//compute.googleapis.com/projects/recsys-exp-190233/zones/us-central1-b/instances/"
      "grace-workbench")


def test_cloudwatch_response_gives_daily_rows_in_mlcost_names():
    rows = read_metrics(FIX / "cloudwatch_get_metric_data.json")
    assert rows == [
        # Two points on one day of a percentage are averaged; one point keeps its value.
        MetricRow("2026-06-01", "aws", ENDPOINT, "gpu_utilization_pct", "30.375", "Percent"),
        MetricRow("2026-06-01", "aws", ENDPOINT, "invocations", "1757261.0", "Count"),
        MetricRow("2026-06-02", "aws", ENDPOINT, "invocations", "1974066.0", "Count"),
    ]


def test_prometheus_dcgm_response_gives_daily_rows_and_skips_nan():
    rows = read_metrics(FIX / "prometheus_query_range_dcgm.json")
    assert rows == [
        MetricRow("2026-06-01", "gcp", VM, "gpu_utilization_pct", "7.62", "Percent"),
        MetricRow("2026-06-03", "gcp", VM, "gpu_utilization_pct", "3", "Percent"),
    ]


def test_detect_names_the_formats():
    for name, fmt in (("cloudwatch_get_metric_data.json", "cloudwatch_json"),
                      ("prometheus_query_range_dcgm.json", "prometheus_json")):
        det = detect(FIX / name)
        assert (det.family, det.source_format) == ("utilization_metrics", fmt)


def test_every_format_lands_in_raw_utilization_metrics_with_lineage(tmp_path):
    from dagster_project.lib.ingest.loader import discover, ingest_paths
    from dagster_project.lib.warehouse import connection

    landing = tmp_path / "landing"
    landing.mkdir()
    for f in FIX.glob("*.json"):
        (landing / f.name).write_bytes(f.read_bytes())
    (landing / "utilization.csv").write_text(
        "metric_date,provider,resource_id,metric_name,value,unit\n"
        f"2026-06-01,aws,{ENDPOINT},cpu_utilization_pct,12.5,Percent\n")
    wh = tmp_path / "wh.duckdb"
    with connection(wh) as con:
        result = ingest_paths(con, discover(landing))
    assert sorted(o.status for o in result.outcomes) == ["loaded"] * 5
    with duckdb.connect(str(wh), read_only=True) as con:
        got = con.execute(
            """select l.source_format, count(*), min(r._row_number), max(r._billing_period)
               from raw.utilization_metrics as r
               join meta.load_ledger as l on l.file_id = r._file_id
               group by 1 order by 1""").fetchall()
    assert [(g[0], g[1], g[2]) for g in got] == [
        ("azure_monitor_json", 3, 1), ("cloudwatch_json", 3, 1), ("csv", 1, 1),
        ("gcp_monitoring_json", 2, 1), ("prometheus_json", 2, 1)]
    assert all(str(g[3]) == "2026-06-01" for g in got)


def _bad(tmp_path: Path, doc, name="m.json") -> str:
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    with pytest.raises(BadInputError) as exc:
        read_metrics(p)
    return exc.value.message


def test_bad_cloudwatch_files_are_named_clearly(tmp_path):
    ok = {"Id": "a", "Label": f"{ENDPOINT} Invocations", "Timestamps": ["2026-06-01T00:00:00Z"],
          "Values": [1.0], "StatusCode": "Complete"}
    assert "Label 'Invocations'" in _bad(tmp_path, {"MetricDataResults": [
        {**ok, "Label": "Invocations"}]})
    assert "'ModelLatency', a metric mlcost does not read" in _bad(tmp_path, {
        "MetricDataResults": [{**ok, "Label": f"{ENDPOINT} ModelLatency"}]})
    assert "StatusCode 'Forbidden'" in _bad(tmp_path, {"MetricDataResults": [
        {**ok, "StatusCode": "Forbidden"}]})
    assert "2 Timestamps and 1 Values" in _bad(tmp_path, {"MetricDataResults": [
        {**ok, "Timestamps": ["2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z"]}]})
    assert "Timestamps[0] is 'yesterday'" in _bad(tmp_path, {"MetricDataResults": [
        {**ok, "Timestamps": ["yesterday"]}]})
    assert "is not valid JSON" in _bad(tmp_path, '{"MetricDataResults": [')


def test_bad_prometheus_files_are_named_clearly(tmp_path):
    series = {"metric": {"__name__": "DCGM_FI_DEV_GPU_UTIL", "provider": "gcp",
                         "resource_id": VM}, "values": [[1780272000, "5"]]}

    def doc(*s, status="success", kind="matrix"):
        return {"status": status, "data": {"resultType": kind, "result": list(s)}}

    assert "lacks the provider" in _bad(tmp_path, doc({**series, "metric": {
        "__name__": "DCGM_FI_DEV_GPU_UTIL", "Hostname": "x"}}))
    assert "'DCGM_FI_DEV_FB_USED', a metric mlcost does not read" in _bad(tmp_path, doc(
        {**series, "metric": {**series["metric"], "__name__": "DCGM_FI_DEV_FB_USED"}}))
    assert "resultType 'vector'" in _bad(tmp_path, doc(series, kind="vector"))
    assert "status is not \"success\" (bad_data)" in _bad(
        tmp_path, {"status": "error", "errorType": "bad_data", "error": "bad_data",
                   "data": {"resultType": "matrix", "result": []}})
    assert "has value 'high', not a number" in _bad(tmp_path, doc(
        {**series, "values": [[1780272000, "high"]]}))


def test_a_bad_metrics_file_is_quarantined_and_the_rest_loads(tmp_path):
    from dagster_project.lib.ingest.loader import discover, ingest_paths
    from dagster_project.lib.warehouse import connection

    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "good.json").write_bytes((FIX / "prometheus_query_range_dcgm.json").read_bytes())
    (landing / "bad.json").write_text(json.dumps({"MetricDataResults": [
        {"Id": "a", "Label": "Invocations", "Timestamps": [], "Values": []}]}))
    with connection(tmp_path / "wh.duckdb") as con:
        result = ingest_paths(con, discover(landing))
    by_name = {Path(o.path).name: o for o in result.outcomes}
    assert by_name["good.json"].status == "loaded" and by_name["good.json"].rows == 2
    assert by_name["bad.json"].status == "quarantined"
    assert "bad.json" in by_name["bad.json"].error and "Label" in by_name["bad.json"].error
