"""The bad-input catalogue (docs/bad-input.md): one test per entry.

Every entry lands next to a good file in a landing folder and is loaded with `ingest_landing`.
A quarantined file gets one paragraph naming it (relative to the landing folder), the row and
column where known, and the problem; nothing of it reaches raw; the good file still loads.
A flagged file loads, with the warning in the ledger.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import shutil
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.ingest import loader
from dagster_project.lib.ingest.loader import ingest_landing

REAL = Path(__file__).parent / "fixtures" / "real"
GOOD = REAL / "gcp/bigquery_detailed_export_csv/2022-08-01_5.csv"
FOCUS_SAMPLE = REAL / "multi/focus_1.0_finops_foundation_sample/focus_sample.csv"
with open(FOCUS_SAMPLE, newline="", encoding="utf-8") as _fh:
    _SAMPLE = list(csv.reader(_fh))
FOCUS_HEADER, FOCUS_ROWS = _SAMPLE[0], _SAMPLE[1:]
AZURE_SAMPLE = REAL / "azure/ea_cost_details_actual_trey_research/EA_ActualCost_Small.csv"


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def focus_csv(rows: int = 3, header: list[str] | None = None, drop: str | None = None,
              **overrides: dict[int, str]) -> bytes:
    """A FOCUS CSV of the first `rows` sample rows; overrides: column -> {row index: value}."""
    head = list(header or FOCUS_HEADER)
    body = [list(r) for r in FOCUS_ROWS[:rows]]
    for col, values in overrides.items():
        for i, v in values.items():
            body[i][FOCUS_HEADER.index(col)] = v
    if drop:
        i = head.index(drop)
        head.pop(i)
        for r in body:
            r.pop(i)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([head, *body])
    return out.getvalue().encode()


CUR2_HEADER = ["bill_payer_account_id", "bill_billing_period_start_date",
               "line_item_line_item_type", "line_item_usage_start_date",
               "line_item_unblended_cost", "line_item_currency_code", "line_item_usage_amount",
               "resource_tags", "product"]


def cur2_csv(tags: str) -> bytes:
    row = ["111122223333", "2025-01-01T00:00:00Z", "Usage", "2025-01-03T00:00:00Z", "1.25",
           "USD", "2", tags, "{}"]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([CUR2_HEADER, row])
    return out.getvalue().encode()


def _gz_truncated_late() -> bytes:
    # More than the 1 MiB header probe decompresses, cut in the middle.
    data = b"".join(focus_csv(3).splitlines(keepends=True)[1:2]) * 6000
    gz = gzip.compress(focus_csv(0) + data)
    return gz[: len(gz) * 2 // 3]


def _line_too_long() -> bytes:
    return focus_csv(2, Tags={1: '{"blob": "' + "x" * 2_200_000 + '"}'})


def landing_with(tmp_path: Path, name: str, content: bytes) -> tuple[Path, Path]:
    landing = tmp_path / "landing"
    (landing / "good").mkdir(parents=True)
    shutil.copy(GOOD, landing / "good" / GOOD.name)
    bad = landing / "incoming" / name
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(content)
    return landing, bad


def _with_extra_column(content: bytes, name: str) -> bytes:
    """The CSV with one more column, `name`, holding 0 on every row."""
    rows = list(csv.reader(io.StringIO(content.decode())))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        [rows[0] + [name]] + [r + ["0"] for r in rows[1:]])
    return out.getvalue().encode()


def assert_one_paragraph(message: str, name: str, landing: Path) -> None:
    assert message.startswith(f"incoming/{name}"), message  # relative to the landing folder
    assert "\n" not in message and "Traceback" not in message, message
    assert str(landing) not in message, message  # no absolute path anywhere in it


# (entry id, file name, content, fragment the message must contain, row, column)
QUARANTINED = [
    ("empty_file", "empty.csv", b"", "is empty (0 bytes)", None, None),
    ("blank_lines_only", "blank.csv", b"\n\n  \n", "is empty: it has no header", None, None),
    ("header_only", "header_only.csv", focus_csv(0), "has a header but no data rows", None,
     None),
    ("truncated_gzip_at_start", "cut.csv.gz", gzip.compress(focus_csv(50))[:40],
     "truncated or corrupt", None, None),
    ("truncated_gzip_after_header", "cut_late.csv.gz", _gz_truncated_late(),
     "truncated or corrupt", None, None),
    ("not_a_billing_export", "notes.csv", b"hello,world\n1,2\n",
     "is not a recognised billing export", None, None),
    ("unknown_schema_version", "focus_preview.csv",
     b"BilledCost,ChargePeriodStart,BillingPeriodStart,ChargeType\n1,2,3,4\n",
     "unsupported schema version", None, None),
    ("missing_mandatory_column", "no_currency.csv", focus_csv(2, drop="BillingCurrency"),
     "missing mandatory column(s) billing_currency", None, None),
    ("duplicate_column_names", "dupes.csv",
     _with_extra_column(focus_csv(3), "billed_cost"),
     "duplicate column names: 'BilledCost' and 'billed_cost'", None, "billed_cost"),
    ("nameless_header_column", "nameless.csv", _with_extra_column(focus_csv(3), ""),
     "header column 45 has no name", None, None),
    ("wrong_delimiter_semicolon", "semicolons.csv", b"a;b;c;d;e\n1;2;3;4;5\n",
     "uses ';' as its delimiter", None, None),
    ("wrong_delimiter_tab", "tabs.csv", b"a\tb\tc\td\n1\t2\t3\t4\n", "uses '\\t' as its delimiter",
     None, None),
    ("non_utf8_header", "latin1_header.csv",
     b"BilledCost,ChargePeriodStart,BillingPeriodStart,Ser\xe9\n1,2,3,4\n",
     "is not UTF-8 text (invalid byte 0xe9", None, None),
    ("non_utf8_data_row", "latin1_row.csv",
     focus_csv(3, ChargeDescription={2: "Caf-e-Latte"}).replace(b"Caf-e-", b"Caf\xe9"),
     "is not UTF-8 text (invalid byte 0xe9 on line 4)", None, None),
    ("unparseable_date", "bad_date.csv", focus_csv(3, ChargePeriodStart={1: "yesterday-ish"}),
     "unparseable date 'yesterday-ish'", 2, "charge_period_start"),
    ("cost_column_with_text", "text_cost.csv",
     focus_csv(3, BilledCost={2: "twelve dollars"}), "non-numeric amount 'twelve dollars'", 3,
     "billed_cost"),
    ("amount_beyond_exact_range", "huge_amount.csv", focus_csv(2, BilledCost={0: "1e20"}),
     "outside the exact money range", 1, "billed_cost"),
    ("mixed_currencies_one_account_period", "mixed.csv",
     focus_csv(3, BillingCurrency={1: "EUR"}), "mixes currencies (EUR, USD)", 2, None),
    ("missing_billing_account", "no_account.csv", focus_csv(3, BillingAccountId={2: ""}),
     "has a row with no billing account id", 3, None),
    ("row_with_too_few_fields", "ragged.csv", focus_csv(3) + b"1,2,3\n",
     f"it has 3 field(s) where the header has {len(FOCUS_HEADER)}", 4, None),
    ("unterminated_quote", "open_quote.csv", focus_csv(3) + b'1,2,"unterminated\n',
     "is not well-formed CSV", None, None),
    ("corrupt_parquet", "broken.parquet", b"PAR1" + os.urandom(64),
     "is not a readable Parquet file", None, None),
    ("gzipped_parquet", "data.parquet.gz",
     gzip.compress(b"PAR1" + b"\x00" * 32 + b"PAR1"), "gzip-compressed Parquet", None, None),
    ("json_not_ndjson", "array.json", b'[{"billing_account_id": "x"}]\n',
     "is JSON but not newline-delimited JSON objects", None, None),
    ("cur2_tags_not_json", "cur2_bad_tags.csv", cur2_csv("{user_team: search"),
     "tags are not a JSON object", 1, "resource_tags"),
    ("line_longer_than_reader_limit", "long_line.csv", _line_too_long(),
     "line longer than the CSV reader's 2 MB limit", None, None),
]


@pytest.mark.parametrize("entry,name,content,fragment,row,column", QUARANTINED,
                         ids=[q[0] for q in QUARANTINED])
def test_quarantined(con, tmp_path, entry, name, content, fragment, row, column):
    landing, bad = landing_with(tmp_path, name, content)
    result = ingest_landing(con, landing, settle=0)
    by_name = {Path(o.path).name: o for o in result.outcomes}
    outcome = by_name[name]
    assert outcome.status == "quarantined", (entry, outcome)
    assert_one_paragraph(outcome.error, name, landing)
    assert fragment in outcome.error, outcome.error
    if row is not None:
        assert f"(row {row}" in outcome.error, outcome.error
    if column is not None:
        assert f"column {column!r}" in outcome.error, outcome.error
    # The good file beside it still loads; the ledger keeps the reason; raw has nothing of it.
    assert by_name[GOOD.name].status == "loaded"
    assert con.execute("select status, error from meta.load_ledger where path = ?",
                       [str(bad)]).fetchall() == [("quarantined", outcome.error)]
    assert con.execute(
        "select count(*) from (select _file_id from raw.focus union all select _file_id from "
        "raw.aws_cur2 union all select _file_id from raw.gcp_billing) where _file_id = ?",
        [outcome.file_id]).fetchone() == (0,)
    # A rerun reports the same file again and loads nothing twice.
    again = {Path(o.path).name: o for o in ingest_landing(con, landing, settle=0).outcomes}
    assert again[name].status == "quarantined" and again[GOOD.name].status == "duplicate"


# (entry id, file name, content, fragment of the warning, row, column)
FLAGGED = [
    ("absurd_amount", "absurd.csv", focus_csv(3, BilledCost={1: "2500000000.00"}),
     "1 row(s) with an amount of 1000000000 or more", 2, "billed_cost"),
    ("negative_usage_quantity", "negative_usage.csv",
     focus_csv(3, ConsumedQuantity={0: "-3.5"}), "negative usage quantity (first: -3.5)", 1,
     "consumed_quantity"),
    ("tags_invalid_json", "tags_invalid.csv", focus_csv(3, Tags={2: '{"team": "search'}),
     "tags are not a JSON object", 3, "tags"),
    ("tags_deeply_nested", "tags_nested.csv",
     focus_csv(3, Tags={0: '{"team": ' + "[" * 500 + "1" + "]" * 500 + "}"}),
     "tags nest objects or lists", 1, "tags"),
    ("tags_huge", "tags_huge.csv",
     focus_csv(3, Tags={1: '{"blob": "' + "x" * 100_000 + '"}'}),
     "tags are longer than 65536 characters", 2, "tags"),
    ("tags_duplicate_keys", "tags_duplicate.csv",
     focus_csv(3, Tags={1: '{"team": "search", "team": "ads"}'}),
     "tags give the same key twice", 2, "tags"),
]


@pytest.mark.parametrize("entry,name,content,fragment,row,column", FLAGGED,
                         ids=[f[0] for f in FLAGGED])
def test_flagged_and_loaded(con, tmp_path, entry, name, content, fragment, row, column):
    landing, bad = landing_with(tmp_path, name, content)
    result = ingest_landing(con, landing, settle=0)
    outcome = {Path(o.path).name: o for o in result.outcomes}[name]
    assert outcome.status == "loaded", outcome.error
    (warning,) = [w for w in outcome.warnings if fragment in w]
    assert_one_paragraph(warning, name, landing)
    assert f"(row {row}, column {column!r})" in warning
    ledger = con.execute("select status, warnings from meta.load_ledger where path = ?",
                         [str(bad)]).fetchone()
    assert ledger[0] == "loaded" and warning in ledger[1]
    # Flagged rows are loaded, not dropped: the file's rows all reach raw, values verbatim.
    expected_rows = content.count(b"\n") - 1
    assert con.execute("select count(*) from raw.focus where _file_id = ?",
                       [outcome.file_id]).fetchone() == (expected_rows,)


def test_absurd_amount_threshold_is_configurable(con, tmp_path, monkeypatch):
    monkeypatch.setenv("MLCOST_ABSURD_AMOUNT", "1e10")
    landing, _ = landing_with(tmp_path, "absurd.csv",
                              focus_csv(3, BilledCost={1: "2500000000.00"}))
    outcome = {Path(o.path).name: o for o in ingest_landing(con, landing, settle=0).outcomes}
    assert outcome["absurd.csv"].status == "loaded"
    assert outcome["absurd.csv"].warnings == []


def test_refund_with_negative_quantity_is_not_flagged(con, tmp_path):
    content = focus_csv(3, ConsumedQuantity={0: "-3.5"}, ChargeClass={0: "Correction"})
    landing, _ = landing_with(tmp_path, "refund.csv", content)
    outcome = {Path(o.path).name: o for o in ingest_landing(con, landing, settle=0).outcomes}
    assert outcome["refund.csv"].status == "loaded"
    assert not [w for w in outcome["refund.csv"].warnings if "negative" in w]


def test_azure_tags_without_braces_are_valid(con, tmp_path):
    """Azure writes tags as `"k": "v"` pairs; only malformed ones are flagged."""
    with open(AZURE_SAMPLE, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    tags = rows[0].index("Tags")
    rows[1][tags] = '"team": "search", "env": "prod"'
    rows[2][tags] = '"team": "search'
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    landing, _ = landing_with(tmp_path, "azure.csv", out.getvalue().encode())
    outcome = {Path(o.path).name: o for o in ingest_landing(con, landing, settle=0).outcomes}
    (warning,) = outcome["azure.csv"].warnings
    assert "(row 2, column 'tags'): has 1 row(s) whose tags are not a JSON object" in warning


# --- entries that are not about one file's content ----------------------------------------


def test_delivery_manifest_is_skipped_not_quarantined(con, tmp_path):
    landing, _ = landing_with(tmp_path, "manifest.json",
                              b'{"manifestVersion": "2024-04-01", "blobs": []}')
    outcomes = {Path(o.path).name: o for o in ingest_landing(con, landing, settle=0).outcomes}
    assert {k: o.status for k, o in outcomes.items()} == {"manifest.json": "skipped",
                                                         GOOD.name: "loaded"}
    assert outcomes["manifest.json"].error == (
        "incoming/manifest.json: export delivery manifest, no billing rows")


def test_same_bytes_under_another_name_is_a_no_op(con, tmp_path):
    landing, _ = landing_with(tmp_path, "copy-of-good.csv", GOOD.read_bytes())
    result = ingest_landing(con, landing, settle=0)
    assert sorted(o.status for o in result.outcomes) == ["duplicate", "loaded"]
    assert con.execute("select count(distinct _file_id), count(*) = max(_row_number) "
                       "from raw.gcp_billing").fetchone() == (1, True)
    # The copy is noted once in the ledger, as a duplicate.
    assert con.execute("select status, count(*) from meta.load_ledger group by all order by 1"
                       ).fetchall() == [("duplicate", 1), ("loaded", 1)]
    ingest_landing(con, landing, settle=0)
    assert con.execute("select count(*) from meta.load_ledger").fetchone() == (2,)


def test_file_still_being_written_waits_for_the_next_run(con, tmp_path):
    landing, bad = landing_with(tmp_path, "fresh.csv", focus_csv(3))
    old = time.time() - 3600
    os.utime(landing / "good" / GOOD.name, (old, old))
    first = {Path(o.path).name: o for o in ingest_landing(con, landing, settle=30).outcomes}
    assert first[GOOD.name].status == "loaded"
    waiting = first["fresh.csv"]
    assert waiting.status == "waiting"
    assert waiting.error.startswith("incoming/fresh.csv: was modified")
    assert "left for the next run" in waiting.error and "MLCOST_SETTLE_SECONDS" in waiting.error
    # Not quarantined, nothing in the ledger: the next run (once settled) loads it.
    assert con.execute("select count(*) from meta.load_ledger where path = ?",
                       [str(bad)]).fetchone() == (0,)
    os.utime(bad, (old, old))
    second = {Path(o.path).name: o.status
              for o in ingest_landing(con, landing, settle=30).outcomes}
    assert second == {"fresh.csv": "loaded", GOOD.name: "duplicate"}


def test_file_growing_during_the_read_waits(con, tmp_path, monkeypatch):
    landing, bad = landing_with(tmp_path, "growing.csv", focus_csv(3))
    real_sha = loader.sha256_file

    def sha_while_appending(path):
        digest = real_sha(path)
        if path.name == "growing.csv":  # the writer appends one more row meanwhile
            with open(path, "ab") as fh:
                fh.write(focus_csv(4).splitlines(keepends=True)[-1])
            os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
        return digest

    monkeypatch.setattr(loader, "sha256_file", sha_while_appending)
    outcome = {Path(o.path).name: o for o in ingest_landing(con, landing, settle=0).outcomes}
    assert outcome["growing.csv"].status == "waiting"
    assert "changed while it was being read" in outcome["growing.csv"].error
    assert con.execute("select count(*) from raw.focus").fetchone() == (0,)


def test_symlink_loop_in_the_landing_folder(con, tmp_path):
    landing, _ = landing_with(tmp_path, "export.csv", focus_csv(3))
    (landing / "incoming" / "loop").symlink_to(landing, target_is_directory=True)
    (landing / "incoming" / "self").symlink_to(landing / "incoming", target_is_directory=True)
    result = ingest_landing(con, landing, settle=0)
    assert sorted(o.status for o in result.outcomes) == ["loaded", "loaded"]


def test_path_names_with_dots_and_spaces(con, tmp_path):
    landing = tmp_path / "my landing"
    folder = landing / "AWS exports (Jan..Mar)" / "part 1"
    folder.mkdir(parents=True)
    (folder / "cost..report 2024.csv").write_bytes(focus_csv(3))
    # The landing folder given through `..` is the same folder.
    result = ingest_landing(con, tmp_path / "my landing" / ".." / "my landing", settle=0)
    (o,) = result.outcomes
    assert o.status == "loaded"
    assert con.execute("select path, file_name from meta.load_ledger").fetchone() == (
        str(tmp_path / "my landing" / ".." / "my landing" / "AWS exports (Jan..Mar)" / "part 1"
            / "cost..report 2024.csv"), "cost..report 2024.csv")
    bad = folder / "bad..name 1.csv"
    bad.write_bytes(focus_csv(0))
    (q,) = ingest_landing(con, landing, settle=0).by_status("quarantined")
    assert q.error.startswith("AWS exports (Jan..Mar)/part 1/bad..name 1.csv: ")


# --- supersession and overlapping deliveries ------------------------------------------------


def _restated(factor: str, rows: list[list[str]] | None = None) -> bytes:
    body = [list(r) for r in (rows or FOCUS_ROWS)]
    for r in body:
        for col in ("BilledCost", "EffectiveCost"):
            i = FOCUS_HEADER.index(col)
            r[i] = str(Decimal(r[i]) * Decimal(factor))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([FOCUS_HEADER, *body])
    return out.getvalue().encode()


SAMPLE_BILLED = Decimal("20.52022672899")
GCP_ACCOUNT = "018984-D0AAA4-940B88"  # the one billing account of GOOD, invoice month 2022-08


def _current_billed(con) -> Decimal:
    return con.execute("select sum(billed_total) from meta.deliveries where is_current"
                       ).fetchone()[0]


def _write(path: Path, content: bytes, age: float = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if age:
        t = time.time() - age
        os.utime(path, (t, t))


def test_month_delivered_twice_with_different_content_supersedes(con, tmp_path):
    landing = tmp_path / "landing"
    _write(landing / "2024-09-v1" / "focus.csv", FOCUS_SAMPLE.read_bytes(), age=100)
    _write(landing / "2024-09-v2" / "focus.csv", _restated("2"), age=50)
    ingest_landing(con, landing, settle=0)
    assert _current_billed(con) == SAMPLE_BILLED * 2
    rows = con.execute(
        "select l.path like '%v1%', l.status, bool_and(d.is_current), "
        "bool_and(coalesce(d.superseded_by, '') = "
        "(select file_id from meta.load_ledger where path like '%v2%')) "
        "from meta.load_ledger l join meta.deliveries d using (file_id) "
        "group by all order by 1").fetchall()
    # The ledger keeps both; every slice of v1 is superseded by v2.
    assert rows == [(False, "loaded", True, False), (True, "loaded", False, True)]


def test_overlapping_periods_supersede_only_the_overlap(con, tmp_path):
    """Delivery A covers Aug+Sep, B (newer, another folder) Sep+Oct: A's Aug stays current."""
    def shifted(month: str) -> list[list[str]]:
        rows = [list(r) for r in FOCUS_ROWS[:5]]
        for r in rows:
            for col in ("BillingPeriodStart", "ChargePeriodStart", "ChargePeriodEnd"):
                i = FOCUS_HEADER.index(col)
                r[i] = month + r[i][7:]
            i = FOCUS_HEADER.index("BillingPeriodEnd")
            r[i] = "2099-01-01 00:00:00"
        return rows

    landing = tmp_path / "landing"
    _write(landing / "a" / "x.csv", _restated("1", shifted("2024-08") + shifted("2024-09")),
           age=100)
    _write(landing / "b" / "x.csv", _restated("3", shifted("2024-09") + shifted("2024-10")),
           age=50)
    ingest_landing(con, landing, settle=0)
    current = con.execute(
        "select split_part(path, '/', -2), strftime(billing_period, '%Y-%m'), is_current "
        "from meta.deliveries order by 2, 1").fetchall()
    assert current == [("a", "2024-08", True), ("a", "2024-09", False), ("b", "2024-09", True),
                       ("b", "2024-10", True)]


