"""The demo generator writes part of its metrics as a CloudWatch GetMetricData response and a
Prometheus (DCGM-exporter) query_range response (lib/generate/metrics_formats.py): read back
through the one metrics reader they are the same rows and values as the CSV they came from,
so the demo's figures do not depend on which format carries a metric."""

from __future__ import annotations

import csv
import datetime as dt
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


def test_the_demo_writes_both_real_formats(generated):
    files = sorted(p.relative_to(generated).as_posix() for p in generated.rglob("*.*"))
    assert files == ["cloudwatch/get-metric-data_2026-09.json",
                     "prometheus/dcgm_query_range_2026-09.json", "utilization_2026-09.csv"]
    cloudwatch = read_metrics(generated / "cloudwatch" / "get-metric-data_2026-09.json")
    prometheus = read_metrics(generated / "prometheus" / "dcgm_query_range_2026-09.json")
    assert len(cloudwatch) > 100 and len(prometheus) > 30
    assert {(r.provider, r.metric_name) for r in cloudwatch} == {
        ("aws", "invocations"), ("aws", "cpu_utilization_pct")}
    assert {(r.provider, r.metric_name) for r in prometheus} == {
        ("gcp", "gpu_utilization_pct"), ("azure", "gpu_utilization_pct")}
    # None of those rows is left in the CSV (moved, not copied: no metric is counted twice).
    left = {(p, m) for _, p, _, m, _, _ in _csv_rows(generated / "utilization_2026-09.csv")}
    assert ("aws", "invocations") not in left and ("gcp", "gpu_utilization_pct") not in left
    assert ("aws", "active_minutes") in left


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
    assert len(written) == 2
    assert _all_rows(tmp_path) == full
