"""The demo generator writes part of its metrics in the providers' own formats
(lib/generate/metrics_formats.py): a CloudWatch GetMetricData response, a Prometheus
(DCGM-exporter) query_range response, a Cloud Monitoring timeSeries.list response of Vertex AI
prediction counts and Azure Monitor responses of Azure ML endpoint requests. Read back through
the one metrics reader they are the same rows and values as the CSV they came from, so the
demo's figures do not depend on which format carries a metric."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.lib.generate import generate
from dagster_project.lib.generate.metrics_formats import split_month
from dagster_project.lib.metrics import read_metrics


def _csv_rows(path: Path) -> list[tuple]:
    with path.open(encoding="utf-8", newline="") as f:
        return [(r["metric_date"], r["provider"], r["resource_id"], r["metric_name"],
                 Decimal(r["value"]), r["unit"]) for r in csv.DictReader(f)]


def _all_rows(metrics_dir: Path) -> Counter:
    rows: list[tuple] = []
    for p in sorted(metrics_dir.rglob("*")):
        if p.suffix == ".csv":
            rows += _csv_rows(p)
        elif p.suffix == ".json":
            rows += [(r.metric_date, r.provider, r.resource_id, r.metric_name,
                      Decimal(r.value), r.unit) for r in read_metrics(p)]
    return Counter(rows)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("metrics-formats")
    generate(out / "demo", months=1, seed=42, scale=0.25, end_month=dt.date(2026, 9, 1))
    return out / "demo" / "landing" / "metrics"


def test_the_demo_writes_every_real_format(generated):
    files = sorted(p.relative_to(generated).as_posix() for p in generated.rglob("*.*"))
    assert files == ["azure_monitor/fraud-scorer-online_requests_2026-09.json",
                     "azure_monitor/fraud-scorer-shadow_requests_2026-09.json",
                     "cloudwatch/get-metric-data_2026-09.json",
                     "gcp_monitoring/prediction_count_2026-09.json",
                     "prometheus/dcgm_query_range_2026-09.json", "utilization_2026-09.csv"]
    cloudwatch = read_metrics(generated / "cloudwatch" / "get-metric-data_2026-09.json")
    prometheus = read_metrics(generated / "prometheus" / "dcgm_query_range_2026-09.json")
    vertex = read_metrics(generated / "gcp_monitoring" / "prediction_count_2026-09.json")
    aml = [r for p in sorted((generated / "azure_monitor").glob("*.json"))
           for r in read_metrics(p)]
    assert len(cloudwatch) > 100 and len(prometheus) > 30
    assert {(r.provider, r.metric_name) for r in cloudwatch} == {
        ("aws", "invocations"), ("aws", "cpu_utilization_pct")}
    assert {(r.provider, r.metric_name) for r in prometheus} == {
        ("gcp", "gpu_utilization_pct"), ("azure", "gpu_utilization_pct")}
    # Every day of the month of both Vertex endpoints (prod and staging) and both Azure ML
    # online endpoints (online and shadow), keyed by the billing export's ResourceId.
    assert {(r.provider, r.metric_name) for r in vertex + aml} == {
        ("gcp", "invocations"), ("azure", "invocations")}
    assert len(vertex) == 60 and len(aml) == 60
    assert all(r.resource_id.startswith("//aiplatform.googleapis.com/projects/")
               and "/endpoints/" in r.resource_id for r in vertex)
    assert all(r.resource_id == r.resource_id.lower() and "/onlineendpoints/" in r.resource_id
               for r in aml)
    # None of those rows is left in the CSV (moved, not copied: no metric is counted twice).
    left = {(p, m) for _, p, _, m, _, _ in _csv_rows(generated / "utilization_2026-09.csv")}
    assert ("aws", "invocations") not in left and ("gcp", "gpu_utilization_pct") not in left
    assert ("gcp", "invocations") not in left and ("azure", "invocations") not in left
    assert ("aws", "active_minutes") in left and ("aws", "batch_records") in left


def test_the_moved_ids_are_the_billing_ids(generated):
    # The denominators must join the bill: every resource of the new formats is billed.
    truth = generated.parent.parent / "ground_truth" / "resources.csv"
    with truth.open(encoding="utf-8", newline="") as f:
        billed = {(r["provider"], r["resource_id"]) for r in csv.DictReader(f)}
    for sub in ("gcp_monitoring", "azure_monitor"):
        ids = {(r.provider, r.resource_id) for p in (generated / sub).glob("*.json")
               for r in read_metrics(p)}
        assert ids and ids <= billed, sub


def test_splitting_keeps_every_row_and_value(generated, tmp_path):
    # Put every row of the generated month back into one CSV, split it again and read it all
    # back: the same multiset of rows, values equal as numbers.
    full = _all_rows(generated)
    assert sum(full.values()) > 500
    one = tmp_path / "utilization_2026-09.csv"
    with one.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["metric_date", "provider", "resource_id", "metric_name", "value", "unit"])
        for row, n in sorted(full.items()):
            for _ in range(n):
                w.writerow([*row[:4], str(row[4]), row[5]])
    written = split_month(one, "2026-09")
    assert len(written) == 5
    assert _all_rows(tmp_path) == full


def test_vertex_and_azure_zero_days_survive_the_real_formats(tmp_path):
    # Real responses write nothing for a day without requests (Cloud Monitoring: no point;
    # Azure Monitor: a listed interval without "total"); read back, those days are 0 again, so
    # the idle-endpoint detector sees the same zeros. A Vertex endpoint idle all month would
    # have no series at all, so the demo leaves it in the CSV.
    vep = "//aiplatform.googleapis.com/projects/190233774102/locations/us-central1/endpoints/"
    aml = ("/subscriptions/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d/resourcegroups/rg/providers/"
           "microsoft.machinelearningservices/workspaces/w/onlineendpoints/shadow")
    days = [f"2026-02-{d:02d}" for d in range(1, 29)]
    rows = ([(d, "gcp", vep + "1", str(100 + i)) for i, d in enumerate(days)]
            + [(d, "gcp", vep + "2", "0" if i > 9 else "5") for i, d in enumerate(days)]
            + [(d, "gcp", vep + "3", "0") for d in days]
            + [(d, "azure", aml, "0" if i < 20 else "7") for i, d in enumerate(days[3:])])
    one = tmp_path / "utilization_2026-02.csv"
    one.write_text("metric_date,provider,resource_id,metric_name,value,unit\n" + "".join(
        f"{d},{p},{r},invocations,{v},Count\n" for d, p, r, v in rows))
    before = _all_rows(tmp_path)
    written = split_month(one, "2026-02")
    assert [p.parent.name for p in written] == ["gcp_monitoring", "azure_monitor"]
    gcp = json.loads(written[0].read_text())
    assert len(gcp["timeSeries"]) == 2  # endpoint 3 (idle all month) stays in the CSV
    assert sum(len(s["points"]) for s in gcp["timeSeries"]) == 28 + 10  # no zero points
    azure = json.loads(written[1].read_text())["value"][0]["timeseries"][0]["data"]
    assert len(azure) == 25 and sum("total" not in d for d in azure) == 20
    assert {r[2] for r in _csv_rows(one)} == {vep + "3"}
    assert _all_rows(tmp_path) == before
