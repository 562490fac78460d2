"""Tests of the deterministic demo data generator (dagster_project.lib.generate)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.lib.generate import GenerateSummary, default_end_month, generate
from dagster_project.lib.generate import company as C
from dagster_project.lib.generate.aws_cur2 import SCHEMA as CUR2_SCHEMA
from dagster_project.lib.generate.azure_ea import HEADER as EA_HEADER

END = dt.date(2026, 9, 1)
ZERO = Decimal(0)


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> tuple[Path, GenerateSummary]:
    d = tmp_path_factory.mktemp("demo")
    return d, generate(d, months=3, seed=7, scale=0.3, end_month=END)


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(_content(p)).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _content(p: Path) -> bytes:
    """A file's bytes; an SQLite file (the MLflow store) by its sorted SQL dump with each
    statement's lines sorted: MLflow's migrations create indexes, and list a table's
    constraints, in an order that varies between processes (SQLAlchemy holds them in sets)."""
    if p.suffix != ".db":
        return p.read_bytes()
    import sqlite3

    con = sqlite3.connect(p)
    try:
        return "\n".join(sorted(
            "\n".join(sorted(line.strip().rstrip(",") for line in stmt.splitlines()))
            for stmt in con.iterdump())).encode()
    finally:
        con.close()


def _aws_tables(root: Path) -> dict[str, pa.Table]:
    base = root / "landing" / "aws" / C.AWS_EXPORT_NAME / "data"
    return {p.parent.name.split("=")[1]: pq.read_table(p)
            for p in sorted(base.glob("BILLING_PERIOD=*/*.parquet"))}


def _gcp_rows(root: Path) -> dict[str, list[dict]]:
    out = {}
    for p in sorted((root / "landing" / "gcp" / "billing_export").glob("*.jsonl")):
        with p.open(encoding="utf-8") as f:
            out[p.stem[-6:]] = [json.loads(line, parse_float=Decimal) for line in f]
    return out


def _azure_rows(root: Path, export: str) -> dict[str, list[dict]]:
    out = {}
    for p in sorted((root / "landing" / "azure" / export).glob("*/part_0_0001.csv")):
        assert p.read_bytes()[:3] == b"\xef\xbb\xbf"
        with p.open(encoding="utf-8-sig", newline="") as f:
            r = csv.reader(f)
            header = next(r)
            assert header == EA_HEADER
            out[p.parent.name] = [dict(zip(header, row, strict=True)) for row in r]
    return out


def _csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _dec(x) -> Decimal:
    return ZERO if x is None else Decimal(repr(x))


# ------------------------------------------------------------------ API / window
def test_summary_and_layout(out):
    root, s = out
    assert isinstance(s, GenerateSummary)
    assert s.out_dir == root and s.months == 3
    assert (s.start_month, s.end_month) == (dt.date(2026, 7, 1), END)
    assert set(s.rows_by_provider) == {"aws", "gcp", "azure"}
    assert all(v > 0 for v in s.rows_by_provider.values())
    assert all(p.exists() for p in s.files)
    assert sorted(_aws_tables(root)) == ["2026-07", "2026-08", "2026-09"]
    assert (root / "landing" / "budgets" / "budgets.csv").exists()
    # Part of the metrics are in CloudWatch / Prometheus / Cloud Monitoring / Azure Monitor
    # JSON (docs/metrics.md).
    assert sorted(p.relative_to(root / "landing" / "metrics").as_posix()
                  for p in (root / "landing" / "metrics").rglob("*.*")) == [
        *(f"azure_monitor/fraud-scorer-{e}_requests_2026-0{m}.json"
          for e in ("online", "shadow") for m in (7, 8, 9)),
        *(f"cloudwatch/get-metric-data_2026-0{m}.json" for m in (7, 8, 9)),
        *(f"gcp_monitoring/prediction_count_2026-0{m}.json" for m in (7, 8, 9)),
        *(f"prometheus/dcgm_query_range_2026-0{m}.json" for m in (7, 8, 9)),
        "utilization_2026-07.csv", "utilization_2026-08.csv", "utilization_2026-09.csv"]
    azure = root / "landing" / "azure"
    assert sorted(p.name for p in (azure / C.AZURE_EXPORT_ACTUAL).iterdir()) == [
        "20260701-20260731", "20260801-20260831", "20260901-20260930"]
    assert (azure / C.AZURE_EXPORT_AMORTIZED / "20260901-20260930" / "part_0_0001.csv").exists()
    gcp = root / "landing" / "gcp" / "billing_export"
    assert (gcp / "gcp_billing_export_resource_v1_01A2B3_C4D5E6_F7A8B9_202609.jsonl").exists()


def test_default_end_month():
    assert default_end_month(dt.date(2026, 11, 30)) == dt.date(2026, 9, 1)
    assert default_end_month(dt.date(2026, 10, 1)) == dt.date(2026, 9, 1)
    assert default_end_month(dt.date(2026, 2, 14)) == dt.date(2025, 12, 1)
    assert default_end_month(dt.date(2026, 9, 30)) == dt.date(2026, 6, 1)


def test_deterministic_and_seed_sensitive(tmp_path):
    a = generate(tmp_path / "a", months=1, seed=3, scale=0.2, end_month=END)
    b = generate(tmp_path / "b", months=1, seed=3, scale=0.2, end_month=END)
    c = generate(tmp_path / "c", months=1, seed=4, scale=0.2, end_month=END)
    da, db, dc = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert da == db
    assert da != dc
    assert a.rows_by_provider == b.rows_by_provider
    assert c.total_rows > 0


def test_months_one_and_scale(tmp_path):
    s1 = generate(tmp_path / "s1", months=1, scale=0.5, end_month=dt.date(2026, 2, 1))
    assert s1.start_month == s1.end_month == dt.date(2026, 2, 1)
    assert sorted(_aws_tables(tmp_path / "s1")) == ["2026-02"]
    s2 = generate(tmp_path / "s2", months=1, scale=1.5, end_month=dt.date(2026, 2, 1))
    assert s2.total_rows > s1.total_rows * 1.4
    with pytest.raises(ValueError):
        generate(tmp_path / "bad", months=1, scale=0)
    with pytest.raises(ValueError):
        generate(tmp_path / "bad", months=0, end_month=END)


# ------------------------------------------------------------------ schemas
def test_cur2_schema(out):
    root, _ = out
    tables = _aws_tables(root)
    for t in tables.values():
        assert t.schema.equals(CUR2_SCHEMA)
    schema = CUR2_SCHEMA
    assert len(schema) == 125
    for name in ("product", "resource_tags", "cost_category"):
        assert schema.field(name).type == pa.map_(pa.string(), pa.string())
    assert schema.field("discount").type == pa.map_(pa.string(), pa.float64())
    for name in ("line_item_unblended_cost", "line_item_usage_amount", "reservation_effective_cost",
                 "savings_plan_savings_plan_effective_cost", "pricing_public_on_demand_cost",
                 "savings_plan_used_commitment"):
        assert schema.field(name).type == pa.float64(), name
    for name in ("line_item_usage_start_date", "line_item_usage_end_date",
                 "bill_billing_period_start_date", "bill_billing_period_end_date"):
        assert pa.types.is_timestamp(schema.field(name).type), name
    for name in ("line_item_unblended_rate", "pricing_public_on_demand_rate",
                 "bill_payer_account_id", "line_item_usage_account_id"):
        assert schema.field(name).type == pa.string(), name
    t = pa.concat_tables(tables.values())
    types = set(t.column("line_item_line_item_type").to_pylist())
    assert {"Usage", "DiscountedUsage", "RIFee", "Fee", "SavingsPlanCoveredUsage",
            "SavingsPlanNegation", "SavingsPlanRecurringFee", "Credit", "Refund", "Tax",
            "EdpDiscount"} <= types
    assert "AWS Marketplace" in set(t.column("bill_billing_entity").to_pylist())
    usage_types = set(t.column("line_item_usage_type").to_pylist())
    for ut in ("USE1-Notebk:ml.t3.medium", "USE1-Studio:JupyterLab-ml.g5.xlarge",
               "USE1-Train:ml.p3.2xlarge", "USE1-Host:ml.g5.2xlarge", "USE1-Tsform:ml.m5.xlarge",
               "USE1-Processing:ml.m5.4xlarge", "TimedStorage-ByteHrs", "EBS:VolumeUsage.gp3",
               "USE1-DataTransfer-Out-Bytes", "USE1-ETL-DPU-Hour"):
        assert ut in usage_types, ut
    assert any(u.startswith("SpotUsage:g5") for u in usage_types if u)
    assert "Spot" in set(t.column("pricing_purchase_option").to_pylist())
    accounts = set(t.column("line_item_usage_account_id").to_pylist())
    assert accounts == {"222222222222", "333333333333", "444444444444", "555555555555"}
    assert set(t.column("bill_payer_account_id").to_pylist()) == {C.AWS_PAYER_ACCOUNT_ID}
    keys = {k for m in t.column("resource_tags").to_pylist() for k, _ in m}
    assert keys and all(k.startswith("user_") for k in keys)
    assert {"user_team", "user_owner_team"} <= keys


def test_cur2_internal_consistency(out):
    root, _ = out
    t = pa.concat_tables(_aws_tables(root).values()).to_pylist()
    tol = Decimal("0.000001")
    for r in t:
        lt = r["line_item_line_item_type"]
        cost = _dec(r["line_item_unblended_cost"])
        if lt == "Usage" and r["line_item_unblended_rate"] and r["line_item_usage_amount"]:
            expect = Decimal(repr(r["line_item_usage_amount"])) * Decimal(
                r["line_item_unblended_rate"])
            assert abs(expect - cost) < tol, r["identity_line_item_id"]
        if lt in ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage") and \
                r["pricing_public_on_demand_cost"] is not None:
            assert _dec(r["pricing_public_on_demand_cost"]) >= cost - tol
        if lt == "SavingsPlanCoveredUsage":
            eff = Decimal(repr(r["line_item_usage_amount"])) * _dec(
                r["savings_plan_savings_plan_rate"])
            assert abs(eff - _dec(r["savings_plan_savings_plan_effective_cost"])) < tol
            assert _dec(r["savings_plan_savings_plan_effective_cost"]) <= cost
        if lt == "DiscountedUsage":
            assert cost == 0
            assert _dec(r["reservation_effective_cost"]) == _dec(
                r["reservation_amortized_upfront_cost_for_usage"]) + _dec(
                r["reservation_recurring_fee_for_usage"])
        if lt == "SavingsPlanRecurringFee":
            assert _dec(r["savings_plan_used_commitment"]) <= _dec(
                r["savings_plan_total_commitment_to_date"])
    cov = defaultdict(Decimal)
    for r in t:
        key = (r["line_item_resource_id"], r["line_item_usage_start_date"],
               r["line_item_usage_type"])
        if r["line_item_line_item_type"] == "SavingsPlanCoveredUsage":
            cov[key] += _dec(r["line_item_unblended_cost"])
        elif r["line_item_line_item_type"] == "SavingsPlanNegation":
            cov[key] += _dec(r["line_item_unblended_cost"])
    assert cov and all(v == 0 for v in cov.values())
    # some Savings Plan commitment is left unused in the window
    fees = [r for r in t if r["line_item_line_item_type"] == "SavingsPlanRecurringFee"]
    assert any(r["savings_plan_used_commitment"] < r["savings_plan_total_commitment_to_date"]
               for r in fees)
    refunds = [r for r in t if r["line_item_line_item_type"] == "Refund"]
    assert len(refunds) == 1 and refunds[0]["line_item_unblended_cost"] < 0
    assert refunds[0]["line_item_usage_start_date"] < refunds[0]["bill_billing_period_start_date"]


def test_gcp_export_shape(out):
    root, _ = out
    rows = [r for v in _gcp_rows(root).values() for r in v]
    top = ["billing_account_id", "service", "sku", "usage_start_time", "usage_end_time",
           "project", "labels", "system_labels", "location", "resource", "tags", "price",
           "subscription", "transaction_type", "seller_name", "export_time", "cost",
           "currency", "currency_conversion_rate", "usage", "credits", "invoice", "cost_type",
           "adjustment_info", "cost_at_list", "consumption_model",
           "cost_at_effective_price_default", "cost_at_list_consumption_model"]
    for r in rows:
        assert list(r) == top
        assert r["billing_account_id"] == C.GCP_BILLING_ACCOUNT_ID
        assert set(r["usage"]) == {"amount", "unit", "amount_in_pricing_units", "pricing_unit"}
        assert set(r["project"]) == {"id", "number", "name", "labels", "ancestry_numbers",
                                     "ancestors"}
        assert r["usage_start_time"].endswith(" UTC")
        for c in r["credits"]:
            assert set(c) == {"name", "amount", "full_name", "id", "type"}
    assert {r["project"]["id"] for r in rows} == {p.project_id for p in C.GCP_PROJECTS}
    services = {r["service"]["description"] for r in rows}
    assert {"Vertex AI", "Compute Engine", "Cloud Storage", "BigQuery", "Dataflow"} <= services
    ctypes = {c["type"] for r in rows for c in r["credits"]}
    assert {"COMMITTED_USAGE_DISCOUNT", "SUSTAINED_USAGE_DISCOUNT", "PROMOTION", "FREE_TIER",
            "DISCOUNT"} <= ctypes
    assert {"regular", "tax", "adjustment"} <= {r["cost_type"] for r in rows}
    assert any(r["sku"]["description"].startswith("Commitment v1:") for r in rows)
    vertex = next(r for r in rows if r["service"]["description"] == "Vertex AI")
    assert vertex["service"]["id"] == "C7E2-9256-1C43"
    keys = {lab["key"] for r in rows for lab in r["labels"]}
    assert {"team", "owner-team"} <= keys


def test_azure_export_shape(out):
    root, _ = out
    actual = [r for v in _azure_rows(root, C.AZURE_EXPORT_ACTUAL).values() for r in v]
    amort = [r for v in _azure_rows(root, C.AZURE_EXPORT_AMORTIZED).values() for r in v]
    subs = {s.subscription_id for s in C.AZURE_SUBSCRIPTIONS}
    for r in actual + amort:
        dt.datetime.strptime(r["Date"], "%m/%d/%Y")
        assert r["SubscriptionId"] in subs
        assert r["BillingAccountId"] == C.AZURE_BILLING_ACCOUNT_ID
        assert not r["Tags"].startswith("{")
        if r["Tags"]:
            json.loads("{" + r["Tags"] + "}")
    purchases = [r for r in actual if r["ChargeType"] == "Purchase"]
    assert purchases and all(r["PricingModel"] == "Reservation" for r in purchases)
    assert not any(r["ChargeType"] == "Purchase" for r in amort)
    assert any(r["ChargeType"] == "UnusedReservation" for r in amort)
    covered = [r for r in amort
               if r["ChargeType"] == "Usage" and r["PricingModel"] == "Reservation"]
    assert covered and all(r["benefitId"] for r in covered)
    assert any(r["PricingModel"] == "Spot" for r in actual)
    assert any(r["ConsumedService"] == "Microsoft.MachineLearningServices" for r in actual)
    assert any(r["MeterCategory"] == "Azure Databricks" for r in actual)
    keys = {k for r in actual if r["Tags"] for k in json.loads("{" + r["Tags"] + "}")}
    assert {"Team", "team", "owner-team"} <= keys
    assert "fraud" in {v for r in actual if r["Tags"]
                       for v in json.loads("{" + r["Tags"] + "}").values()}


# ------------------------------------------------------------------ ground truth
def _aws_effective(r: dict) -> Decimal:
    lt = r["line_item_line_item_type"]
    if lt == "DiscountedUsage":
        return _dec(r["reservation_effective_cost"])
    if lt == "SavingsPlanCoveredUsage":
        return _dec(r["savings_plan_savings_plan_effective_cost"])
    if lt in ("SavingsPlanNegation", "SavingsPlanUpfrontFee"):
        return ZERO
    if lt == "SavingsPlanRecurringFee":
        return _dec(r["savings_plan_total_commitment_to_date"]) - _dec(
            r["savings_plan_used_commitment"])
    if lt == "RIFee":
        return _dec(r["reservation_unused_amortized_upfront_fee_for_billing_period"]) + _dec(
            r["reservation_unused_recurring_fee"])
    if lt == "Fee" and r["reservation_reservation_a_r_n"]:
        return ZERO
    return _dec(r["line_item_unblended_cost"])


def test_totals_match_files_exactly(out):
    root, _ = out
    expected = {}
    for period, t in _aws_tables(root).items():
        rows = t.to_pylist()
        expected[("aws", C.AWS_PAYER_ACCOUNT_ID, f"{period}-01")] = (
            sum((_dec(r["line_item_unblended_cost"]) for r in rows), ZERO),
            sum((_aws_effective(r) for r in rows), ZERO))
    for month, rows in _gcp_rows(root).items():
        total = sum((r["cost"] + sum((c["amount"] for c in r["credits"]), ZERO)
                     for r in rows), ZERO)
        expected[("gcp", C.GCP_BILLING_ACCOUNT_ID, f"{month[:4]}-{month[4:]}-01")] = (total, total)
    actual = _azure_rows(root, C.AZURE_EXPORT_ACTUAL)
    amort = _azure_rows(root, C.AZURE_EXPORT_AMORTIZED)
    for folder, rows in actual.items():
        key = ("azure", C.AZURE_BILLING_ACCOUNT_ID,
               dt.datetime.strptime(folder[:8], "%Y%m%d").date().isoformat())
        expected[key] = (sum((Decimal(r["Cost"]) for r in rows), ZERO),
                         sum((Decimal(r["Cost"]) for r in amort[folder]), ZERO))
    got = {(r["provider"], r["billing_account_id"], r["billing_period"]):
           (Decimal(r["billed_total"]), Decimal(r["effective_total"]))
           for r in _csv(root / "ground_truth" / "totals.csv")}
    assert got == expected
    assert all(r["currency"] == "USD" for r in _csv(root / "ground_truth" / "totals.csv"))
    # amortisation moves money between months but the RI upfront fee is only billed
    aws_b = sum(v[0] for k, v in got.items() if k[0] == "aws")
    aws_e = sum(v[1] for k, v in got.items() if k[0] == "aws")
    assert aws_b > aws_e


def _export_resource_ids(root: Path) -> set[tuple[str, str]]:
    ids = set()
    for t in _aws_tables(root).values():
        ids |= {("aws", x) for x in t.column("line_item_resource_id").to_pylist() if x}
    for rows in _gcp_rows(root).values():
        ids |= {("gcp", r["resource"]["global_name"]) for r in rows
                if r["resource"]["global_name"]}
    for export in (C.AZURE_EXPORT_ACTUAL, C.AZURE_EXPORT_AMORTIZED):
        for rows in _azure_rows(root, export).values():
            ids |= {("azure", r["ResourceId"]) for r in rows if r["ResourceId"]}
    return ids


def _metrics(root: Path) -> list[dict]:
    from dagster_project.lib.metrics import read_metrics

    rows = []
    for p in sorted((root / "landing" / "metrics").glob("utilization_*.csv")):
        rows.extend(_csv(p))
    # The metrics the demo writes as CloudWatch / Prometheus responses, through the reader.
    for p in sorted((root / "landing" / "metrics").glob("*/*.json")):
        rows.extend(vars(r) for r in read_metrics(p))
    return rows


def test_every_resource_has_ground_truth(out):
    root, _ = out
    truth = _csv(root / "ground_truth" / "resources.csv")
    known = {(r["provider"], r["resource_id"]) for r in truth}
    assert len(known) == len(truth)
    assert _export_resource_ids(root) <= known
    assert {(r["provider"], r["resource_id"]) for r in _metrics(root)} <= known
    assert {r["team"] for r in truth} == set(C.TEAM_NAMES)
    assert set(C.MODEL_NAMES) <= {r["ml_model"] for r in truth}
    assert any(r["tags_as_written"] == "" for r in truth)
    assert any("mis-tagged" in r["note"] for r in truth)


def test_metrics_file_contract(out):
    root, _ = out
    rows = _metrics(root)
    assert rows and list(rows[0]) == ["metric_date", "provider", "resource_id", "metric_name",
                                      "value", "unit"]
    units = {"gpu_utilization_pct": "Percent", "cpu_utilization_pct": "Percent",
             "invocations": "Count", "active_minutes": "Minutes", "read_requests": "Count",
             "batch_records": "Count"}
    for r in rows:
        assert units[r["metric_name"]] == r["unit"]
        assert r["provider"] in ("aws", "gcp", "azure")
        Decimal(r["value"])
        dt.date.fromisoformat(r["metric_date"])


def test_batch_records_follow_billed_hours(out):
    # batch_records (docs/metrics.md) is what cost per 1,000 batch predictions divides by: each
    # batch resource-day's records / billed instance-hours stays near the catalogue's rate.
    root, _ = out
    records = {(r["resource_id"], r["metric_date"]): Decimal(r["value"])
               for r in _metrics(root) if r["metric_name"] == "batch_records"}
    hours: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for t in _aws_tables(root).values():
        for r in t.select(["line_item_resource_id", "line_item_usage_type",
                           "line_item_usage_amount", "line_item_usage_start_date"]).to_pylist():
            if r["line_item_usage_type"] in ("USE1-Tsform:ml.m5.xlarge", "SpotUsage:c5.4xlarge"):
                day = r["line_item_usage_start_date"].date().isoformat()
                hours[(r["line_item_resource_id"], day)] += _dec(r["line_item_usage_amount"])
    assert hours and set(hours) <= set(records)
    rate = {"arn": Decimal(2_500_000), "i-0": Decimal(30_000_000)}
    ratios = [records[k] / h / rate[k[0][:3]] for k, h in hours.items() if h > 0]
    inside = sum(Decimal("0.8") <= x <= Decimal("1.25") for x in ratios)
    assert inside >= 0.97 * len(ratios), (inside, len(ratios))
    # Vertex AI batch prediction jobs report them too; nothing but batch inference does.
    ids = {r["resource_id"] for r in _csv(root / "ground_truth" / "resources.csv")
           if r["workload"] == "batch_inference"}
    assert {rid for rid, _ in records} <= ids
    assert any("/batchPredictionJobs/" in rid for rid, _ in records)


def test_planted_idle_periods_show_in_metrics(out):
    root, _ = out
    idle = _csv(root / "ground_truth" / "idle_periods.csv")
    wastes = {r["waste_type"] for r in idle}
    assert {"idle_endpoint", "idle_notebook", "low_gpu_utilization", "unused_commitment",
            "orphaned_storage"} <= wastes
    assert sum(r["waste_type"] == "idle_endpoint" and r["provider"] == "aws" for r in idle) >= 2
    assert sum(r["waste_type"] == "idle_notebook" for r in idle) >= 2
    m = defaultdict(dict)
    for r in _metrics(root):
        m[(r["provider"], r["resource_id"], r["metric_name"])][r["metric_date"]] = Decimal(
            r["value"])
    exported = _export_resource_ids(root)
    for r in idle:
        key = (r["provider"], r["resource_id"])
        s, e = dt.date.fromisoformat(r["idle_start"]), dt.date.fromisoformat(r["idle_end"])
        assert s <= e
        days = [(s + dt.timedelta(days=i)).isoformat() for i in range((e - s).days + 1)]
        waste = r["waste_type"]
        if waste == "unused_commitment":
            assert key in exported or r["provider"] == "aws"
            continue
        metric, ok = {
            "idle_endpoint": ("invocations", lambda v: v == 0),
            "idle_notebook": ("active_minutes", lambda v: v <= 5),
            "low_gpu_utilization": ("gpu_utilization_pct", lambda v: v < 15),
            "orphaned_storage": ("read_requests", lambda v: v == 0),
        }[waste]
        series = m[(*key, metric)]
        assert all(d in series and ok(series[d]) for d in days), (r, metric)
        if waste in ("idle_endpoint", "idle_notebook"):
            assert len(days) >= 14
    # outside planted periods, production endpoints do serve traffic
    prod = m[("aws", "arn:aws:sagemaker:us-east-1:222222222222:endpoint/query-ranker-prod",
              "invocations")]
    assert prod and min(prod.values()) > 0


def test_budgets_cover_every_team_and_quarter(out):
    root, _ = out
    rows = _csv(root / "landing" / "budgets" / "budgets.csv")
    assert list(rows[0]) == ["fiscal_quarter", "team", "budget_amount", "currency"]
    quarters = {r["fiscal_quarter"] for r in rows}
    assert quarters == {"2026Q3", "2026Q4", "2027Q1"}
    assert {(q, t) for q in quarters for t in C.TEAM_NAMES} == {
        (r["fiscal_quarter"], r["team"]) for r in rows}
    assert all(Decimal(r["budget_amount"]) > 0 and r["currency"] == "USD" for r in rows)


# ------------------------------------------------------------------ reference data files
def test_reference_data_is_shipped_with_the_package():
    """Every file in lib/generate/data/ matches the package-data globs of pyproject.toml, so
    an installed (non-editable) mlcost finds its prices too."""
    import fnmatch
    import tomllib

    from dagster_project.lib.generate.reference import DATA_DIR

    root = Path(__file__).resolve().parents[1]
    globs = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]["dagster_project.lib.generate"]
    files = sorted(p.relative_to(DATA_DIR.parent).as_posix() for p in DATA_DIR.rglob("*")
                   if p.is_file())
    assert files
    missing = [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"


def test_every_reference_data_entry_is_used():
    """No dead rows in the data files: each price, SKU, meter and instance type they hold
    is billed by some resource of the catalog."""
    from dagster_project.lib.generate.catalog import build_catalog
    from dagster_project.lib.generate.reference import load_csv, load_json
    from dagster_project.lib.generate.window import make_window

    groups = build_catalog(make_window(3, END), 7, 0.3).groups
    lines = {g.provider: [] for g in groups}
    for g in groups:
        lines[g.provider].extend(g.lines)
    aws, gcp, az = load_json("aws_prices.json"), load_json("gcp_prices.json"), \
        load_json("azure_prices.json")

    aws_usage = {ln["usage_type"] for ln in lines["aws"]}
    assert {s["usage_type"] for s in aws["sagemaker"].values()} <= aws_usage
    assert {s["usage_type"] for s in aws["lines"].values()} <= aws_usage
    assert {ln["product"] for ln in aws["lines"].values()} == set(aws["products"])
    assert {r["instance_type"] for r in load_csv("aws_ec2_instances.csv")} == {
        ln["instance_type"] for ln in lines["aws"] if ln.get("compute")}
    assert {row["key"] for row in aws["s3_buckets"] + aws["orphaned_ebs"]} <= {
        g.key for g in groups}

    assert {ln["sku_desc"] for ln in lines["gcp"]} == {s["desc"] for s in gcp["skus"]}
    assert {ln["service"][1] for ln in lines["gcp"]} == set(gcp["services"])

    meters = {ln["meter_name"] for ln in lines["azure"]}
    assert {m["meter_name"] for m in az["meters"].values()} <= meters
    assert {v["meter"] for v in az["vm_sizes"].values()} <= meters
    assert {f"{tier} LRS Disk" for tier in az["premium_disks"]} <= meters