def test_native_and_focus_export_of_one_slice_in_one_folder(con, tmp_path):
    """Same slice twice in one folder, as two kinds of export: the second is refused."""
    landing = tmp_path / "landing"
    _write(landing / "shared" / "focus.csv", focus_csv(5, ProviderName={
        i: "Google Cloud" for i in range(5)}, BillingAccountId={i: GCP_ACCOUNT
                                                                  for i in range(5)},
        BillingPeriodStart={i: "2022-08-01 00:00:00" for i in range(5)}), age=100)
    _write(landing / "shared" / "native.csv", GOOD.read_bytes(), age=50)
    result = {Path(o.path).name: o for o in ingest_landing(con, landing, settle=0).outcomes}
    assert result["focus.csv"].status == "loaded"
    native = result["native.csv"]
    assert native.status == "quarantined"
    assert native.error.startswith("shared/native.csv: is a gcp_billing export (cost) of the "
                                   "same slice (provider gcp, billing account "
                                   "018984-D0AAA4-940B88, billing period 2022-08) as "
                                   "shared/focus.csv (focus, focus) in the same folder")
    assert "so shared/focus.csv stays loaded and this file is not" in native.error
    assert con.execute("select count(*) from meta.deliveries where is_current").fetchone() \
        == (1,)
    # The fix the message suggests: the same bytes, moved to a folder of their own, load and
    # supersede the other export.
    moved = landing / "native-redelivery" / "native.csv"
    moved.parent.mkdir()
    (landing / "shared" / "native.csv").rename(moved)
    again = {Path(o.path).name: o for o in ingest_landing(con, landing, settle=0).outcomes}
    assert again["native.csv"].status == "loaded", again["native.csv"].error
    assert con.execute("select family from meta.deliveries where is_current").fetchall() \
        == [("gcp_billing",)]


