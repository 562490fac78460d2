"""Real exports that used to be refused or misnamed (issue #12): each case lands beside a good
export in one landing folder; the good one always loads.

The exports are the real samples in tests/fixtures/real with the one thing changed that a real
customer's export had: case-distinct tag columns, hostile tag values, a blank currency on
zero-cost rows, and the bad files the issue lists. The catalogue is docs/bad-input.md.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.lib.ingest.detect import to_snake
from dagster_project.lib.ingest.loader import ingest_landing
from dagster_project.lib.warehouse import connection
from tests.conftest import run_dbt

REAL = Path(__file__).parent / "fixtures" / "real"
GOOD = REAL / "gcp/bigquery_detailed_export_csv/2022-08-01_5.csv"
CUR = REAL / "aws/cur_legacy_csv_anonymized_canada/sample-anonymous-aws-export-dataset.csv"
CUR_PARQUET = (REAL / "aws/cur_legacy_parquet_wa_labs_workshop"
               / "Oct2018-WorkshopCUR-00001.snappy.parquet")
OCI = REAL / "oci/cost_report_csv_native/reports_cost-csv_0000000030000269.csv"
AZURE = REAL / "azure/ea_cost_details_actual_trey_research/EA_ActualCost_Small.csv"

# Three tag columns whose keys differ only by case: AWS keys are case-sensitive, so these are
# three tags. Row 1: the exact canonical key `user:team` is present and wins. Row 2: only case
# variants, so the key first in byte order wins (`user:TEAM` < `user:Team`).
CASE_TAGS = ["resourceTags/user:Team", "resourceTags/user:team", "resourceTags/user:TEAM"]
CASE_VALUES = {
    1: ["fraud-detection", "search-ranking", ""],
    2: ["recommendations", "", "fraud-detection"],
}
HOSTILE = {
    "resourceTags/user:Team": "x'); drop table raw.aws_cur_legacy; --",
    "resourceTags/user:team": "<script>alert(\"tags\")</script> & &amp;",
    "resourceTags/user:TEAM": "\" or 1=1 -- 'single' `tick` $1 {{ var('x') }}",
}


def _read(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding=encoding) as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _csv(header: list[str], body: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    return out.getvalue().encode()


def cur_csv(rows: int = 20, *, tags: dict[int, list[str]] | None = None,
            drop: str | None = None, **overrides: dict[int, str]) -> bytes:
    """The first `rows` rows of the real legacy CUR, with the three case-distinct tag columns
    (values by 1-based row) and per-column overrides (header -> {1-based row: value})."""
    header, body = _read(CUR)
    body = [r + ["", "", ""] for r in body[:rows]]
    header = header + CASE_TAGS
    for row, values in (tags if tags is not None else CASE_VALUES).items():
        if row <= len(body):
            body[row - 1][-3:] = values
    for col, values in overrides.items():
        i = header.index(col.replace("__", "/"))
        for row, value in values.items():
            body[row - 1][i] = value
    if drop:
        i = header.index(drop)
        header.pop(i)
        for r in body:
            r.pop(i)
    return _csv(header, body)


def oci_gbp(blank_nonzero: bool = False) -> bytes:
    """The real OCI report billed in GBP, with an empty currency cell on its zero-cost rows
    (as a real GBP report has); optionally also on one row that costs something."""
    header, body = _read(OCI)
    cost, cur = header.index("cost/myCost"), header.index("cost/currencyCode")
    for i, r in enumerate(body):
        r[cur] = "GBP"
        if i % 5 == 1:  # every fifth row costs nothing and has no currency
            r[cost], r[cur] = "0", ""
    if blank_nonzero:
        body[7][cur] = ""
    return _csv(header, body)


def land(tmp_path: Path, files: dict[str, bytes]) -> Path:
    landing = tmp_path / "landing"
    (landing / "incoming").mkdir(parents=True)
    (landing / "incoming" / GOOD.name).write_bytes(GOOD.read_bytes())
    for name, content in files.items():
        (landing / "incoming" / name).write_bytes(content)
    return landing


def load(con, landing: Path) -> dict:
    result = ingest_landing(con, landing, settle=0)
    by_name = {Path(o.path).name: o for o in result.outcomes}
    assert by_name[GOOD.name].status == "loaded", by_name[GOOD.name].error
    return by_name


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def _tags(con, table: str, file_id: str) -> list[dict | None]:
    return [json.loads(t) if t else None for (t,) in con.execute(
        f"select _tags_json from raw.{table} where _file_id = ? order by _row_number",  # noqa: S608
        [file_id]).fetchall()]


def test_case_distinct_tag_columns_load_as_distinct_tags(con, tmp_path):
    landing = land(tmp_path, {"cur.csv": cur_csv()})
    outcome = load(con, landing)["cur.csv"]
    assert outcome.status == "loaded", outcome.error
    assert outcome.rows == 20
    tags = _tags(con, "aws_cur_legacy", outcome.file_id)
    assert tags[0] == {"user:Team": "fraud-detection", "user:team": "search-ranking"}
    assert tags[1] == {"user:Team": "recommendations", "user:TEAM": "fraud-detection"}
    assert tags[2] is None
    # The source total is the real file's, to the last digit.
    header, body = _read(CUR)
    cost = header.index("lineItem/UnblendedCost")
    assert outcome.slices[0]["billed_total"] == sum(Decimal(r[cost]) for r in body[:20])


def test_hostile_tag_values_are_kept_byte_for_byte(con, tmp_path):
    landing = land(tmp_path, {"cur.csv": cur_csv(tags={1: list(HOSTILE.values())})})
    outcome = load(con, landing)["cur.csv"]
    assert outcome.status == "loaded", outcome.error
    assert _tags(con, "aws_cur_legacy", outcome.file_id)[0] == {
        k.split("/", 1)[1]: v for k, v in HOSTILE.items()}
    assert con.execute("select count(*) from raw.aws_cur_legacy").fetchone() == (20,)


def test_athena_parquet_tag_columns_differing_by_case(con, tmp_path):
    table = pq.read_table(CUR_PARQUET).slice(0, 50)
    n = table.num_rows
    table = table.append_column("resource_tags_user_Team", pa.array(["ads"] + [None] * (n - 1)))
    table = table.append_column("resource_tags_user_team", pa.array(["search"] + [None] * (n - 1)))
    landing = tmp_path / "landing"
    (landing / "incoming").mkdir(parents=True)
    pq.write_table(table, landing / "incoming" / "cur.parquet")
    (landing / "incoming" / GOOD.name).write_bytes(GOOD.read_bytes())
    outcome = load(con, landing)["cur.parquet"]
    assert outcome.status == "loaded", outcome.error
    assert _tags(con, "aws_cur_legacy", outcome.file_id)[0] == {"user:Team": "ads",
                                                                 "user:team": "search"}


# (case, file content, fragment the message must contain, row, column). Every file also has the
# case-distinct tag columns, which used to hide its real problem behind "duplicate column names".
REFUSED = [
    ("header_only_cur", cur_csv(0), "has a header but no data rows", None, None),
    ("cur_missing_unblended_cost", cur_csv(drop="lineItem/UnblendedCost"),
     "missing mandatory column(s) line_item_unblended_cost (`lineItem/UnblendedCost`)", None,
     None),
    ("cur_unparseable_dates", cur_csv(lineItem__UsageStartDate={4: "31/11/2023 25:00"}),
     "unparseable date '31/11/2023 25:00'; expected a date", 4, "line_item_usage_start_date"),
    ("cur_na_costs", cur_csv(lineItem__UnblendedCost={3: "N/A", 5: "N/A"}),
     "non-numeric amount 'N/A'; expected a decimal number", 3, "line_item_unblended_cost"),
    # Several problems: the one that makes the file unusable is named.
    ("missing_column_and_bad_dates_and_na",
     cur_csv(drop="lineItem/UnblendedCost", lineItem__UsageStartDate={2: "soon"},
             lineItem__CurrencyCode={2: ""}),
     "missing mandatory column(s) line_item_unblended_cost", None, None),
    ("na_costs_and_bad_dates", cur_csv(lineItem__UnblendedCost={6: "N/A"},
                                       lineItem__UsageStartDate={2: "soon"}),
     "non-numeric amount 'N/A'", 6, "line_item_unblended_cost"),
    ("tag_header_given_twice", cur_csv().replace(b"user:TEAM", b"user:team", 1),
     "has the tag column for key 'user:team' twice (the same header, verbatim)", None, None),
    ("oci_blank_currency_on_a_cost_row", oci_gbp(blank_nonzero=True),
     "has a cost row with a blank currency and a non-zero cost", 8, "cost_currency_code"),
]


def _gcp_bad_invoice_month() -> bytes:
    header, body = _read(GOOD)
    body[3][header.index("invoice.month")] = "Aug 2022"
    return _csv(header, body)


REFUSED.append(("gcp_unreadable_invoice_month", _gcp_bad_invoice_month(),
                "billing period cannot be determined from 'Aug 2022'; expected a month as "
                "YYYYMM", 4, "invoice_month"))


@pytest.mark.parametrize("case,content,fragment,row,column", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_with_the_real_problem_named(con, tmp_path, case, content, fragment, row, column):
    landing = land(tmp_path, {f"{case}.csv": content})
    outcome = load(con, landing)[f"{case}.csv"]
    assert outcome.status == "quarantined"
    message = outcome.error
    assert message.startswith(f"incoming/{case}.csv"), message
    assert fragment in message, message
    assert "duplicate column names" not in message, message
    assert "\n" not in message and str(landing) not in message, message
    if row is not None:
        assert f"(row {row}" in message, message
    if column is not None:
        assert f"column {column!r}" in message, message
    assert con.execute("select count(*) from raw.aws_cur_legacy").fetchone() == (0,)
    assert con.execute("select count(*) from raw.oci_cost_report").fetchone() == (0,)
    assert con.execute("select count(*) from raw.gcp_billing where _file_id = ?",
                       [outcome.file_id]).fetchone() == (0,)


def test_oci_report_with_blank_currency_on_zero_cost_rows_loads(con, tmp_path):
    landing = land(tmp_path, {"oci.csv": oci_gbp()})
    outcome = load(con, landing)["oci.csv"]
    assert outcome.status == "loaded", outcome.error
    # One slice, in GBP: the zero-cost rows took the account's currency from the same file.
    assert [(s["currency"], s["rows"]) for s in outcome.slices] == [("GBP", 506)]
    assert con.execute(
        "select count(*) filter (where cost_currency_code is null), "
        "count(*) filter (where _currency = 'GBP') from raw.oci_cost_report").fetchone() \
        == (len(range(1, 506, 5)), 506)  # the raw cell stays as delivered; _currency is filled


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))


def _xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return out.getvalue()


NOT_TEXT = [
    ("screenshot.csv", _png(), "is a PNG image, not a billing export"),
    ("photo.csv", b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(32), "is a JPEG image"),
    ("invoice.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "is a PDF document"),
    ("export.csv", _xlsx(), "is an Excel workbook (XLSX), not a billing export"),
    ("export.csv.gz", gzip.compress(_png()), "is gzip-compressed; inside is a PNG "
     "image"),
    ("blob.csv", bytes(range(256)) * 4, "is a binary file of unknown type"),
    ("utf16.csv", "BilledCost,BillingCurrency\n1,USD\n".encode("utf-16"), "is UTF-16 text, not "
     "UTF-8"),
]


@pytest.mark.parametrize("name,content,fragment", NOT_TEXT, ids=[n[0] for n in NOT_TEXT])
def test_a_file_that_is_not_text_is_called_what_it_is(con, tmp_path, name, content, fragment):
    landing = land(tmp_path, {name: content})
    outcome = load(con, landing)[name]
    assert outcome.status == "quarantined"
    assert outcome.error.startswith(f"incoming/{name}: {fragment.split(',')[0]}"), outcome.error
    assert fragment in outcome.error, outcome.error


def test_a_duplicate_of_a_column_staging_reads_is_still_refused_and_says_why(con, tmp_path):
    header, body = _read(CUR)
    header = header + ["lineItem/unblendedCost"]  # folds onto lineItem/UnblendedCost
    body = [r + ["99"] for r in body[:5]]
    landing = land(tmp_path, {"dupe.csv": _csv(header, body)})
    outcome = load(con, landing)["dupe.csv"]
    assert outcome.status == "quarantined"
    assert ("has duplicate column names: 'lineItem/UnblendedCost' and 'lineItem/unblendedCost' "
            "(both read as 'line_item_unblended_cost'); mlcost reads this column") \
        in outcome.error


# ---------------------------------------------------------------------------------------------
# Through dbt: FOCUS Tags keep every case-distinct key, the team follows the documented
# precedence, and a GBP OCI report with blank currencies passes FOCUS's BillingCurrency test.


# CUR 2.0 writes tags as one map per row; `user_` becomes `user:` on the way to FOCUS.
CUR2_CASE_TAGS = json.dumps({"user_Team": "recommendations", "user_team": "ml-platform",
                             "user_cost-center": "a", "user_cost_center": "b"})


def _cur2_case_tags() -> bytes:
    """The real legacy CUR's rows as a CUR 2.0 export (snake_case columns, tags as one JSON
    map) of another payer account, so that it does not supersede the legacy file."""
    header, body = _read(CUR)
    payer = header.index("bill/PayerAccountId")
    body = [r + ["{}", "{}"] for r in body[:20]]
    for r in body:
        r[payer] = "999988887777"
    body[0][-2] = CUR2_CASE_TAGS
    return _csv([to_snake(h) for h in header] + ["resource_tags", "product"], body)


def _azure_case_tags() -> bytes:
    with open(AZURE, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    tags = header.index("Tags")
    body[0][tags] = '"Team": "recommendations","team": "ml-platform"'
    return _csv(header, body)


def _gcp_case_labels() -> bytes:
    header, body = _read(GOOD)
    labels = header.index("labels")
    body[0][labels] = json.dumps([{"key": "Team", "value": "recommendations"},
                                  {"key": "team", "value": "ml-platform"}])
    cur, cost = header.index("currency"), header.index("cost")
    assert Decimal(body[1][cost]) == 0
    body[1][cur] = ""  # a zero-cost GCP row with a blank currency: filled the same way
    return _csv(header, body)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("real_exports")
    landing = tmp / "landing"
    for folder, name, content in [
        ("aws", "cur.csv", cur_csv(tags={**CASE_VALUES, 3: list(HOSTILE.values())})),
        ("aws_cur2", "cur2.csv", _cur2_case_tags()),
        ("oci", "oci.csv", oci_gbp()),
        ("azure", "azure.csv", _azure_case_tags()),
        ("gcp", "gcp.csv", _gcp_case_labels()),
    ]:
        (landing / folder).mkdir(parents=True)
        (landing / folder / name).write_bytes(content)
    wh = tmp / "wh.duckdb"
    with connection(wh) as con:
        result = ingest_landing(con, landing, settle=0)
    assert [o.status for o in result.outcomes] == ["loaded"] * 5, result.errors
    res = run_dbt(wh, tmp / "target", ["build", "--select", "+focus_cost_and_usage",
                                       "+int_tag_sets_normalized"])
    assert res.success, res.output[-4000:]
    return wh


def _focus_tags(wh: Path, provider: str) -> list[dict]:
    with connection(wh, read_only=True) as con:
        return [json.loads(t) for (t,) in con.execute(
            'select "Tags" from focus.focus_cost_and_usage where "x_ProviderCode" = ? '
            'and "Tags" is not null order by "x_SourceRowNumber"', [provider]).fetchall()]


def test_focus_tags_keep_case_distinct_keys_verbatim(built):
    aws = _focus_tags(built, "aws")
    assert {"user:Team": "fraud-detection", "user:team": "search-ranking"} in aws
    assert {"user:Team": "recommendations", "user:TEAM": "fraud-detection"} in aws
    assert {k.split("/", 1)[1]: v for k, v in HOSTILE.items()} in aws
    assert {"user:Team": "recommendations", "user:team": "ml-platform",
            "user:cost-center": "a", "user:cost_center": "b"} in aws
    assert any(t.get("Team") == "recommendations" and t.get("team") == "ml-platform"
               for t in _focus_tags(built, "azure"))
    assert any(t.get("Team") == "recommendations" and t.get("team") == "ml-platform"
               for t in _focus_tags(built, "gcp"))


def test_team_follows_the_documented_precedence_between_case_variants(built):
    with connection(built, read_only=True) as con:
        (schema,) = con.execute("select table_schema from information_schema.tables "
                                "where table_name = 'int_tag_sets_normalized'").fetchone()
        teams = con.execute(
            f"select tags_json, tag_team from {schema}.int_tag_sets_normalized "  # noqa: S608
            "where provider = 'aws'").fetchall()
    by_tags = {frozenset(json.loads(k).items()): v for k, v in teams}
    # The exact canonical key `user:team` beats its case variants.
    assert by_tags[frozenset({"user:Team": "fraud-detection",
                              "user:team": "search-ranking"}.items())] == "search-ranking"
    # Only variants: the key first in byte order (`user:TEAM` < `user:Team`) wins.
    assert by_tags[frozenset({"user:Team": "recommendations",
                              "user:TEAM": "fraud-detection"}.items())] == "fraud-detection"


def test_blank_currencies_on_zero_cost_rows_reach_focus_filled(built):
    with connection(built, read_only=True) as con:
        rows = con.execute(
            'select "x_ProviderCode", "BillingCurrency", count(*) from focus.focus_cost_and_usage '
            "group by all order by all").fetchall()
    assert ("oci", "GBP", 506) in rows
    assert all(currency is not None for _, currency, _ in rows)


def test_focus_tags_with_case_distinct_keys_load_without_a_warning(con, tmp_path):
    header, body = _read(REAL / "multi/focus_1.0_finops_foundation_sample/focus_sample.csv")
    tags = header.index("Tags")
    body = body[:5]
    body[0][tags] = json.dumps({"Team": "ads", "team": "search", "cost-center": "1",
                                "cost_center": "2"})
    landing = land(tmp_path, {"focus.csv": _csv(header, body)})
    outcome = load(con, landing)["focus.csv"]
    assert outcome.status == "loaded", outcome.error
    assert outcome.warnings == []  # distinct keys, not "the same key twice"
    (raw,) = con.execute("select tags from raw.focus where _row_number = 1").fetchone()
    assert json.loads(raw) == {"Team": "ads", "team": "search", "cost-center": "1",
                               "cost_center": "2"}
