"""Ingest: detection from content, exact source totals, idempotency, supersession, bad input."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.ingest.detect import detect, to_snake
from dagster_project.lib.ingest.loader import ingest_landing, ingest_paths

REAL = Path(__file__).parent / "fixtures" / "real"

# (path, family, format, version, dataset_type, billed_total, effective_total)
# Totals: shared/samples/SOURCES.md ("Main cost total"), reproduced to the last decimal.
SAMPLES = [
    ("aws/cur_legacy_csv_anonymized_canada/sample-anonymous-aws-export-dataset.csv",
     "aws_cur_legacy", "csv", "1", "cost", "1.6823086974", "1.6823086974"),
    ("aws/cur_legacy_parquet_wa_labs_workshop/Oct2018-WorkshopCUR-00001.snappy.parquet",
     "aws_cur_legacy", "parquet", "1", "cost", "4064.4831315379", "4195.9571093179"),
    ("azure/ea_cost_details_actual_trey_research/EA_ActualCost_Small.csv",
     "azure_cost_details", "csv", "2019-10", "actual", "8.5450077867419368", None),
    ("azure/ea_cost_details_amortized_trey_research/EA_AmortizedCost_Small.csv",
     "azure_cost_details", "csv", "2019-10", "amortized", None, "16.296932136636644627485419"),
    ("azure/ea_cost_details_anonymized_cad/sample-anonymous-ea-export-dataset.csv",
     "azure_cost_details", "csv", "2019-10", "actual", "1.26136926505726", None),
    ("azure/mca_cost_details_actual_camelcase/camel_v2.csv",
     "azure_cost_details", "csv", "2023-05", "actual", "0.0000262412", None),
    ("gcp/bigquery_standard_export_csv_with_credits/evidence-2019-06-03.csv",
     "gcp_billing", "csv", "standard", "cost", "0", "0"),
    ("gcp/bigquery_detailed_export_csv/2022-08-01_5.csv",
     "gcp_billing", "csv", "detailed", "cost", "0.000012", "0.000012"),
    ("multi/focus_1.0_finops_foundation_sample/focus_sample.csv",
     "focus", "csv", "1.0", "focus", "20.52022672899", "14.97651418586"),
    ("oci/cost_report_csv_native/reports_cost-csv_0000000030000269.csv",
     "oci_cost_report", "csv", "1", "cost", "2.523589325400648027", "2.523589325400648027"),
]


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def test_to_snake_matches_athena_cur_names():
    assert to_snake("lineItem/UnblendedCost") == "line_item_unblended_cost"
    assert to_snake("reservation/ReservationARN") == "reservation_reservation_a_r_n"
    assert to_snake("costInBillingCurrency") == "cost_in_billing_currency"
    assert to_snake("CostInBillingCurrency") == "cost_in_billing_currency"
    assert to_snake("service.id") == "service_id"
    assert to_snake("x_ServiceCode") == "x_service_code"


@pytest.mark.parametrize("rel,family,fmt,version,_dt,_b,_e", SAMPLES,
                         ids=[s[0].split("/")[0] + ":" + Path(s[0]).name for s in SAMPLES])
def test_detects_every_real_sample_from_content(tmp_path, rel, family, fmt, version, _dt, _b,
                                                _e):
    # Renamed to something misleading: detection must not look at the name.
    misleading = tmp_path / "focus_export.parquet.csv"
    shutil.copy(REAL / rel, misleading)
    det = detect(misleading)
    assert (det.family, det.source_format, det.schema_version) == (family, fmt, version)


@pytest.mark.parametrize("rel,family,fmt,version,dataset_type,billed,effective", SAMPLES,
                         ids=[Path(s[0]).name for s in SAMPLES])
def test_source_totals_are_exact(con, rel, family, fmt, version, dataset_type, billed,
                                 effective):
    result = ingest_paths(con, [REAL / rel])
    (outcome,) = result.outcomes
    assert outcome.status == "loaded", outcome.error
    assert outcome.dataset_type == dataset_type
    b, e = con.execute(
        "select sum(billed_total), sum(effective_total) from meta.deliveries").fetchone()
    assert (b is None) == (billed is None) and (billed is None or b == Decimal(billed))
    assert (e is None) == (effective is None) and (effective is None or e == Decimal(effective))


def test_azure_agreement_and_billing_account(con):
    ingest_paths(con, [REAL / "azure/mca_cost_details_actual_camelcase/camel_v2.csv",
                       REAL / "azure/ea_cost_details_actual_trey_research/EA_ActualCost_Small.csv"])
    rows = dict(con.execute(
        "select distinct _agreement, _billing_account_id from raw.azure_cost_details").fetchall())
    # MCA bills per billing profile; EA per enrollment (FinOps toolkit mapping).
    assert rows == {"MCA": "NF5V-BI6B-BG7-PGB", "EA": "8611537"}


def test_tags_from_one_column_per_tag_sources(con):
    ingest_paths(con, [REAL / "oci/cost_report_csv_native/reports_cost-csv_0000000030000269.csv"])
    tags = con.execute(
        "select _tags_json from raw.oci_cost_report where _tags_json like '%release%' limit 1"
    ).fetchone()[0]
    import json

    parsed = json.loads(tags)
    assert "DevRel\\redbull-analytics-hol-4cb4.release" in parsed  # backslash key kept intact


def test_loading_twice_is_a_no_op(con):
    first = ingest_landing(con, REAL)
    counts = con.execute("select count(*) from raw.focus").fetchone()
    second = ingest_landing(con, REAL)
    assert {o.status for o in second.outcomes} <= {"duplicate", "skipped"}
    assert len(first.by_status("loaded")) == 10
    assert con.execute("select count(*) from raw.focus").fetchone() == counts
    assert con.execute("select count(*) from meta.deliveries where not is_current").fetchone() \
        == (0,)


def _restated(src: Path, dest: Path, factor: str = "2") -> None:
    """A restatement of a CSV sample: every BilledCost/EffectiveCost doubled."""
    import csv

    with open(src, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    idx = [header.index("BilledCost"), header.index("EffectiveCost")]
    for r in rows[1:]:
        for i in idx:
            r[i] = str(Decimal(r[i]) * Decimal(factor))
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def test_redelivery_in_a_new_folder_supersedes_and_ledger_keeps_both(con, tmp_path):
    src = REAL / "multi/focus_1.0_finops_foundation_sample/focus_sample.csv"
    ingest_paths(con, [src])
    _restated(src, tmp_path / "delivery-2" / "focus.csv")
    ingest_paths(con, [tmp_path / "delivery-2" / "focus.csv"])
    current = con.execute(
        "select sum(billed_total) from meta.deliveries where is_current").fetchone()[0]
    old = con.execute(
        "select sum(billed_total) from meta.deliveries where not is_current").fetchone()[0]
    assert current == Decimal("20.52022672899") * 2
    assert old == Decimal("20.52022672899")
    assert con.execute("select count(*) from meta.load_ledger where status = 'loaded'"
                       ).fetchone() == (2,)
    # Both deliveries stay in raw for audit.
    assert con.execute("select count(*) from raw.focus").fetchone() == (2000,)


def test_overwritten_file_at_same_path_supersedes(con, tmp_path):
    src = REAL / "multi/focus_1.0_finops_foundation_sample/focus_sample.csv"
    target = tmp_path / "export" / "part-00001.csv"
    target.parent.mkdir()
    shutil.copy(src, target)
    ingest_paths(con, [target])
    _restated(src, target, "3")
    ingest_paths(con, [target])
    assert con.execute("select count(distinct file_id) from meta.deliveries where is_current"
                       ).fetchone() == (1,)
    assert con.execute("select sum(billed_total) from meta.deliveries where is_current"
                       ).fetchone()[0] == Decimal("20.52022672899") * 3


def test_parts_of_one_delivery_coexist(con, tmp_path):
    """Exports split into several files in one folder are parts, not re-deliveries."""
    import csv

    src = REAL / "multi/focus_1.0_finops_foundation_sample/focus_sample.csv"
    with open(src, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    folder = tmp_path / "BILLING_PERIOD=2024-09"
    folder.mkdir()
    for i, chunk in enumerate((rows[1:500], rows[500:])):
        with open(folder / f"part-{i}.csv", "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([rows[0], *chunk])
    ingest_landing(con, folder)
    assert con.execute("select sum(billed_total) from meta.deliveries where is_current"
                       ).fetchone()[0] == Decimal("20.52022672899")


# Bad input (every entry of docs/bad-input.md) is tested in tests/test_bad_inputs.py; killed
# loads in tests/test_crash_recovery.py; hostile names and values in tests/test_security.py.


def test_a_ledger_from_before_warnings_gains_the_column(con, tmp_path):
    con.execute("create schema meta")
    con.execute("""create table meta.load_ledger (
        file_id varchar not null, path varchar not null, file_name varchar, directory varchar,
        size_bytes bigint, modified_at timestamp, family varchar, provider varchar,
        source_format varchar, schema_version varchar, dataset_type varchar,
        status varchar not null, row_count bigint, billed_total decimal(38, 24),
        effective_total decimal(38, 24), error varchar, loaded_at timestamp not null)""")
    con.execute("insert into meta.load_ledger (file_id, path, status, loaded_at) "
                "values ('abc', '/old/file.csv', 'loaded', now())")
    (o,) = ingest_paths(con, [REAL / "multi/focus_1.0_finops_foundation_sample/focus_sample.csv"]
                        ).outcomes
    assert o.status == "loaded"
    assert con.execute("select path, warnings is null from meta.load_ledger order by loaded_at"
                       ).fetchall()[0] == ("/old/file.csv", True)