def test_native_and_focus_export_of_one_slice_in_two_folders(con, tmp_path):
    """In separate folders the newer export of the slice supersedes the older one."""
    landing = tmp_path / "landing"
    _write(landing / "gcp" / "native.csv", GOOD.read_bytes(), age=100)
    _write(landing / "focus" / "focus.csv", focus_csv(5, ProviderName={
        i: "Google Cloud" for i in range(5)}, BillingAccountId={i: GCP_ACCOUNT
                                                                  for i in range(5)},
        BillingPeriodStart={i: "2022-08-01 00:00:00" for i in range(5)}), age=50)
    ingest_landing(con, landing, settle=0)
    assert con.execute("select family, is_current from meta.deliveries order by 1").fetchall() \
        == [("focus", True), ("gcp_billing", False)]


def test_same_slice_from_two_folders(con, tmp_path):
    landing = tmp_path / "landing"
    _write(landing / "bucket-a" / "focus.csv", FOCUS_SAMPLE.read_bytes(), age=100)
    _write(landing / "bucket-b" / "focus-restated.csv", _restated("3"), age=50)
    ingest_landing(con, landing, settle=0)
    assert _current_billed(con) == SAMPLE_BILLED * 3
    assert con.execute("select bool_and(path like '%bucket-a%') from meta.deliveries "
                       "where not is_current").fetchone() == (True,)


