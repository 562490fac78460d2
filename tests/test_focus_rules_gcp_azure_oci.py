"""FOCUS mapping rules for GCP, Azure and OCI on small hand-made exports, with hand-computed
expectations (the AWS counterpart is test_focus_rules.py).

Each scenario is its own billing account in one warehouse, so one dbt build serves all:
- GCP: BigQuery detailed export as newline-delimited JSON, one folder per billing account;
- Azure EA: an actual and an amortized export of the same enrollment and month, in two folders,
  with the 55-column EA header of the real Trey Research sample (UTF-8 BOM, MM/DD/YYYY);
- Azure MCA: an actual export with the camelCase header of the real `camel_v2.csv`;
- OCI: a native cost report with the header of the real `reports/cost-csv` sample."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.lib.warehouse import connection

from .conftest import REAL, build_warehouse, run_dbt

D = Decimal
JAN = datetime(2026, 1, 1)
FEB = datetime(2026, 2, 1)

# ---------------------------------------------------------------------------------------------
# GCP: BigQuery detailed billing export, newline-delimited JSON

GCP_CUD = "00000A-000000-000001"
GCP_PROMO = "00000A-000000-000002"
GCP_SUD = "00000A-000000-000003"
GCP_TAX = "00000A-000000-000004"
GCP_ADJ = "00000A-000000-000005"
GCP_LABELS = "00000A-000000-000006"
GCP_SPARSE = "00000A-000000-000007"

N1_CORE = "N1 Predefined Instance Core running in Americas"
CUD_ID = "projects/ml-prod/regions/us-central1/commitments/cud-n1-1"


def credit(kind: str, amount: float, cid: str, name: str) -> dict:
    return {"name": name, "amount": amount, "full_name": name, "id": cid, "type": kind}


def kv(**pairs: str) -> list[dict]:
    return [{"key": k.replace("_", "-"), "value": v} for k, v in pairs.items()]


def gcp_row(account: str, cost: float, *, credits=(), cost_type: str = "regular",
            sku: str = N1_CORE, cost_at_list: float | None = None,
            start: str = "2026-01-05T00:00:00Z", end: str = "2026-01-05T01:00:00Z",
            usage: dict | None = None, labels=(), project_labels=(), system_labels=()) -> dict:
    return {
        "billing_account_id": account,
        "service": {"id": "6F81-5844-456A", "description": "Compute Engine"},
        "sku": {"id": "2E27-4F75-95CD", "description": sku},
        "usage_start_time": start,
        "usage_end_time": end,
        "project": {"id": "ml-prod", "name": "ML Prod", "labels": list(project_labels)},
        "labels": list(labels),
        "system_labels": list(system_labels),
        "location": {"region": "us-central1", "zone": "us-central1-a"},
        "resource": {"name": "trainer-1",
                     "global_name": "//compute.googleapis.com/projects/ml-prod/zones/"
                                    "us-central1-a/instances/4242"},
        "cost": cost,
        "cost_at_list": cost if cost_at_list is None else cost_at_list,
        "currency": "USD",
        "usage": usage if usage is not None else
        {"amount": 36000, "unit": "seconds", "amount_in_pricing_units": 10,
         "pricing_unit": "hour"},
        "credits": list(credits),
        "invoice": {"month": "202601"},
        "cost_type": cost_type,
    }


NO_USAGE = {"amount": 0, "unit": None, "amount_in_pricing_units": 0, "pricing_unit": None}

GCP = {
    GCP_CUD: [  # 10 h of N1 cores at 1.00/h (list 1.20/h), covered by a resource CUD
        gcp_row(GCP_CUD, 10.00, cost_at_list=12.00, credits=[
            credit("COMMITTED_USAGE_DISCOUNT", -7.00, CUD_ID, "Committed use discount: N1 Core")]),
    ],
    GCP_PROMO: [
        # promotion alone: the row keeps its full cost, the credit becomes split 1
        gcp_row(GCP_PROMO, 5.00, credits=[
            credit("PROMOTION", -2.00, "promo-free-trial", "Free trial")]),
        # SUD (in-row) listed first, promotion second: the Credit row is split 2
        gcp_row(GCP_PROMO, 4.00, credits=[
            credit("SUSTAINED_USAGE_DISCOUNT", -0.50, "sud-1", "Sustained usage discount"),
            credit("PROMOTION", -1.00, "promo-free-trial", "Free trial")]),
    ],
    GCP_SUD: [
        gcp_row(GCP_SUD, 4.00, credits=[
            credit("SUSTAINED_USAGE_DISCOUNT", -1.20, "sud-2", "Sustained usage discount")]),
    ],
    GCP_TAX: [
        gcp_row(GCP_TAX, 10.00),
        gcp_row(GCP_TAX, 0.80, cost_type="tax", sku="Tax", usage=NO_USAGE,
                start="2026-01-01T00:00:00Z", end="2026-02-01T00:00:00Z"),
    ],
    GCP_ADJ: [
        gcp_row(GCP_ADJ, 3.00),
        # adjustment of December usage on the January invoice: a correction
        gcp_row(GCP_ADJ, -1.50, cost_type="adjustment", usage=NO_USAGE,
                start="2025-12-10T00:00:00Z", end="2025-12-11T00:00:00Z"),
        # adjustment of January usage: not a correction of an invoiced period
        gcp_row(GCP_ADJ, -0.25, cost_type="adjustment", usage=NO_USAGE,
                start="2026-01-12T00:00:00Z", end="2026-01-13T00:00:00Z"),
    ],
    GCP_LABELS: [
        gcp_row(GCP_LABELS, 1.00, labels=kv(team="ml", app="trainer"),
                project_labels=kv(env="prod", team="platform"),
                system_labels=kv(goog_k8s_cluster_name="gke-1")),
        gcp_row(GCP_LABELS, 2.00),  # no labels at all -> Tags NULL
    ],
}


def sparse(row: dict, *drop: str) -> dict:
    """BigQuery's JSON export leaves NULL fields out of a line (googleapis/nodejs-bigquery#1134),
    so the keys of one line are not the keys of the next."""
    return {k: v for k, v in row.items() if k not in drop}


GCP_SPARSE_ROWS = [
    # 1: no credits, no labels, no resource: those keys are absent from the first line
    sparse(gcp_row(GCP_SPARSE, 10.00, start="2026-01-05 00:00:00 UTC",
                   end="2026-01-05 01:00:00 UTC"),
           "credits", "labels", "system_labels", "resource"),
    # 2: the same export, a row that has them
    gcp_row(GCP_SPARSE, 4.00, credits=[credit("PROMOTION", -1.00, "promo-2", "Promo")],
            labels=kv(team="ml"), start="2026-01-06 00:00:00 UTC", end="2026-01-06 01:00:00 UTC"),
]


def gcp_basis(account: str) -> Decimal:
    """GCP's invoice basis: Σ cost + Σ credits[].amount."""
    return sum((D(str(r["cost"])) + sum((D(str(c["amount"])) for c in r["credits"]), D(0))
                for r in GCP[account]), D(0))


