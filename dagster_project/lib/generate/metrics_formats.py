"""Write part of the demo's metrics in real formats (docs/metrics.md), the same values moved
out of mlcost's CSV, so the demo exercises the one metrics reader (lib/metrics):

* AWS `invocations` and `cpu_utilization_pct` -> a CloudWatch GetMetricData response per
  month (`cloudwatch/get-metric-data_<month>.json`): one MetricDataResult per resource and
  metric, Label `<resource id> <MetricName>`, Timestamps newest first (CloudWatch's default
  TimestampDescending), Values as JSON numbers;
* GCP and Azure `gpu_utilization_pct` -> a Prometheus query_range response per month
  (`prometheus/dcgm_query_range_<month>.json`) of DCGM-exporter's DCGM_FI_DEV_GPU_UTIL at a
  1-day step, values as strings, with the provider / resource_id labels mlcost needs.

Every other row stays in the CSV. Values are written from the CSV text, so the numbers read
back are the same (tests/test_metrics_reader_formats.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

CLOUDWATCH_METRICS = {"invocations": "Invocations", "cpu_utilization_pct": "CPUUtilization"}


def _is_cloudwatch(row: dict) -> bool:
    return row["provider"] == "aws" and row["metric_name"] in CLOUDWATCH_METRICS


def _is_dcgm(row: dict) -> bool:
    return row["provider"] in ("gcp", "azure") and row["metric_name"] == "gpu_utilization_pct"


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


def split_month(csv_path: Path, label: str) -> list[Path]:
    """Move the rows above out of `csv_path` into the two JSON files beside it (in
    sub-folders of its folder); returns the files written."""
    with csv_path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        rows = list(reader)
    cw = [r for r in rows if _is_cloudwatch(r)]
    prom = [r for r in rows if _is_dcgm(r)]
    kept = [r for r in rows if not (_is_cloudwatch(r) or _is_dcgm(r))]
    with csv_path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    written = []
    for sub, name, doc_rows, build in (
            ("cloudwatch", f"get-metric-data_{label}.json", cw, cloudwatch_document),
            ("prometheus", f"dcgm_query_range_{label}.json", prom, prometheus_document)):
        if not doc_rows:
            continue
        out = csv_path.parent / sub / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(build(doc_rows), indent=1) + "\n", encoding="utf-8")
        written.append(out)
    return written