def test_second_copy_of_one_export_in_one_folder(con, tmp_path):
    """A re-download saved beside the first (`export (1).csv`) repeats its rows: refused."""
    landing = tmp_path / "landing"
    _write(landing / "exports" / "export.csv", FOCUS_SAMPLE.read_bytes(), age=100)
    _write(landing / "exports" / "export (1).csv", _restated("1", FOCUS_ROWS[:900]), age=50)
    result = {Path(o.path).name: o for o in ingest_landing(con, landing, settle=0).outcomes}
    copy = result["export (1).csv"]
    assert copy.status == "quarantined"
    assert copy.error.startswith("exports/export (1).csv: repeats rows of exports/export.csv")
    assert _current_billed(con) == SAMPLE_BILLED


def test_parts_of_one_delivery_still_coexist(con, tmp_path):
    landing = tmp_path / "landing"
    _write(landing / "BILLING_PERIOD=2024-09" / "part-1.csv", _restated("1", FOCUS_ROWS[:400]),
           age=100)
    _write(landing / "BILLING_PERIOD=2024-09" / "part-2.csv", _restated("1", FOCUS_ROWS[400:]),
           age=50)
    result = ingest_landing(con, landing, settle=0)
    assert [o.status for o in result.outcomes] == ["loaded", "loaded"]
    assert _current_billed(con) == SAMPLE_BILLED