# ---------------------------------------------------------------------------------------------
# Azure EA: actual + amortized pair, one enrollment, January 2026

AZ_EA = "90000001"
AZ_MCA_PROFILE = "MLCO-STTE-ST0-PGB"
RI = "/providers/Microsoft.Capacity/reservationOrders/ro-1/reservations/r-1"
VM = ("/subscriptions/sub-1/resourceGroups/ml/providers/Microsoft.Compute/virtualMachines/"
      "trainer-1")


def real_header(rel: str) -> list[str]:
    with open(REAL / rel, encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh))


EA_HEADER = real_header("azure/ea_cost_details_actual_trey_research/EA_ActualCost_Small.csv")
MCA_HEADER = real_header("azure/mca_cost_details_actual_camelcase/camel_v2.csv")
OCI_HEADER = real_header("oci/cost_report_csv_native/reports_cost-csv_0000000030000269.csv")


def ea_row(charge_type: str, pricing_model: str, cost: str, *, date: str = "01/15/2026",
           quantity: str = "24", unit_price: str = "", frequency: str = "UsageBased",
           benefit: bool = False, resource: str = VM, product: str = "D2s v3 - US East",
           tags: str = "") -> dict:
    return {
        "BillingAccountId": AZ_EA, "BillingAccountName": "Contoso EA",
        "BillingPeriodStartDate": "01/01/2026", "BillingPeriodEndDate": "01/31/2026",
        "BillingProfileId": AZ_EA, "BillingProfileName": "Contoso EA",
        "SubscriptionId": "sub-1", "SubscriptionName": "ML", "Date": date, "Product": product,
        "MeterId": "meter-d2s", "ServiceFamily": "Compute", "MeterCategory": "Virtual Machines",
        "MeterSubCategory": "Dsv3 Series", "MeterName": "D2s v3", "Quantity": quantity,
        "EffectivePrice": unit_price, "Cost": cost, "UnitPrice": unit_price,
        "BillingCurrency": "USD", "ResourceLocation": "EastUS",
        "ConsumedService": "Microsoft.Capacity" if resource == RI else "Microsoft.Compute",
        "ResourceId": resource, "Tags": tags, "UnitOfMeasure": "1 Hour",
        "ReservationId": "r-1" if benefit else "", "ReservationName": "ri-d2s" if benefit else "",
        "ChargeType": charge_type, "Frequency": frequency, "PublisherType": "Azure",
        "PayGPrice": unit_price, "PricingModel": pricing_model,
        "benefitId": RI if benefit else "", "benefitName": "ri-d2s" if benefit else "",
    }


