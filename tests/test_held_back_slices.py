"""One slice never stops the warehouse: a slice (provider, billing account, billing period)
that fails a FOCUS rule or the reconciliation is held back from FOCUS and the marts, named in
focus.rpt_held_back_slices, and every other slice is published and reconciles."""

from __future__ import annotations

import ast
import csv
import hashlib
import json
import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from dagster_project import settings
from dagster_project.defs.dbt.checks import focus_reconciles_to_source, focus_slices_published
from dagster_project.defs.resources import WarehouseResource
from dagster_project.lib.warehouse import connection

from .conftest import REAL, build_warehouse, run_dbt

TREY = [REAL / "azure/ea_cost_details_actual_trey_research",
        REAL / "azure/ea_cost_details_amortized_trey_research"]
GOOD = [REAL / "aws/cur_legacy_csv_anonymized_canada",
        REAL / "gcp/bigquery_standard_export_csv_with_credits"]
FOCUS_SAMPLE = REAL / "multi/focus_1.0_finops_foundation_sample/focus_sample.csv"
AWS_FOCUS = ("aws", "1234567890123", date(2024, 9, 1))
OCI_OCT = ("oci", "20209880", date(2024, 10, 1))
SELECT = ["build", "--select", "+fct_costs_monthly", "+rpt_held_back_slices"]


def q(wh: Path, sql: str, params=None) -> list[tuple]:
    with connection(wh, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def focus_file(dest: Path, bad: dict[tuple[str, str], str], column: str = "ChargeCategory",
               only: str | None = None) -> tuple[str, dict[tuple, int]]:
    """The FOCUS sample (only one ProviderName's rows if `only`) with `column` replaced on the
    first row of each given (provider, billing period start); returns its sha256 and the
    1-based data row number of each change."""
    with open(FOCUS_SAMPLE, newline="") as fh:
        header, *rows = list(csv.reader(fh))
    prov, start, col = (header.index(c) for c in ("ProviderName", "BillingPeriodStart", column))
    rows = [r for r in rows if only is None or r[prov] == only]
    changed: dict[tuple, int] = {}
    for n, row in enumerate(rows, start=1):
        key = (row[prov], row[start][:10])
        if key in bad and key not in changed:
            row[col] = bad[key]
            changed[key] = n
    assert set(changed) == set(bad)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "w", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_MINIMAL).writerows([header, *rows])
    return hashlib.sha256(dest.read_bytes()).hexdigest(), changed


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("held_back")
    land = tmp / "landing"
    for src in [*TREY, *GOOD]:
        shutil.copytree(src, land / src.parent.name / src.name)
    focus_id, changed = focus_file(land / "focus/2024-09/part-0.csv",
                                   {("AWS", "2024-09-01"): "Refund"})
    wh = build_warehouse(tmp, [land])
    res = run_dbt(wh, tmp / "target", SELECT)
    # The held-back slices are not build failures: dbt succeeds.
    assert res.success, res.output[-4000:]
    return {"tmp": tmp, "land": land, "wh": wh, "focus_id": focus_id, "changed": changed}


def held_back(wh: Path) -> list[tuple]:
    return q(wh, """select provider, billing_account_id, billing_period, currency, file_id,
                           rule, detail from focus.rpt_held_back_slices order by all""")


def trey_file_ids(wh: Path) -> set[str]:
    return {r[0] for r in q(wh, """select file_id from meta.load_ledger
                                   where status = 'loaded' and family = 'azure_cost_details'""")}


def test_unreconcilable_azure_pair_is_held_back_and_named(landing):
    wh = landing["wh"]
    rows = [r for r in held_back(wh) if r[0] == "azure"]
    assert {r[4] for r in rows} == trey_file_ids(wh) and len(trey_file_ids(wh)) == 2
    assert {(r[1], r[2], r[3], r[5]) for r in rows} == {
        ("8611537", date(2023, 9, 1), "USD", "reconciliation")}
    (focus_billed, source_billed, diff) = q(wh, """
        select focus_billed_total, source_billed_total, billed_difference
        from focus.rpt_focus_reconciliation where provider = 'azure'""")[0]
    assert source_billed == Decimal("8.5450077867419368") and diff != 0
    # Exact totals, trailing zeros of the 24-digit scale removed.
    text = lambda d: format(d.normalize(), "f")  # noqa: E731
    assert rows[0][6] == (
        f"Σ BilledCost {text(focus_billed)} differs from the invoiced total of the source, "
        f"{text(source_billed)} by {text(diff)} USD (the files of this slice are not extracts "
        "of the same charges, or the mapping lost some).")


