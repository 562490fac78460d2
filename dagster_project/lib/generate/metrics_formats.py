"""Write part of the demo's metrics in real formats (docs/metrics.md), the same values moved
out of mlcost's CSV, so the demo exercises the one metrics reader (lib/metrics):

* AWS `invocations` and `cpu_utilization_pct` -> a CloudWatch GetMetricData response per
  month (`cloudwatch/get-metric-data_<month>.json`): one MetricDataResult per resource and
  metric, Label `<resource id> <MetricName>`, Timestamps newest first (CloudWatch's default
  TimestampDescending), Values as JSON numbers;
* GCP and Azure `gpu_utilization_pct` -> a Prometheus query_range response per month
  (`prometheus/dcgm_query_range_<month>.json`) of DCGM-exporter's DCGM_FI_DEV_GPU_UTIL at a
  1-day step, values as strings, with the provider / resource_id labels mlcost needs.
* GCP Vertex AI endpoint `invocations` -> a Cloud Monitoring timeSeries.list response per
  month (`gcp_monitoring/prediction_count_<month>.json`) of
  aiplatform.googleapis.com/prediction/online/prediction_count aligned per day (ALIGN_SUM,
  86400s), newest point first, int64Value as a string, no point on a day without
  predictions (an endpoint idle all month stays in the CSV: it has no series);
* Azure ML online endpoint `invocations` -> an Azure Monitor metrics response per endpoint
  and month (`azure_monitor/<endpoint>_requests_<month>.json`: the REST API answers for one
  resource) of RequestsPerMinute with aggregation Total at interval P1D, the id in ARM
  casing, every day the endpoint existed listed and days without requests carrying no
  `total` (nothing emitted).

Every other row stays in the CSV. Values are written from the CSV text, so the numbers read
back are the same (tests/test_metrics_reader_formats.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from .fmt import stable_int

CLOUDWATCH_METRICS = {"invocations": "Invocations", "cpu_utilization_pct": "CPUUtilization"}


def _is_cloudwatch(row: dict) -> bool:
    return row["provider"] == "aws" and row["metric_name"] in CLOUDWATCH_METRICS


def _is_dcgm(row: dict) -> bool:
    return row["provider"] in ("gcp", "azure") and row["metric_name"] == "gpu_utilization_pct"


def _is_vertex(row: dict) -> bool:
    return (row["provider"] == "gcp" and row["metric_name"] == "invocations"
            and row["resource_id"].startswith("//aiplatform.googleapis.com/")
            and "/endpoints/" in row["resource_id"])


def _is_aml(row: dict) -> bool:
    return (row["provider"] == "azure" and row["metric_name"] == "invocations"
            and "/onlineendpoints/" in row["resource_id"])


def _moved(row: dict) -> bool:
    return _is_cloudwatch(row) or _is_dcgm(row) or _is_vertex(row) or _is_aml(row)


def _vertex_moved(rows: list[dict]) -> list[dict]:
    """The Vertex rows a Cloud Monitoring response carries exactly: it has no points for days
    without predictions, read back as 0 inside the response's span of days, so an endpoint
    moves only if it has a row on every day of that span and predictions on at least one.
    Others (an endpoint idle all month: no series at all) stay in the CSV, as a user supplies
    them (docs/metrics.md)."""
    by_rid: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_rid[r["resource_id"]].append(r)
    busy = {rid: rs for rid, rs in by_rid.items() if any(Decimal(r["value"]) for r in rs)}
    counted = [r["metric_date"] for rs in busy.values() for r in rs if Decimal(r["value"])]
    if not counted:
        return []
    first, last = dt.date.fromisoformat(min(counted)), dt.date.fromisoformat(max(counted))
    span = {(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)}
    return [r for rs in busy.values() if {r["metric_date"] for r in rs} == span for r in rs]


def _number(text: str) -> int | float:
    # The CSV text as a JSON number that reads back as the same value.
    return int(text) if text.lstrip("-").isdigit() else float(text)


def _midnight(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp())


def cloudwatch_document(rows: list[dict]) -> dict:
    series: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for r in rows:
        series[(r["resource_id"], r["metric_name"])].append((r["metric_date"], r["value"]))
    results = []
    for n, ((resource_id, metric), points) in enumerate(sorted(series.items()), start=1):
        points.sort(reverse=True)
        results.append({
            "Id": f"m{n}",
            "Label": f"{resource_id} {CLOUDWATCH_METRICS[metric]}",
            "Timestamps": [f"{day}T00:00:00+00:00" for day, _ in points],
            "Values": [_number(v) for _, v in points],
            "StatusCode": "Complete",
        })
    return {"MetricDataResults": results, "Messages": []}


def prometheus_document(rows: list[dict]) -> dict:
    series: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for r in rows:
        series[(r["provider"], r["resource_id"])].append((r["metric_date"], r["value"]))
    result = []
    for (provider, resource_id), points in sorted(series.items()):
        points.sort()
        result.append({
            "metric": {"__name__": "DCGM_FI_DEV_GPU_UTIL", "gpu": "0", "device": "nvidia0",
                       "Hostname": resource_id.rstrip("/").rsplit("/", 1)[-1],
                       "job": "dcgm-exporter", "provider": provider,
                       "resource_id": resource_id},
            "values": [[_midnight(day), value] for day, value in points],
        })
    return {"status": "success", "data": {"resultType": "matrix", "result": result}}


def _next_day(day: str) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


def gcp_monitoring_document(rows: list[dict]) -> dict:
    series: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in rows:
        series[r["resource_id"]].append((r["metric_date"], r["value"]))
    out = []
    for resource_id, points in sorted(series.items()):
        # //aiplatform.googleapis.com/projects/<number>/locations/<loc>/endpoints/<id>
        parts = resource_id.removeprefix("//aiplatform.googleapis.com/").split("/")
        labels = {"resource_container": parts[1], "location": parts[3], "endpoint_id": parts[5]}
        points.sort(reverse=True)  # Cloud Monitoring lists points newest first
        out.append({
            "metric": {"labels": {"deployed_model_id": str(stable_int(resource_id) % 10**19)},
                       "type": "aiplatform.googleapis.com/prediction/online/prediction_count"},
            "resource": {"type": "aiplatform.googleapis.com/Endpoint", "labels": labels},
            "metricKind": "DELTA", "valueType": "INT64",
            "points": [{"interval": {"startTime": f"{day}T00:00:00Z",
                                     "endTime": f"{_next_day(day)}T00:00:00Z"},
                        "value": {"int64Value": value}} for day, value in points
                       if Decimal(value) != 0],  # no point where nothing was counted
        })
    return {"timeSeries": out, "unit": "1"}


# The ARM casing Azure Monitor echoes in ids (the cost export lower-cases them).
_ARM_CASE = (("/resourcegroups/", "/resourceGroups/"),
             ("/providers/microsoft.machinelearningservices/",
              "/providers/Microsoft.MachineLearningServices/"),
             ("/onlineendpoints/", "/onlineEndpoints/"))


def azure_monitor_document(resource_id: str, rows: list[dict], month_days: list[str]) -> dict:
    arm = resource_id
    for lower, cased in _ARM_CASE:
        arm = arm.replace(lower, cased)
    values = {r["metric_date"]: r["value"] for r in rows}
    # Listed: the days the endpoint existed; a day with no requests emitted nothing (no total).
    data = [{"timeStamp": f"{day}T00:00:00Z", "total": float(_number(values[day]))}
            if Decimal(values[day]) != 0 else {"timeStamp": f"{day}T00:00:00Z"}
            for day in month_days if day in values]
    return {
        "cost": 0, "timespan": f"{month_days[0]}T00:00:00Z/{_next_day(month_days[-1])}T00:00:00Z",
        "interval": "P1D",
        "value": [{
            "id": f"{arm}/providers/Microsoft.Insights/metrics/RequestsPerMinute",
            "type": "Microsoft.Insights/metrics",
            "name": {"value": "RequestsPerMinute", "localizedValue": "Requests Per Minute"},
            "displayDescription": "The number of requests sent to online endpoint within a "
                                  "minute",
            "unit": "Count",
            "timeseries": [{"metadatavalues": [], "data": data}],
            "errorCode": "Success",
        }],
        "namespace": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
        "resourceregion": "eastus",
    }


def _month_days(label: str) -> list[str]:
    first = dt.date.fromisoformat(f"{label}-01")
    days = []
    while first.strftime("%Y-%m") == label:
        days.append(first.isoformat())
        first += dt.timedelta(days=1)
    return days


def _write(path: Path, doc: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return path


def split_month(csv_path: Path, label: str) -> list[Path]:
    """Move the rows above out of `csv_path` into the JSON files beside it (in sub-folders of
    its folder); returns the files written."""
    with csv_path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        rows = list(reader)
    cw = [r for r in rows if _is_cloudwatch(r)]
    prom = [r for r in rows if _is_dcgm(r)]
    vertex = _vertex_moved([r for r in rows if _is_vertex(r)])
    moved_vertex = {id(r) for r in vertex}
    aml: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if _is_aml(r):
            aml[r["resource_id"]].append(r)
    kept = [r for r in rows if not _moved(r) or (_is_vertex(r) and id(r) not in moved_vertex)]
    with csv_path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    written = []
    for sub, name, doc_rows, build in (
            ("cloudwatch", f"get-metric-data_{label}.json", cw, cloudwatch_document),
            ("prometheus", f"dcgm_query_range_{label}.json", prom, prometheus_document),
            ("gcp_monitoring", f"prediction_count_{label}.json", vertex,
             gcp_monitoring_document)):
        if doc_rows:
            written.append(_write(csv_path.parent / sub / name, build(doc_rows)))
    days = _month_days(label)
    for resource_id, doc_rows in sorted(aml.items()):
        name = resource_id.rsplit("/", 1)[-1]
        written.append(_write(csv_path.parent / "azure_monitor" / f"{name}_requests_{label}.json",
                              azure_monitor_document(resource_id, doc_rows, days)))
    return written