EA_ACTUAL = [
    # 1: the reservation purchase, billed in full this month
    ea_row("Purchase", "Reservation", "300.00", date="01/01/2026", quantity="1",
           unit_price="300", frequency="OneTime", benefit=True, resource=RI,
           product="Reserved VM Instance, Standard_D2s_v3, US East"),
    # 2: usage covered by the reservation: 0 in actual data
    ea_row("Usage", "Reservation", "0", benefit=True),
    # 3: on-demand usage, the same row in both datasets
    ea_row("Usage", "OnDemand", "5.00", quantity="10", unit_price="0.5",
           tags='"team": "ml","env": "prod"'),
    # 4: spot usage, the same row in both datasets
    ea_row("Usage", "Spot", "2.00", quantity="10", unit_price="0.2"),
    # 5: partial refund of the reservation
    ea_row("Refund", "Reservation", "-50.00", date="01/20/2026", quantity="1",
           frequency="OneTime", benefit=True, resource=RI,
           product="Reserved VM Instance, Standard_D2s_v3, US East"),
]
# This month's amortized share of the reservation is 10.00 = covered 9.00 + unused 1.00.
EA_AMORTIZED = [
    ea_row("Usage", "Reservation", "9.00", benefit=True),  # 1: covered usage, amortized share
    ea_row("UnusedReservation", "Reservation", "1.00", quantity="2.67", benefit=True,
           resource=RI),  # 2: the unused part of the share
    EA_ACTUAL[2],  # 3: on-demand
    EA_ACTUAL[3],  # 4: spot
]
EA_ACTUAL_TOTAL = D("300.00") + D("0") + D("5.00") + D("2.00") + D("-50.00")  # 257.00
EA_AMORTIZED_TOTAL = D("9.00") + D("1.00") + D("5.00") + D("2.00")  # 17.00

MCA_ROW = {
    "billingAccountId": "0f0e0d0c-0b0a-0908-0706-050403020100",
    "billingAccountName": "ML Corp", "billingProfileId": AZ_MCA_PROFILE,
    "billingProfileName": "ML Research", "invoiceSectionId": "IS-1",
    "invoiceSectionName": "Research", "billingPeriodStartDate": "01/01/2026",
    "billingPeriodEndDate": "01/31/2026", "date": "01/10/2026", "serviceFamily": "Storage",
    "consumedService": "Microsoft.Storage", "meterId": "meter-hot-lrs",
    "meterName": "Hot LRS Data Stored", "meterCategory": "Storage",
    "meterSubCategory": "Blob Storage", "ProductId": "DZH318Z0BNZJ0058",
    "product": "Blob Storage - Hot LRS - US East", "subscriptionId": "sub-mca",
    "subscriptionName": "Research", "publisherType": "Microsoft", "publisherName": "Microsoft",
    "resourceGroupName": "rg1",
    "InstanceName": "/subscriptions/sub-mca/resourceGroups/rg1/providers/Microsoft.Storage/"
                    "storageAccounts/mldata",
    "resourceLocation": "eastus", "Location": "US East", "effectivePrice": "0.02",
    "quantity": "75", "unitOfMeasure": "1 GB/Month", "chargeType": "Usage",
    "billingCurrency": "USD", "pricingCurrency": "USD", "costInBillingCurrency": "1.50",
    "costInPricingCurrency": "1.50", "costInUsd": "1.50", "paygCostInBillingCurrency": "1.50",
    "paygCostInUsd": "1.50", "exchangeRatePricingToBilling": "1.0", "payGPrice": "0.02",
    "frequency": "UsageBased", "unitPrice": "0.02",
}

# ---------------------------------------------------------------------------------------------
# OCI native cost report

OCI_SUB = "ocid1.organizationssubscription.oc1..mlcosttest1"
OCI_BACKSLASH_TAG = "DevRel\\redbull-analytics-hol-4cb4.release"


def oci_row(ref: str, cost: str, quantity: str, *, correction: str = "false", **tags) -> dict:
    row = {
        "lineItem/referenceNo": ref, "lineItem/tenantId": "ocid1.tenancy.oc1..mlcosttenant",
        "lineItem/intervalUsageStart": "2026-01-10T10:00Z",
        "lineItem/intervalUsageEnd": "2026-01-10T11:00:00Z", "product/service": "COMPUTE",
        "product/compartmentId": "ocid1.compartment.oc1..ml", "product/compartmentName": "ml",
        "product/region": "us-ashburn-1", "product/availabilityDomain": "iad-ad-1",
        "product/resourceId": "ocid1.instance.oc1.iad.trainer1", "usage/billedQuantity": quantity,
        "cost/subscriptionId": OCI_SUB, "cost/productSku": "B93113",
        "product/Description": "Compute - Standard - E4 - OCPU", "cost/unitPrice": "0.25",
        "cost/myCost": cost, "cost/currencyCode": "USD",
        "cost/billingUnitReadable": "1 OCPU HOURS", "cost/skuUnitDescription": "OCPU Per Hour",
        "cost/overageFlag": "false", "lineItem/isCorrection": correction,
        "lineItem/backreferenceNo": "",
    }
    row.update({f"tags/{k}": v for k, v in tags.items()})
    return row


OCI = [
    oci_row("ref-1", "1.25", "5", **{"Oracle-Tags.CreatedBy": "default/alice@example.com",
                                     "Valtest.Cat": "boots", OCI_BACKSLASH_TAG: "v2"}),
    oci_row("ref-2", "-0.50", "-2", correction="true"),  # correction of ref-1, no tags
]


