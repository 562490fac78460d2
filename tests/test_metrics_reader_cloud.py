"""The metrics reader's Google Cloud Monitoring (timeSeries.list) and Azure Monitor (metrics
REST) formats (dagster_project/lib/metrics, docs/metrics.md): responses shaped like the real
ones (tests/fixtures/metrics/) give daily rows keyed by the billing ResourceId, land in
raw.utilization_metrics with lineage, and every kind of bad file is refused with a clear
one-paragraph error while the good files still load."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.ingest.detect import detect
from dagster_project.lib.ingest.errors import BadInputError
from dagster_project.lib.metrics import MetricRow, read_metrics

FIX = Path(__file__).parent / "fixtures" / "metrics"
VERTEX = ("//aiplatform.googleapis.com/projects/190233774102/locations/us-central1/endpoints/"
          "4418871962300334080")
AML = ("/subscriptions/5f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f/resourcegroups/rg-fraud-ml/providers/"
       "microsoft.machinelearningservices/workspaces/mlw-fraud-prod/onlineendpoints/"
       "fraud-scorer-online")


def _fixture(name: str) -> dict:
    return json.loads((FIX / name).read_text())


def _bad(tmp_path: Path, doc) -> str:
    p = tmp_path / "m.json"
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    with pytest.raises(BadInputError) as exc:
        read_metrics(p)
    assert exc.value.message.startswith(str(p)) or "m.json" in exc.value.message
    return exc.value.message


def test_cloud_monitoring_vertex_endpoint_gives_daily_invocations():
    rows = read_metrics(FIX / "gcp_monitoring_time_series.json")
    assert rows == [
        # Two deployed models of one endpoint on one day are summed (301877 + 15123); a day
        # with one point keeps the int64Value text exactly.
        MetricRow("2026-06-01", "gcp", VERTEX, "invocations", "317000", "Count"),
        MetricRow("2026-06-02", "gcp", VERTEX, "invocations", "318244", "Count"),
    ]


def test_cloud_monitoring_day_is_where_the_interval_starts(tmp_path):
    doc = _fixture("gcp_monitoring_time_series.json")
    series = doc["timeSeries"][0]
    # Unaligned one-minute DELTA points: the one ending at midnight belongs to the day before;
    # a GAUGE-style point without startTime takes its endTime's day; doubles are read too; a
    # NaN point is unknown; a day of the response's span without a point counted nothing (0).
    series["points"] = [
        {"interval": {"startTime": "2026-06-01T23:59:00.123456789Z",
                      "endTime": "2026-06-02T00:00:00.123456789Z"}, "value": {"int64Value": "7"}},
        {"interval": {"startTime": "2026-06-01T12:00:00+02:00",
                      "endTime": "2026-06-01T12:01:00+02:00"}, "value": {"int64Value": 3}},
        {"interval": {"endTime": "2026-06-03T05:00:00Z"}, "value": {"doubleValue": 2.5}},
        {"interval": {"endTime": "2026-06-04T05:00:00Z"}, "value": {"doubleValue": "NaN"}},
    ]
    doc["timeSeries"] = [series]
    p = tmp_path / "page.json"
    p.write_text(json.dumps(doc))
    assert [(r.metric_date, r.value) for r in read_metrics(p)] == [
        ("2026-06-01", "10"), ("2026-06-02", "0"), ("2026-06-03", "2.5")]


def test_cloud_monitoring_days_without_points_count_zero_within_the_span(tmp_path):
    # Cloud Monitoring writes no point for a day without predictions: an endpoint idle from
    # 06-02 shows 0 on the days the response covers (its span, from the other endpoint), so
    # the idle-endpoint detector sees it; nothing is invented outside the span.
    doc = _fixture("gcp_monitoring_time_series.json")
    busy, idle = doc["timeSeries"][0], copy.deepcopy(doc["timeSeries"][1])
    idle["resource"]["labels"]["endpoint_id"] = "7209432117864923136"
    busy["points"].insert(0, {"interval": {"startTime": "2026-06-04T00:00:00Z",
                                           "endTime": "2026-06-05T00:00:00Z"},
                              "value": {"int64Value": "1"}})
    doc["timeSeries"] = [busy, idle]
    p = tmp_path / "two.json"
    p.write_text(json.dumps(doc))
    got = [(r.resource_id.rsplit("/", 1)[1], r.metric_date, r.value) for r in read_metrics(p)]
    assert got == [
        ("4418871962300334080", "2026-06-01", "301877"),
        ("7209432117864923136", "2026-06-01", "15123"),
        ("4418871962300334080", "2026-06-02", "318244"),
        ("7209432117864923136", "2026-06-02", "0"),
        ("4418871962300334080", "2026-06-03", "0"),
        ("7209432117864923136", "2026-06-03", "0"),
        ("4418871962300334080", "2026-06-04", "1"),
        ("7209432117864923136", "2026-06-04", "0")]


def test_azure_monitor_online_endpoint_gives_daily_invocations():
    rows = read_metrics(FIX / "azure_monitor_metrics.json")
    # The resource id is lower-cased like the Azure cost export; a listed interval with no
    # aggregation (2026-06-03) emitted nothing: no requests, 0 (the idle detector's signal).
    assert rows == [
        MetricRow("2026-06-01", "azure", AML, "invocations", "4981234.0", "Count"),
        MetricRow("2026-06-02", "azure", AML, "invocations", "5123400.0", "Count"),
        MetricRow("2026-06-03", "azure", AML, "invocations", "0", "Count"),
    ]


def test_azure_monitor_sums_split_series_and_averages_percentages(tmp_path):
    doc = _fixture("azure_monitor_metrics.json")
    item = doc["value"][0]
    item["timeseries"] = [  # split by deployment (blue / green): requests add up
        {"metadatavalues": [{"name": {"value": "deployment"}, "value": "blue"}],
         "data": [{"timeStamp": "2026-06-01T00:00:00Z", "total": 90.0}]},
        {"metadatavalues": [{"name": {"value": "deployment"}, "value": "green"}],
         "data": [{"timeStamp": "2026-06-01T00:00:00Z", "total": 10.0, "average": 0.5}]}]
    vm = ("/subscriptions/5f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f/resourceGroups/RG-X/providers/"
          "Microsoft.Compute/virtualMachines/vm-1")
    cpu = {"id": f"{vm}/providers/Microsoft.Insights/metrics/Percentage CPU",
           "name": {"value": "Percentage CPU"}, "errorCode": "Success",
           "timeseries": [{"data": [{"timeStamp": "2026-06-01T00:00:00Z", "average": 10.0},
                                    {"timeStamp": "2026-06-01T12:00:00Z", "average": 20.0},
                                    # a percentage not measured is unknown, not 0
                                    {"timeStamp": "2026-06-02T00:00:00Z"}]}]}
    doc["interval"] = "PT12H"
    doc["value"].append(cpu)
    p = tmp_path / "azure.json"
    p.write_text(json.dumps(doc))
    assert [(r.resource_id, r.metric_name, r.value) for r in read_metrics(p)] == [
        (AML, "invocations", "100.0"), (vm.lower(), "cpu_utilization_pct", "15.0")]


def test_detect_names_the_new_formats():
    for name, fmt in (("gcp_monitoring_time_series.json", "gcp_monitoring_json"),
                      ("azure_monitor_metrics.json", "azure_monitor_json")):
        det = detect(FIX / name)
        assert (det.family, det.source_format) == ("utilization_metrics", fmt)


def test_both_land_with_lineage_and_a_bad_one_is_quarantined(tmp_path):
    from dagster_project.lib.ingest.loader import discover, ingest_paths
    from dagster_project.lib.warehouse import connection

    landing = tmp_path / "landing"
    (landing / "gcp").mkdir(parents=True)
    (landing / "azure").mkdir()
    gcp = landing / "gcp" / "vertex.json"
    gcp.write_bytes((FIX / "gcp_monitoring_time_series.json").read_bytes())
    (landing / "azure" / "aml.json").write_bytes((FIX / "azure_monitor_metrics.json").read_bytes())
    bad = _fixture("azure_monitor_metrics.json")
    bad["value"][0]["name"]["value"] = "RequestLatency"
    (landing / "azure" / "latency.json").write_text(json.dumps(bad))
    wh = tmp_path / "wh.duckdb"
    with connection(wh) as con:
        result = ingest_paths(con, discover(landing))
    by_name = {Path(o.path).name: o for o in result.outcomes}
    assert (by_name["vertex.json"].status, by_name["vertex.json"].rows) == ("loaded", 2)
    assert (by_name["aml.json"].status, by_name["aml.json"].rows) == ("loaded", 3)
    assert by_name["latency.json"].status == "quarantined"
    assert "'RequestLatency', a metric mlcost does not read" in by_name["latency.json"].error
    with duckdb.connect(str(wh), read_only=True) as con:
        got = con.execute(
            """select l.source_format, r.provider, r.resource_id, r.metric_name, r.value,
                      r._row_number, r._billing_period, l.path
               from raw.utilization_metrics as r
               join meta.load_ledger as l on l.file_id = r._file_id
               order by 1, r._row_number""").fetchall()
    assert [g[:6] for g in got] == [
        ("azure_monitor_json", "azure", AML, "invocations", "4981234.0", 1),
        ("azure_monitor_json", "azure", AML, "invocations", "5123400.0", 2),
        ("azure_monitor_json", "azure", AML, "invocations", "0", 3),
        ("gcp_monitoring_json", "gcp", VERTEX, "invocations", "317000", 1),
        ("gcp_monitoring_json", "gcp", VERTEX, "invocations", "318244", 2)]
    assert {str(g[6]) for g in got} == {"2026-06-01"}
    assert any(str(g[7]).endswith("vertex.json") for g in got)


def test_bad_cloud_monitoring_files_are_named_clearly(tmp_path):
    ok = _fixture("gcp_monitoring_time_series.json")

    def doc(**change):
        d = copy.deepcopy(ok)
        series = d["timeSeries"][0]
        for key, value in change.items():
            if key == "labels":
                series["resource"]["labels"] = value
            elif key == "point":
                series["points"] = [value]
            else:
                series[key] = value
        return d

    assert "'aiplatform.googleapis.com/prediction/online/error_count', a metric mlcost does " \
           "not read" in _bad(tmp_path, doc(metric={
               "type": "aiplatform.googleapis.com/prediction/online/error_count"}))
    assert "monitored resource type 'gce_instance'" in _bad(tmp_path, doc(resource={
        "type": "gce_instance", "labels": {"instance_id": "1"}}))
    assert "needs resource_container (the project number)" in _bad(tmp_path, doc(labels={
        "resource_container": "recsys-exp-190233", "location": "us-central1",
        "endpoint_id": "1"}))
    assert "is CUMULATIVE" in _bad(tmp_path, doc(metricKind="CUMULATIVE"))
    assert "more than one day" in _bad(tmp_path, doc(point={
        "interval": {"startTime": "2026-06-01T00:00:00Z", "endTime": "2026-06-08T00:00:00Z"},
        "value": {"int64Value": "1"}}))
    assert "points[0].interval.endTime is missing" in _bad(tmp_path, doc(point={
        "interval": {"endTime": "yesterday"}, "value": {"int64Value": "1"}}))
    assert "reads int64Value or doubleValue" in _bad(tmp_path, doc(point={
        "interval": {"endTime": "2026-06-01T00:00:00Z"},
        "value": {"distributionValue": {"count": "3"}}}))
    assert "reports executionErrors (first: deadline exceeded)" in _bad(
        tmp_path, {**ok, "executionErrors": [{"code": 4, "message": "deadline exceeded"}]})
    assert "is not valid JSON" in _bad(tmp_path, '{"timeSeries": [')


def test_bad_azure_monitor_files_are_named_clearly(tmp_path):
    ok = _fixture("azure_monitor_metrics.json")

    def doc(top=None, **change):
        d = copy.deepcopy(ok)
        d["value"][0].update(change)
        d.update(top or {})
        return d

    assert "'ConnectionsActive', a metric mlcost does not read (known: Percentage CPU, " \
           "RequestsPerMinute)" in _bad(tmp_path, doc(name={"value": "ConnectionsActive"}))
    assert "has id 'RequestsPerMinute'" in _bad(tmp_path, doc(id="RequestsPerMinute"))
    assert "errorCode 'Throttled'" in _bad(tmp_path, doc(errorCode="Throttled"))
    assert "has no 'total'; mlcost reads RequestsPerMinute with aggregation=Total" in _bad(
        tmp_path, doc(timeseries=[{"data": [{"timeStamp": "2026-06-01T00:00:00Z",
                                              "average": 3.2}]}]))
    assert "has timeStamp 'June 1st'" in _bad(tmp_path, doc(timeseries=[{"data": [
        {"timeStamp": "June 1st", "total": 1.0}]}]))
    assert "total is 'many', not a number" in _bad(tmp_path, doc(timeseries=[{"data": [
        {"timeStamp": "2026-06-01T00:00:00Z", "total": "many"}]}]))
    for grain in ("P7D", "FULL", "PT7H", "one day"):
        assert f"has interval {grain!r}" in _bad(tmp_path, doc(top={"interval": grain}))
    for grain in ("PT24H", "PT1M", "PT30M"):  # day-dividing grains read fine
        p = tmp_path / "ok.json"
        p.write_text(json.dumps(doc(top={"interval": grain})))
        assert len(read_metrics(p)) == 3


def test_a_metrics_response_without_data_points_is_named(tmp_path):
    from dagster_project.lib.ingest.loader import discover, ingest_paths
    from dagster_project.lib.warehouse import connection

    landing = tmp_path / "landing"
    landing.mkdir()
    # A Cloud Monitoring page with no series leaves the timeSeries array out.
    (landing / "page2.json").write_text('{"unit": "1", "nextPageToken": "CiAKGjBpNDd2Nm"}')
    azure = _fixture("azure_monitor_metrics.json")
    azure["value"][0]["timeseries"] = []  # the metric, but no series in the timespan
    (landing / "nothing.json").write_text(json.dumps(azure))
    with connection(tmp_path / "wh.duckdb") as con:
        result = ingest_paths(con, discover(landing))
    errors = {Path(o.path).name: (o.status, o.error) for o in result.outcomes}
    assert errors["page2.json"][0] == errors["nothing.json"][0] == "quarantined"
    assert "is a metrics response (gcp_monitoring_json) with no data points" in \
        errors["page2.json"][1]
    assert "is a metrics response (azure_monitor_json) with no data points" in \
        errors["nothing.json"][1]
