"""FOCUS mapping rules on small hand-made exports, with hand-computed expectations.

Each scenario is its own AWS payer account in one warehouse, so one dbt build serves all."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.lib.warehouse import connection

from .conftest import build_warehouse, run_dbt

CUR_HEADER = [
    "identity/LineItemId", "bill/PayerAccountId", "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate", "lineItem/UsageAccountId", "lineItem/LineItemType",
    "lineItem/UsageStartDate", "lineItem/UsageEndDate", "lineItem/ProductCode",
    "lineItem/UsageType", "lineItem/UsageAmount", "lineItem/CurrencyCode",
    "lineItem/UnblendedRate", "lineItem/UnblendedCost", "lineItem/LineItemDescription",
    "pricing/publicOnDemandRate", "pricing/unit", "savingsPlan/SavingsPlanARN",
    "savingsPlan/SavingsPlanEffectiveCost", "savingsPlan/TotalCommitmentToDate",
    "savingsPlan/UsedCommitment",
]
# Optional columns a scenario may fill (blank elsewhere).
EXTRA = ["reservation/ReservationARN", "reservation/EffectiveCost",
         "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod", "reservation/UnusedRecurringFee",
         "reservation/UnusedQuantity", "bill/BillingEntity", "lineItem/LegalEntity"]
CUR_HEADER = [*CUR_HEADER, *EXTRA]
RI = "arn:aws:ec2:us-east-1:111111111111:reserved-instances/ri-1"
SP = "arn:aws:savingsplans::111111111111:savingsplan/sp-1"
D = Decimal


def cur_row(payer, i, kind, amount, rate, cost, sp_eff="", total="", used="", arn="",
            start="2026-01-05T00:00:00Z", product="AmazonEC2", **extra):
    return [f"li-{i}", payer, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z",
            "222222222222", kind, start, "2026-01-05T01:00:00Z", product,
            "USE1-BoxUsage:g5.xlarge", amount, "USD", rate, cost, f"{kind} row", rate, "Hrs",
            arn, sp_eff, total, used, *(extra.get(c, "") for c in EXTRA)]


SCENARIOS = {
    "100000000001": [  # Savings Plan: covered usage, negation, recurring fee, tax
        cur_row("100000000001", 1, "Usage", "10", "0.1", "1.00"),
        cur_row("100000000001", 2, "SavingsPlanCoveredUsage", "10", "0.1", "1.00",
                sp_eff="0.70", arn=SP),
        cur_row("100000000001", 3, "SavingsPlanNegation", "10", "-0.1", "-1.00", arn=SP),
        cur_row("100000000001", 4, "SavingsPlanRecurringFee", "1", "0.8", "0.80",
                total="0.80", used="0.70", arn=SP),
        cur_row("100000000001", 5, "Tax", "", "", "0.28"),
    ],
    "100000000002": [  # negation first, not cancelling exactly
        cur_row("100000000002", 1, "SavingsPlanNegation", "10", "-0.1", "-1.00", arn=SP),
        cur_row("100000000002", 2, "SavingsPlanCoveredUsage", "12", "0.1", "1.20",
                sp_eff="0.84", arn=SP),
    ],
    "100000000003": [  # refund of December usage, invoiced in January
        cur_row("100000000003", 1, "Usage", "1", "5", "5.00"),
        cur_row("100000000003", 2, "Refund", "", "", "-5.00", start="2025-12-10T00:00:00Z"),
    ],
    "100000000004": [  # refund within the period: not a correction
        cur_row("100000000004", 1, "Usage", "1", "5", "5.00"),
        cur_row("100000000004", 2, "Refund", "", "", "-5.00", start="2026-01-10T00:00:00Z"),
    ],
    "100000000005": [  # Reserved Instance: monthly fee with an unused part, covered usage, upfront
        cur_row("100000000005", 1, "RIFee", "10", "0.04", "0.40", **{
            "reservation/ReservationARN": RI,
            "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": "0.10",
            "reservation/UnusedRecurringFee": "0.05", "reservation/UnusedQuantity": "2"}),
        cur_row("100000000005", 2, "DiscountedUsage", "8", "0", "0", **{
            "reservation/ReservationARN": RI, "reservation/EffectiveCost": "0.65"}),
        cur_row("100000000005", 3, "Fee", "1", "12", "12.00", **{
            "reservation/ReservationARN": RI}),
    ],
    "100000000006": [  # AWS Marketplace: the seller is the publisher, AWS invoices it
        cur_row("100000000006", 1, "Usage", "1", "3", "3.00", product="prod-ml-tool-123", **{
            "bill/BillingEntity": "AWS Marketplace",
            "lineItem/LegalEntity": "Acme ML Tools LLC"}),
    ],
}


@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("focus_rules")
    landing = tmp / "landing"
    for payer, rows in SCENARIOS.items():
        (landing / payer).mkdir(parents=True)
        with open(landing / payer / "cur.csv", "w", newline="") as fh:
            csv.writer(fh).writerows([CUR_HEADER, *rows])
    warehouse = build_warehouse(tmp, [landing])
    res = run_dbt(warehouse, tmp / "target", ["build", "--select", "+focus_cost_and_usage"])
    assert res.success, res.output[-3000:]
    return warehouse


def focus_rows(wh: Path, payer: str):
    with connection(wh, read_only=True) as con:
        return con.execute(
            """select "x_SourceRowNumber", "x_SourceRowSplit", "ChargeCategory",
                      "CommitmentDiscountStatus", "BilledCost", "EffectiveCost",
                      "PricingCategory", "ChargeFrequency", "ChargeClass"
               from focus.focus_cost_and_usage where "BillingAccountId" = ? order by 1, 2""",
            [payer]).fetchall()


def test_every_scenario_reconciles(wh):
    with connection(wh, read_only=True) as con:
        rows = con.execute("select billing_account_id, status from focus.rpt_focus_reconciliation"
                           " order by 1").fetchall()
    assert rows == [(p, "reconciled") for p in sorted(SCENARIOS)]


def test_savings_plan_covered_usage_negation_and_recurring_fee(wh):
    assert focus_rows(wh, "100000000001") == [
        (1, 0, "Usage", None, D("1.00"), D("1.00"), "Standard", "Usage-Based", None),
        # covered usage: billed 0 (the negation is folded in), amortized SP rate as effective
        (2, 0, "Usage", "Used", D("0"), D("0.70"), "Committed", "Usage-Based", None),
        # the fee is the purchase; its unused part is a Usage row with status Unused
        (4, 0, "Purchase", None, D("0.80"), D("0"), "Standard", "Recurring", None),
        (4, 1, "Usage", "Unused", D("0"), D("0.10"), "Committed", "Recurring", None),
        (5, 0, "Tax", None, D("0.28"), D("0.28"), None, "Recurring", None),
    ]  # Σ billed 2.08 = Σ unblended; Σ effective 2.08 = CID amortized total


def test_negation_residual_is_kept_even_when_the_negation_comes_first(wh):
    rows = focus_rows(wh, "100000000002")
    assert (1, 2, "Adjustment", None, D("0.20"), D("0"), None, "One-Time", None) in rows
    assert sum(r[4] for r in rows) == D("0.20")


@pytest.mark.parametrize("payer,expected_class", [("100000000003", "Correction"),
                                                   ("100000000004", None)])
def test_refund_of_a_previous_period_is_a_correction(wh, payer, expected_class):
    refund = [r for r in focus_rows(wh, payer) if r[0] == 2]
    assert [(r[8], r[4]) for r in refund] == [(expected_class, D("-5.00"))]


def test_reserved_instance_fee_unused_part_and_covered_usage(wh):
    assert focus_rows(wh, "100000000005") == [
        # the monthly fee is the purchase; its unused share (0.10 upfront + 0.05 recurring)
        # is a Usage row with status Unused
        (1, 0, "Purchase", None, D("0.40"), D("0"), "Standard", "Recurring", None),
        (1, 1, "Usage", "Unused", D("0"), D("0.15"), "Committed", "Recurring", None),
        # covered usage: billed as the CUR bills it (0), effective = the RI's amortized rate
        (2, 0, "Usage", "Used", D("0"), D("0.65"), "Committed", "Usage-Based", None),
        # the upfront payment: a one-time purchase whose cost is amortized onto usage
        (3, 0, "Purchase", None, D("12.00"), D("0"), "Standard", "One-Time", None),
    ]  # Σ billed 12.40 = Σ unblended; Σ effective 0.80 = used 0.65 + unused 0.15


def test_reserved_instance_rows_carry_the_commitment(wh):
    with connection(wh, read_only=True) as con:
        got = con.execute(
            """select "x_SourceRowNumber", "x_SourceRowSplit", "CommitmentDiscountId",
                      "CommitmentDiscountCategory", "CommitmentDiscountQuantity",
                      "CommitmentDiscountUnit"
               from focus.focus_cost_and_usage where "BillingAccountId" = '100000000005'
               order by 1, 2""").fetchall()
    assert got == [(1, 0, RI, "Usage", D("10"), "Hours"), (1, 1, RI, "Usage", D("2"), "Hours"),
                   (2, 0, RI, "Usage", D("8"), "Hours"), (3, 0, RI, "Usage", D("1"), "Hours")]


def test_marketplace_charge_is_published_by_the_seller(wh):
    with connection(wh, read_only=True) as con:
        got = con.execute(
            """select "ChargeCategory", "PublisherName", "ProviderName", "InvoiceIssuerName",
                      "BilledCost"
               from focus.focus_cost_and_usage where "BillingAccountId" = '100000000006'"""
        ).fetchall()
    assert got == [("Usage", "Acme ML Tools LLC", "AWS", "AWS", D("3.00"))]


def test_sub_account_name_falls_back_to_the_id_when_the_cur_has_no_name(wh):
    # The legacy CUR carries no account names; FOCUS 1.2 needs one wherever SubAccountId is set.
    with connection(wh, read_only=True) as con:
        got = con.execute(
            """select distinct "SubAccountId", "SubAccountName" from focus.focus_cost_and_usage
               where "BillingAccountId" = '100000000001'""").fetchall()
    assert got == [("222222222222", "222222222222")]