# ---------------------------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[dict], encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            assert set(row) <= set(header), set(row) - set(header)
            w.writerow([row.get(c, "") for c in header])


# A FOCUS 1.2 file as the AWS FOCUS export writes it (with its x_ columns) and a FOCUS 1.3 file
# (ServiceProviderName / HostProviderName); both pass through with their provider extensions.
FOCUS_BASE = {
    "BilledCost": "2.50", "EffectiveCost": "2.00", "ListCost": "3.00", "ContractedCost": "2.50",
    "BillingCurrency": "USD", "BillingPeriodStart": "2026-01-01T00:00:00Z",
    "BillingPeriodEnd": "2026-02-01T00:00:00Z", "ChargePeriodStart": "2026-01-03T00:00:00Z",
    "ChargePeriodEnd": "2026-01-03T01:00:00Z", "ChargeCategory": "Usage",
    "ChargeFrequency": "Usage-Based", "PricingQuantity": "1", "PricingUnit": "Hours",
    "ServiceName": "Amazon SageMaker", "ServiceCategory": "AI and Machine Learning",
    "ServiceSubcategory": "Machine Learning", "PublisherName": "AWS",
    "InvoiceIssuerName": "Amazon Web Services, Inc.", "PricingCategory": "Standard",
}
FOCUS12_AWS = "900000000012"
FOCUS12_HEADER = [*FOCUS_BASE, "ProviderName", "BillingAccountId", "BillingAccountType",
                  "InvoiceId", "x_ServiceCode", "x_UsageType", "x_Operation"]
FOCUS12_ROW = {**FOCUS_BASE, "ProviderName": "AWS", "BillingAccountId": FOCUS12_AWS,
               "BillingAccountType": "Payer Account", "InvoiceId": "INV-1",
               "x_ServiceCode": "AmazonSageMaker", "x_UsageType": "USE1-Host:ml.g5.xlarge",
               "x_Operation": "RunInstance"}
FOCUS13 = "900000000013"
FOCUS13_HEADER = [*FOCUS12_HEADER[:-3], "ServiceProviderName", "HostProviderName"]
FOCUS13_ROW = {**{k: v for k, v in FOCUS12_ROW.items() if not k.startswith("x_")},
               "BillingAccountId": FOCUS13, "ServiceProviderName": "AWS",
               "HostProviderName": "AWS"}
# Values FOCUS 1.2 forbids, as the FinOps Foundation's 1.0 sample carries them: a consumed
# quantity on an Adjustment row and on an unused-commitment row, a negative contracted unit
# price on a Credit row (kept on the Usage row, where the column must not be null).
FOCUS_FIX = "900000000014"
FOCUS_FIX_HEADER = [*FOCUS12_HEADER[:-3], "ConsumedQuantity", "ConsumedUnit",
                    "ContractedUnitPrice", "CommitmentDiscountStatus"]
FOCUS_FIX_ROWS = [
    {**FOCUS12_ROW, "BillingAccountId": FOCUS_FIX, "ChargeCategory": "Adjustment",
     "ConsumedQuantity": "128", "ConsumedUnit": "Hours", "ContractedUnitPrice": "0.0015"},
    {**FOCUS12_ROW, "BillingAccountId": FOCUS_FIX, "ChargeCategory": "Credit",
     "BilledCost": "-2.61", "ContractedUnitPrice": "-3"},
    {**FOCUS12_ROW, "BillingAccountId": FOCUS_FIX, "CommitmentDiscountStatus": "Unused",
     "ConsumedQuantity": "1", "ConsumedUnit": "Hours", "ContractedUnitPrice": "1.5"},
    {**FOCUS12_ROW, "BillingAccountId": FOCUS_FIX, "ConsumedQuantity": "1",
     "ConsumedUnit": "Hours", "ContractedUnitPrice": "2.5"},
]
FOCUS_FIX_ROWS = [{k: v for k, v in r.items() if not k.startswith("x_")} for r in FOCUS_FIX_ROWS]


@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("focus_rules_gcp_azure_oci")
    landing = tmp / "landing"
    for account, rows in [*GCP.items(), (GCP_SPARSE, GCP_SPARSE_ROWS)]:
        (landing / "gcp" / account).mkdir(parents=True)
        (landing / "gcp" / account / "billing_export.json").write_text(
            "".join(json.dumps(r) + "\n" for r in rows))
    write_csv(landing / "azure_ea/actual/EA_ActualCost.csv", EA_HEADER, EA_ACTUAL, "utf-8-sig")
    write_csv(landing / "azure_ea/amortized/EA_AmortizedCost.csv", EA_HEADER, EA_AMORTIZED,
              "utf-8-sig")
    write_csv(landing / "azure_mca/actual.csv", MCA_HEADER, [MCA_ROW], "utf-8-sig")
    write_csv(landing / "oci/reports_cost-csv_0000000001.csv", OCI_HEADER, OCI)
    write_csv(landing / "focus12/part-0.csv", FOCUS12_HEADER, [FOCUS12_ROW])
    write_csv(landing / "focus13/part-0.csv", FOCUS13_HEADER, [FOCUS13_ROW])
    write_csv(landing / "focus_fix/part-0.csv", FOCUS_FIX_HEADER, FOCUS_FIX_ROWS)
    warehouse = build_warehouse(tmp, [landing])
    res = run_dbt(warehouse, tmp / "target", ["build", "--select", "+focus_cost_and_usage"])
    assert res.success, res.output[-3000:]
    return warehouse