def test_file_larger_than_memory_streams(tmp_path):
    """A 130 MB export with DuckDB limited to 96 MB loads: reading, validating and totalling
    stream through DuckDB (spilling to disk), and Python never holds the rows."""
    from dagster_project.lib.warehouse import connection

    landing = tmp_path / "landing"
    landing.mkdir()
    big = landing / "utilization.csv"
    with duckdb.connect() as gen:  # written by DuckDB: seconds, not minutes, in Python
        gen.execute(
            "copy (select '2026-0' || (1 + i % 3) || '-' || lpad((1 + i % 28)::varchar, 2, '0')"
            " as metric_date, 'aws' as provider, 'arn:aws:sagemaker:us-east-1:123456789012:"
            "endpoint/model-' || (i % 50000) as resource_id, 'gpu_utilization_pct' as "
            "metric_name, (i % 100)::varchar || '.5' as value, 'Percent' as unit "
            "from range(1200000) t(i)) to '" + str(big).replace("'", "''") + "' (header)")
    size = big.stat().st_size
    assert size > 1.3 * 96 * 2**20  # well beyond the memory limit below
    with connection(tmp_path / "wh.duckdb") as con:
        con.execute("set memory_limit = '96MB'")
        (outcome,) = ingest_landing(con, landing, settle=0).outcomes
        assert outcome.status == "loaded", outcome.error
        assert outcome.rows == 1_200_000
        assert con.execute("select count(*), max(_row_number) from raw.utilization_metrics"
                           ).fetchone() == (1_200_000, 1_200_000)


def test_unreadable_file_is_reported_and_left_for_the_next_run(con, tmp_path, monkeypatch,
                                                               caplog):
    landing, bad = landing_with(tmp_path, "locked.csv", focus_csv(3))
    real_sha = loader.sha256_file

    def denied(path):
        if path.name == "locked.csv":
            raise PermissionError(13, "Permission denied", str(path))
        return real_sha(path)

    monkeypatch.setattr(loader, "sha256_file", denied)
    outcome = {Path(o.path).name: o for o in ingest_landing(con, landing, settle=0).outcomes}
    assert outcome[GOOD.name].status == "loaded"
    assert outcome["locked.csv"].status == "waiting"
    assert outcome["locked.csv"].error == (
        "incoming/locked.csv: cannot be read (Permission denied); left for the next run.")
    assert any(r.levelname == "WARNING" and "locked.csv" in r.getMessage()
               for r in caplog.records)
