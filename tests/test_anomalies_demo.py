"""Precision and recall of the anomaly detector on a small generated demo (4 months, scale
0.25, ending 2026-09) against the injected truth (ground_truth/anomalies.csv), the decoys
that must not fire, and `mlcost export anomalies`."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from dagster_project.lib.anomalies import read_truth, score, write_anomalies
from dagster_project.lib.generate.company import GCP_BILLING_ACCOUNT_ID
from dagster_project.lib.warehouse import connection

from .conftest import DEMO, build_warehouse, run_dbt

DBT_SELECT = ["+fct_cost_allocations"]


@pytest.fixture(scope="module")
def demo_anomalies(tmp_path_factory):
    """The small demo, ingested and built up to the cost allocations, with anomalies written."""
    from dagster_project.lib.generate import generate

    base = tmp_path_factory.mktemp("anomalies-demo")
    generate(base / "demo", **DEMO)
    warehouse = build_warehouse(base, [base / "demo" / "landing"])
    # Seeds and models without the data tests: those belong to their own files (and take time).
    res = run_dbt(warehouse, base / "target", ["build", "--select", *DBT_SELECT,
                                               "--exclude-resource-type", "test"],
                  reference_set="demo")  # the demo company's teams, as `mlcost demo` uses
    assert res.success, res.output[-4000:]
    with connection(warehouse) as con:
        result = write_anomalies(con)
        cur = con.execute("select * from monitoring.cost_anomalies")
        cols = [c[0] for c in cur.description]
        detections = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    return base, warehouse, result, detections


def test_truth_covers_providers_directions_and_decoys(demo_anomalies):
    base, *_ = demo_anomalies
    truth = read_truth(base / "demo" / "ground_truth" / "anomalies.csv")
    expected = [t for t in truth if t.expected_detected]
    assert len(expected) >= 10
    assert {t.provider for t in expected} == {"aws", "gcp", "azure"}
    assert Counter(t.kind for t in expected).keys() == {"spike", "drop"}
    assert len({(t.team, t.service_name) for t in expected}) >= 8
    window = (dt.date(2026, 6, 1), dt.date(2026, 9, 30))
    assert all(window[0] <= t.start <= t.end <= window[1] for t in truth)
    assert {t.kind for t in truth if not t.expected_detected} == {
        "weekend_dip", "redelivered_month", "launch_step"}


def test_redelivered_month_is_a_real_second_delivery(demo_anomalies):
    # The decoy is only a decoy if the month really arrived twice and the older one was
    # replaced (the marts count it once).
    _, warehouse, _, _ = demo_anomalies
    with connection(warehouse, read_only=True) as con:
        rows = con.execute(
            """select is_current, count(*) from meta.deliveries
               where provider = 'gcp' and billing_account_id = ?
                 and billing_period = date '2026-08-01'
               group by all order by all""", [GCP_BILLING_ACCOUNT_ID]).fetchall()
    assert rows == [(False, 1), (True, 1)]


def test_precision_and_recall_on_the_demo(demo_anomalies):
    base, _, result, detections = demo_anomalies
    truth = read_truth(base / "demo" / "ground_truth" / "anomalies.csv")
    s = score(truth, detections)
    print(f"\nanomalies on the small demo: {s.detections} detections, precision "
          f"{s.precision:.3f}, recall {s.recall:.3f} ({len(s.found)} of "
          f"{len(s.found) + len(s.missed)}); missed {s.missed}; false positives "
          f"{s.false_positives}; decoys fired {s.decoys_fired}")
    assert result.status == "written" and result.anomalies == len(detections)
    assert s.precision >= 0.9, s.false_positives
    assert s.recall >= 0.9, s.missed
    assert s.decoys_fired == []


def test_each_detection_names_its_driver_and_exact_impact(demo_anomalies):
    base, _, _, detections = demo_anomalies
    truth = {t.anomaly_id: t for t in read_truth(base / "demo" / "ground_truth" /
                                                 "anomalies.csv")}
    by_resource = {}
    with (base / "demo" / "ground_truth" / "anomalies.csv").open() as f:
        for row in csv.DictReader(f):
            by_resource[row["anomaly_id"]] = row["resource_id"]
    for d in detections:
        assert d["cost_impact"] == d["actual_cost"] - d["expected_cost"]
        assert (d["cost_impact"] > 0) == (d["direction"] == "spike")
        t = next(t for t in truth.values() if t.expected_detected and
                 d["service_name"] == t.service_name and d["start_date"] <= t.end and
                 d["end_date"] >= t.start and d["provider"] == t.provider)
        # The planted resource is the top driver (GCP and Azure ids arrive lower-cased or as
        # global names; compare case-insensitively).
        assert d["top_resource_id"].lower() == by_resource[t.anomaly_id].lower()


def test_export_anomalies(demo_anomalies, tmp_path):
    from dagster_project.cli import main

    _, warehouse, _, detections = demo_anomalies
    out = tmp_path / "anomalies.csv"
    assert main(["export", "anomalies", "--out", str(out), "--warehouse", str(warehouse)]) == 0
    with Path(out).open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(detections)
    assert {"anomaly_id", "team", "service_name", "sub_account_id", "provider", "start_date",
            "end_date", "direction", "expected_cost", "actual_cost", "cost_impact", "score",
            "top_resource_id", "top_resources"} <= set(rows[0])