def test_focus_rule_failure_holds_back_only_its_slice(landing):
    wh = landing["wh"]
    rows = [r for r in held_back(wh) if r[0] != "azure"]
    n = landing["changed"][("AWS", "2024-09-01")]
    assert rows == [(*AWS_FOCUS, "USD", landing["focus_id"], "accepted_values:ChargeCategory",
                     f'ChargeCategory is "Refund" on 1 of 942 rows (first at source row {n}); '
                     "FOCUS 1.2 allows Usage, Purchase, Tax, Credit, Adjustment.")]
    # The other slices of the same file are published.
    got = dict(q(wh, """select "x_ProviderCode" || '/' || strftime("x_BillingPeriod", '%Y-%m'),
                               count(*) from focus.focus_cost_and_usage
                        where "x_SourceFileId" = ? group by 1""", [landing["focus_id"]]))
    assert got == {"azure/2024-09": 51, "oci/2024-09": 6, "oci/2024-10": 1}


def test_held_back_slices_are_absent_from_focus_and_marts(landing):
    wh = landing["wh"]
    for provider, account, period in [("azure", "8611537", date(2023, 9, 1)), AWS_FOCUS]:
        assert q(wh, """select count(*) from focus.focus_cost_and_usage
                        where "x_ProviderCode" = ? and "BillingAccountId" = ?
                          and "x_BillingPeriod" = ?""", [provider, account, period]) == [(0,)]
        assert q(wh, """select count(*) from marts.fct_cost_allocations where provider = ?
                          and billing_account_id = ? and billing_period = ?""",
                 [provider, account, period]) == [(0,)]
    assert q(wh, """select count(*) from marts.fct_costs_monthly
                    where provider = 'azure' and billing_month = '2023-09-01'""") == [(0,)]


def test_every_published_slice_reconciles_exactly(landing):
    wh = landing["wh"]
    published = q(wh, """select "x_ProviderCode", "BillingAccountId", "x_BillingPeriod",
                                sum("BilledCost") from focus.focus_cost_and_usage
                         group by all order by all""")
    assert {r[0] for r in published} == {"aws", "gcp", "azure", "oci"}
    recon = {r[:3]: r[3:] for r in q(wh, """select provider, billing_account_id,
        billing_period, status, source_billed_total from focus.rpt_focus_reconciliation""")}
    for provider, account, period, billed in published:
        status, source = recon[(provider, account, period)]
        assert status == "reconciled" and billed == source
    # The published totals reach the marts unchanged.
    (mart,) = q(wh, "select sum(billed_cost) from marts.fct_costs_monthly")[0]
    assert mart == sum(r[3] for r in published)


def run_check(check, wh: Path) -> dg.AssetCheckResult:
    return check(warehouse=WarehouseResource(path=str(wh)))


def test_asset_checks_warn_on_held_back_and_pass_on_published(landing):
    wh = landing["wh"]
    warn = run_check(focus_slices_published, wh)
    assert not warn.passed and warn.severity == dg.AssetCheckSeverity.WARN
    assert warn.metadata["held_back_slices"].value == 2
    table = warn.metadata["detail"].value
    assert "accepted_values:ChargeCategory" in table and "reconciliation" in table
    assert "&quot;Refund&quot;" in table  # data values are escaped in the Markdown table
    recon = run_check(focus_reconciles_to_source, wh)
    assert recon.passed, recon.metadata["detail"].value


def test_reconciliation_check_fails_when_publishing_went_wrong(landing, tmp_path):
    """The check is not vacuous: a published slice whose totals changed, and a reconciled
    slice no longer held back but absent from FOCUS, are both named."""
    wh = tmp_path / "copy.duckdb"
    shutil.copy(landing["wh"], wh)
    with connection(wh) as con:
        con.execute("""delete from focus.focus_cost_and_usage where "x_RowId" =
                       (select min("x_RowId") from focus.focus_cost_and_usage
                        where "x_ProviderCode" = 'oci')""")
        con.execute("delete from focus.rpt_held_back_slices where provider = 'aws'")
    res = run_check(focus_reconciles_to_source, wh)
    assert not res.passed and res.severity == dg.AssetCheckSeverity.ERROR
    assert res.metadata["not_reconciled"].value == 2
    table = res.metadata["detail"].value
    assert "published totals differ" in table and "reconciled, not published" in table