def q(wh: Path, sql: str, params=None) -> list[tuple]:
    with connection(wh, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def rows(wh: Path, account: str, cols: list[str]) -> list[dict]:
    """FOCUS rows of one billing account, in source order, as {column: value}."""
    with connection(wh, read_only=True) as con:
        cur = con.execute(
            """select * from focus.focus_cost_and_usage where "BillingAccountId" = ?
               order by "x_SourceFamily", "x_SourceRowNumber", "x_SourceRowSplit" """,
            [account])
        names = [d[0] for d in cur.description]
        return [{c: r[names.index(c)] for c in cols} for r in cur.fetchall()]


def test_ingest_detects_each_file_as_intended(wh):
    got = q(wh, """select family, schema_version, dataset_type, count(*) from meta.load_ledger
                   where status = 'loaded' group by all order by all""")
    assert got == [
        ("azure_cost_details", "2019-10", "actual", 1),  # EA
        ("azure_cost_details", "2019-10", "amortized", 1),
        ("azure_cost_details", "2023-05", "actual", 1),  # MCA
        ("focus", "1.2", "focus", 2),
        ("focus", "1.3", "focus", 1),
        # GCP_SPARSE has no `resource` on its first line but is detailed all the same
        ("gcp_billing", "detailed", "cost", len(GCP) + 1),
        ("oci_cost_report", "1", "cost", 1),
    ]


def test_every_slice_reconciles(wh):
    got = q(wh, """select provider, billing_account_id, billing_period, status
                   from focus.rpt_focus_reconciliation order by all""")
    jan = JAN.date()
    assert got == sorted(
        [("azure", AZ_EA, jan, "reconciled"), ("azure", AZ_MCA_PROFILE, jan, "reconciled"),
         ("oci", OCI_SUB, jan, "reconciled"), ("aws", FOCUS12_AWS, jan, "reconciled"),
         ("aws", FOCUS13, jan, "reconciled"), ("aws", FOCUS_FIX, jan, "reconciled")]
        + [("gcp", a, jan, "reconciled") for a in [*GCP, GCP_SPARSE]])


# ---------------------------------------------------------------------------------------------
# GCP


@pytest.mark.parametrize("account", sorted(GCP))
def test_gcp_billed_total_is_cost_plus_all_credits(wh, account):
    # CUD 10 - 7 = 3.00; PROMO 5 - 2 + 4 - 0.5 - 1 = 5.50; SUD 4 - 1.2 = 2.80;
    # TAX 10 + 0.8 = 10.80; ADJ 3 - 1.5 - 0.25 = 1.25; LABELS 1 + 2 = 3.00
    expected = {GCP_CUD: D("3.00"), GCP_PROMO: D("5.50"), GCP_SUD: D("2.80"),
                GCP_TAX: D("10.80"), GCP_ADJ: D("1.25"), GCP_LABELS: D("3.00")}[account]
    assert gcp_basis(account) == expected
    got = rows(wh, account, ["BilledCost", "EffectiveCost"])
    assert sum(r["BilledCost"] for r in got) == expected
    assert sum(r["EffectiveCost"] for r in got) == expected
    (source, focus) = q(wh, """select source_billed_total, focus_billed_total
        from focus.rpt_focus_reconciliation where billing_account_id = ?""", [account])[0]
    assert source == focus == expected


GCP_COLS = ["x_SourceRowNumber", "x_SourceRowSplit", "ChargeCategory", "ChargeClass",
            "ChargeFrequency", "BilledCost", "EffectiveCost", "PricingCategory",
            "CommitmentDiscountStatus", "CommitmentDiscountId", "CommitmentDiscountCategory",
            "CommitmentDiscountType"]


def test_gcp_cud_covered_usage_is_one_committed_row(wh):
    # cost 10.00 + CUD credit -7.00 applied in-row -> 3.00; the credit's id is the commitment
    assert rows(wh, GCP_CUD, GCP_COLS) == [dict(zip(GCP_COLS, (
        1, 0, "Usage", None, "Usage-Based", D("3.00"), D("3.00"), "Committed", "Used", CUD_ID,
        "Usage", "Committed Use Discount"), strict=True))]
    (r,) = rows(wh, GCP_CUD, ["ContractedCost", "ListCost", "PricingQuantity",
                              "CommitmentDiscountQuantity", "ConsumedQuantity"])
    # contracted = cost before credits, list = cost_at_list; 10 pricing units (hours) of
    # 36000 consumed seconds
    assert r == {"ContractedCost": D("10.00"), "ListCost": D("12.00"), "PricingQuantity": D(10),
                 "CommitmentDiscountQuantity": D(10), "ConsumedQuantity": D(36000)}


def test_gcp_promotion_credit_becomes_its_own_credit_row(wh):
    got = rows(wh, GCP_PROMO, GCP_COLS[:8] + ["ChargeDescription", "x_SourceChargeType",
                                               "PricingQuantity", "ContractedCost"])
    assert [tuple(r.values()) for r in got] == [
        # row 1: usage at full cost 5.00; the PROMOTION credit (position 1) is split 1
        (1, 0, "Usage", None, "Usage-Based", D("5.00"), D("5.00"), "Standard", N1_CORE,
         "regular", D(10), D("5.00")),
        (1, 1, "Credit", None, "One-Time", D("-2.00"), D("-2.00"), None,
         f"Credit PROMOTION: {N1_CORE}", "PROMOTION", None, D("-2.00")),
        # row 2: SUD -0.50 applied in-row (4.00 - 0.50 = 3.50); the PROMOTION is 2nd in the
        # list, so its Credit row is split 2
        (2, 0, "Usage", None, "Usage-Based", D("3.50"), D("3.50"), "Standard", N1_CORE,
         "regular", D(10), D("4.00")),
        (2, 2, "Credit", None, "One-Time", D("-1.00"), D("-1.00"), None,
         f"Credit PROMOTION: {N1_CORE}", "PROMOTION", None, D("-1.00")),
    ]


def test_gcp_sustained_use_discount_is_applied_in_row(wh):
    # 4.00 - 1.20 = 2.80 on the one row; a SUD is not a commitment
    assert rows(wh, GCP_SUD, GCP_COLS) == [dict(zip(GCP_COLS, (
        1, 0, "Usage", None, "Usage-Based", D("2.80"), D("2.80"), "Standard", None, None, None,
        None), strict=True))]


def test_gcp_tax_row(wh):
    got = rows(wh, GCP_TAX, ["x_SourceRowNumber", "ChargeCategory", "ChargeClass",
                             "ChargeFrequency", "BilledCost", "PricingCategory",
                             "PricingQuantity", "PricingUnit", "ConsumedQuantity",
                             "x_SourceChargeType"])
    assert got[1] == {"x_SourceRowNumber": 2, "ChargeCategory": "Tax", "ChargeClass": None,
                      "ChargeFrequency": "Recurring", "BilledCost": D("0.80"),
                      "PricingCategory": None, "PricingQuantity": None, "PricingUnit": None,
                      "ConsumedQuantity": None, "x_SourceChargeType": "tax"}
    assert len(got) == 2 and got[0]["ChargeCategory"] == "Usage"


def test_gcp_adjustment_of_an_earlier_period_is_a_correction(wh):
    got = rows(wh, GCP_ADJ, ["x_SourceRowNumber", "ChargeCategory", "ChargeClass",
                             "ChargeFrequency", "BilledCost", "PricingCategory",
                             "ChargePeriodStart", "BillingPeriodStart", "BillingPeriodEnd"])
    assert [tuple(r.values()) for r in got] == [
        (1, "Usage", None, "Usage-Based", D("3.00"), "Standard", datetime(2026, 1, 5), JAN, FEB),
        # December usage (2025-12-10 < invoice month 2026-01): Correction
        (2, "Adjustment", "Correction", "One-Time", D("-1.50"), None, datetime(2025, 12, 10),
         JAN, FEB),
        # January usage: same period, not a correction
        (3, "Adjustment", None, "One-Time", D("-0.25"), None, datetime(2026, 1, 12), JAN, FEB),
    ]


def test_gcp_tags_merge_resource_project_and_system_labels(wh):
    got = rows(wh, GCP_LABELS, ["x_SourceRowNumber", "Tags"])
    assert json.loads(got[0]["Tags"]) == {
        "team": "ml", "app": "trainer",  # resource labels keep their keys
        "gcp-project/env": "prod", "gcp-project/team": "platform",  # no collision with `team`
        "gcp-system/goog-k8s-cluster-name": "gke-1",
    }
    assert got[1] == {"x_SourceRowNumber": 2, "Tags": None}


# BigQuery writes no key for a NULL field: keys absent from line 1 must still be read.
def test_gcp_ndjson_keys_missing_from_the_first_line_are_still_read(wh):
    got = rows(wh, GCP_SPARSE, ["x_SourceRowNumber", "x_SourceRowSplit", "ChargeCategory",
                                "BilledCost", "Tags", "ResourceId"])
    for r in got:
        r["Tags"] = r["Tags"] and json.loads(r["Tags"])
    vm = GCP_SPARSE_ROWS[1]["resource"]["global_name"]
    assert [tuple(r.values()) for r in got] == [
        (1, 0, "Usage", D("10.00"), None, None),
        (2, 0, "Usage", D("4.00"), {"team": "ml"}, vm),
        (2, 1, "Credit", D("-1.00"), {"team": "ml"}, vm),  # the promotion, its own row
    ]
    assert sum(r["BilledCost"] for r in got) == D("13.00")  # 10 + 4 - 1


# ---------------------------------------------------------------------------------------------
# Azure EA pair

AZ_COLS = ["x_SourceFamily", "x_SourceRowNumber", "ChargeCategory", "ChargeClass",
           "BilledCost", "EffectiveCost", "CommitmentDiscountStatus", "PricingCategory",
           "ChargeFrequency", "CommitmentDiscountType", "CommitmentDiscountId"]
ACT, AMO = "azure_cost_details_actual", "azure_cost_details_amortized"


def test_azure_ea_pair_rows(wh):
    assert [tuple(r.values()) for r in rows(wh, AZ_EA, AZ_COLS)] == [
        # actual purchase: billed in full, amortized away (effective 0)
        (ACT, 1, "Purchase", None, D("300.00"), D(0), None, "Standard", "One-Time",
         "Reservation", RI),
        # actual refund of the reservation: a Purchase correction, effective 0 too
        (ACT, 5, "Purchase", "Correction", D("-50.00"), D(0), None, "Standard", "One-Time",
         "Reservation", RI),
        # amortized covered usage: billed 0 (paid by the purchase), effective = its share
        (AMO, 1, "Usage", None, D(0), D("9.00"), "Used", "Committed", "Usage-Based",
         "Reservation", RI),
        # amortized unused reservation: billed 0, effective = the unused share
        (AMO, 2, "Usage", None, D(0), D("1.00"), "Unused", "Committed", "Usage-Based",
         "Reservation", RI),
        # on-demand and spot once each, from the amortized file (actual rows 2-4 are dropped)
        (AMO, 3, "Usage", None, D("5.00"), D("5.00"), None, "Standard", "Usage-Based", None,
         None),
        (AMO, 4, "Usage", None, D("2.00"), D("2.00"), None, "Dynamic", "Usage-Based", None,
         None),
    ]


def test_azure_ea_pair_totals_match_each_dataset(wh):
    got = rows(wh, AZ_EA, ["BilledCost", "EffectiveCost"])
    # billed: 300 - 50 + 0 + 0 + 5 + 2 = 257.00 = Σ actual Cost
    assert sum(r["BilledCost"] for r in got) == EA_ACTUAL_TOTAL == D("257.00")
    # effective: 0 + 0 + 9 + 1 + 5 + 2 = 17.00 = Σ amortized Cost
    assert sum(r["EffectiveCost"] for r in got) == EA_AMORTIZED_TOTAL == D("17.00")
    assert q(wh, """select source_billed_total, focus_billed_total, source_effective_total,
                           focus_effective_total, status
                    from focus.rpt_focus_reconciliation where billing_account_id = ?""",
             [AZ_EA]) == [(D("257"), D("257"), D("17"), D("17"), "reconciled")]


def test_azure_ea_periods_are_exclusive_and_covered_usage_has_its_commitment(wh):
    got = rows(wh, AZ_EA, ["x_SourceFamily", "x_SourceRowNumber", "ChargePeriodStart",
                           "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd",
                           "BillingAccountType", "CommitmentDiscountCategory",
                           "CommitmentDiscountName", "ConsumedQuantity", "Tags"])
    covered = next(r for r in got if (r["x_SourceFamily"], r["x_SourceRowNumber"]) == (AMO, 1))
    assert covered == {
        "x_SourceFamily": AMO, "x_SourceRowNumber": 1,
        "ChargePeriodStart": datetime(2026, 1, 15), "ChargePeriodEnd": datetime(2026, 1, 16),
        "BillingPeriodStart": JAN, "BillingPeriodEnd": FEB,  # 01/31/2026 + 1 day
        "BillingAccountType": "Billing Account", "CommitmentDiscountCategory": "Usage",
        "CommitmentDiscountName": "ri-d2s", "ConsumedQuantity": D(24), "Tags": None,
    }
    unused = next(r for r in got if (r["x_SourceFamily"], r["x_SourceRowNumber"]) == (AMO, 2))
    assert unused["ConsumedQuantity"] is None  # nothing was consumed
    on_demand = [r for r in got if r["Tags"] is not None]
    assert len(on_demand) == 1 and json.loads(on_demand[0]["Tags"]) == {"team": "ml",
                                                                       "env": "prod"}


def test_azure_mca_bills_per_billing_profile(wh):
    assert rows(wh, AZ_MCA_PROFILE, ["BillingAccountId", "BillingAccountName",
                                     "BillingAccountType", "BilledCost", "EffectiveCost",
                                     "x_SourceFamily", "x_SourceSchemaVersion", "SkuId",
                                     "ResourceId", "ListCost"]) == [{
        "BillingAccountId": AZ_MCA_PROFILE, "BillingAccountName": "ML Research",
        "BillingAccountType": "Billing Profile", "BilledCost": D("1.50"),
        "EffectiveCost": D("1.50"),  # actual only: nothing to amortize
        "x_SourceFamily": ACT, "x_SourceSchemaVersion": "2023-05",
        "SkuId": "DZH318Z0BNZJ0058", "ResourceId": MCA_ROW["InstanceName"],
        "ListCost": D("1.50"),  # paygCostInBillingCurrency
    }]
    # the billing account GUID is not an account of its own
    assert q(wh, """select count(*) from focus.focus_cost_and_usage
                    where "BillingAccountId" = ?""", [MCA_ROW["billingAccountId"]]) == [(0,)]


# ---------------------------------------------------------------------------------------------
# OCI


def test_oci_correction_and_tags(wh):
    got = rows(wh, OCI_SUB, ["x_SourceRowNumber", "ChargeCategory", "ChargeClass",
                             "BilledCost", "EffectiveCost", "ConsumedQuantity",
                             "PricingQuantity", "ContractedCost", "x_SourceChargeType",
                             "ChargePeriodStart", "Tags"])
    usage, correction = got
    tags = json.loads(usage.pop("Tags"))
    assert usage == {"x_SourceRowNumber": 1, "ChargeCategory": "Usage", "ChargeClass": None,
                     "BilledCost": D("1.25"), "EffectiveCost": D("1.25"),
                     "ConsumedQuantity": D(5), "PricingQuantity": D(5),
                     "ContractedCost": D("1.25"),  # 0.25 x 5
                     "x_SourceChargeType": "Usage",
                     "ChargePeriodStart": datetime(2026, 1, 10, 10)}  # "...T10:00Z"
    # one column per tag; empty ones dropped; the key is the header after `tags/`, verbatim
    assert tags == {"Oracle-Tags.CreatedBy": "default/alice@example.com",
                    "Valtest.Cat": "boots", OCI_BACKSLASH_TAG: "v2"}
    assert correction == {"x_SourceRowNumber": 2, "ChargeCategory": "Usage",
                          "ChargeClass": "Correction", "BilledCost": D("-0.50"),
                          "EffectiveCost": D("-0.50"), "ConsumedQuantity": None,
                          "PricingQuantity": None, "ContractedCost": D("-0.50"),
                          "x_SourceChargeType": "Correction",
                          "ChargePeriodStart": datetime(2026, 1, 10, 10), "Tags": None}
    assert sum(r["BilledCost"] for r in got) == D("0.75")  # 1.25 - 0.50


def test_focus_exports_keep_their_provider_extensions(wh):
    got = rows(wh, FOCUS12_AWS, ["x_SourceFamily", "x_ServiceCode", "x_UsageType", "x_Operation",
                                 "InvoiceIssuerName", "x_InvoiceIssuerEntity", "x_InvoiceId",
                                 "BilledCost"])
    assert got == [{"x_SourceFamily": "focus_1.2", "x_ServiceCode": "AmazonSageMaker",
                    "x_UsageType": "USE1-Host:ml.g5.xlarge", "x_Operation": "RunInstance",
                    # the provider's own legal entity is the provider (see docs/focus.md)
                    "InvoiceIssuerName": "AWS",
                    "x_InvoiceIssuerEntity": "Amazon Web Services, Inc.", "x_InvoiceId": "INV-1",
                    "BilledCost": D("2.50")}]


def test_focus_13_service_and_host_provider_pass_through(wh):
    got = rows(wh, FOCUS13, ["x_SourceFamily", "ServiceProviderName", "HostProviderName",
                             "x_ProviderCode"])
    assert got == [{"x_SourceFamily": "focus_1.3", "ServiceProviderName": "AWS",
                    "HostProviderName": "AWS", "x_ProviderCode": "aws"}]


def test_focus_files_invoice_id_is_published(wh):
    assert rows(wh, FOCUS12_AWS, ["InvoiceId", "x_InvoiceId"]) == [
        {"InvoiceId": "INV-1", "x_InvoiceId": "INV-1"}]


def test_focus_files_values_focus_12_forbids_are_nulled(wh):
    got = rows(wh, FOCUS_FIX, ["ChargeCategory", "CommitmentDiscountStatus", "ConsumedQuantity",
                               "ConsumedUnit", "ContractedUnitPrice", "BilledCost"])
    assert got == [
        {"ChargeCategory": "Adjustment", "CommitmentDiscountStatus": None,
         "ConsumedQuantity": None, "ConsumedUnit": None, "ContractedUnitPrice": D("0.0015"),
         "BilledCost": D("2.50")},
        {"ChargeCategory": "Credit", "CommitmentDiscountStatus": None, "ConsumedQuantity": None,
         "ConsumedUnit": None, "ContractedUnitPrice": None, "BilledCost": D("-2.61")},
        {"ChargeCategory": "Usage", "CommitmentDiscountStatus": "Unused",
         "ConsumedQuantity": None, "ConsumedUnit": None, "ContractedUnitPrice": D("1.5"),
         "BilledCost": D("2.50")},
        {"ChargeCategory": "Usage", "CommitmentDiscountStatus": None, "ConsumedQuantity": D("1"),
         "ConsumedUnit": "Hours", "ContractedUnitPrice": D("2.5"), "BilledCost": D("2.50")},
    ]