def test_redelivery_publishes_the_fixed_slice_and_holds_back_the_broken_one(landing):
    """A fixed AWS slice leaves the table; a newly broken OCI 2024-10 slice (alone in its
    period, so the period has no rows left) leaves FOCUS: an incremental windowed build."""
    wh, tmp = landing["wh"], landing["tmp"]
    new_id, changed = focus_file(landing["land"] / "focus/2024-09-redelivered/part-0.csv",
                                 {("Oracle", "2024-10-01"): "Rebate"})
    build_warehouse(tmp, [landing["land"]])  # ingests the new folder only (same warehouse)
    res = run_dbt(wh, tmp / "target", [*SELECT, "--vars", json.dumps(
        {"billing_period_start": "2024-09-01", "billing_period_end": "2024-11-01"})])
    assert res.success, res.output[-4000:]
    rows = [r for r in held_back(wh) if r[0] != "azure"]
    assert [(r[:3], r[4], r[5]) for r in rows] == [
        (OCI_OCT, new_id, "accepted_values:ChargeCategory")]
    assert q(wh, """select count(*) from focus.focus_cost_and_usage
                    where "x_BillingPeriod" = '2024-10-01'""") == [(0,)]
    assert q(wh, """select count(*) from marts.fct_costs_monthly
                    where billing_month = '2024-10-01'""") == [(0,)]
    assert q(wh, """select count(*) from focus.focus_cost_and_usage
                    where "x_ProviderCode" = 'aws' and "BillingAccountId" = ?""",
             [AWS_FOCUS[1]]) == [(942,)]
    # The Azure verdict is outside the window and stays.
    assert {r[5] for r in held_back(wh) if r[0] == "azure"} == {"reconciliation"}
    assert run_check(focus_reconciles_to_source, wh).passed


def test_missing_required_value_holds_back_its_slice(tmp_path):
    """A FOCUS row without ChargePeriodEnd (blank in the file) holds back its slice only."""
    file_id, changed = focus_file(tmp_path / "landing/oci_focus/part-0.csv",
                                  {("Oracle", "2024-09-01"): ""}, column="ChargePeriodEnd",
                                  only="Oracle")
    wh = build_warehouse(tmp_path, [tmp_path / "landing"])
    res = run_dbt(wh, tmp_path / "target", ["build", "--select", "+focus_cost_and_usage"])
    assert res.success, res.output[-4000:]
    n = changed[("Oracle", "2024-09-01")]
    assert [r[:6] + (r[6],) for r in held_back(wh)] == [
        ("oci", "20209880", date(2024, 9, 1), "USD", file_id, "not_null:ChargePeriodEnd",
         f"ChargePeriodEnd is null on 1 of 6 rows (first at source row {n}); "
         "FOCUS 1.2 requires a value.")]
    assert q(wh, """select strftime("x_BillingPeriod", '%Y-%m'), count(*)
                    from focus.focus_cost_and_usage group by 1""") == [("2024-10", 1)]


def test_rules_are_the_focus_model_data_tests():
    """The per-slice rules in rpt_held_back_slices are exactly the required columns
    (not_null_columns) and accepted_values tests of focus_cost_and_usage (bar x_RowId, which
    mlcost builds)."""
    sql = (settings.DBT_PROJECT_DIR / "models/focus/rpt_held_back_slices.sql").read_text()
    not_null = ast.literal_eval(re.search(r"set not_null = (\[.*?\])", sql, re.S).group(1))
    accepted = ast.literal_eval(re.search(r"set accepted_values = (\{.*?\})", sql, re.S).group(1))
    manifest = json.loads((settings.DBT_PROJECT_DIR / "target/manifest.json").read_text())
    tests_nn, tests_av = set(), {}
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        if node.get("attached_node") != "model.mlcost.focus_cost_and_usage":
            continue
        col = meta.get("kwargs", {}).get("column_name")
        if meta.get("name") == "not_null":
            tests_nn.add(col)
        elif meta.get("name") == "not_null_columns":
            tests_nn.update(meta["kwargs"]["columns"])
        elif meta.get("name") == "accepted_values":
            tests_av[col] = meta["kwargs"]["values"]
    assert tests_nn - {"x_RowId"} == set(not_null)
    assert tests_av == accepted
