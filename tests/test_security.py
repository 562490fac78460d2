"""Ingest treats file names, column names and values as data: SQL-, HTML- and control-character
payloads are stored verbatim and reach FOCUS `Tags` untouched; nothing secret is logged."""

from __future__ import annotations

import ast
import csv
import io
import json
import logging
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.ingest.loader import ingest_landing
from dagster_project.lib.warehouse import connection
from tests.conftest import run_dbt

REAL = Path(__file__).parent / "fixtures" / "real"
FOCUS_SAMPLE = REAL / "multi/focus_1.0_finops_foundation_sample/focus_sample.csv"
INGEST_SRC = Path(__file__).parent.parent / "dagster_project" / "lib" / "ingest"

# Valid JSON objects whose keys and values are hostile text.
HOSTILE_TAGS = [
    json.dumps({"team": "x'); drop table raw.focus; --", "owner": "\" or 1=1 --"}),
    json.dumps({"<script>alert('tags')</script>": "<img src=x onerror=alert(1)>",
                "env": "&lt;prod&gt; & \"quoted\""}),
    json.dumps({"ctl": "bell\u0007 esc\u001b[31m tab\t nl\n cr\r nul\u0000",
                "bidi": "\u202egnp.exe", "emoji": "\U0001f680"}),
    json.dumps({"'\"`;--": "$$ $1 ? :name {{ var('x') }} %s"}),
]
HOSTILE_DIR = "x'); drop table meta.load_ledger; --"
HOSTILE_FILE = "\"; select 1; -- <b onclick=x>bold $(rm -rf ~) .. .csv"


def _hostile_focus_file(path: Path) -> None:
    with open(FOCUS_SAMPLE, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0] + ["x_Weird\"Col'; drop"], [r + ["v"] for r in rows[1:5]]
    tags = header.index("Tags")
    for r, tag in zip(body, HOSTILE_TAGS, strict=True):
        r[tags] = tag
    body[0][header.index("ChargeDescription")] = "Robert'); DROP TABLE raw.focus;--"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    path.parent.mkdir(parents=True)
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_warehouse(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("hostile")
    landing = tmp / "landing"
    hostile = landing / HOSTILE_DIR / HOSTILE_FILE
    _hostile_focus_file(hostile)
    wh = tmp / "wh.duckdb"
    with connection(wh) as con:
        (o,) = ingest_landing(con, landing, settle=0).outcomes
        assert o.status == "loaded", o.error
    return wh, hostile


def test_hostile_values_and_names_are_stored_verbatim(hostile_warehouse):
    wh, hostile = hostile_warehouse
    with connection(wh, read_only=True) as con:
        assert con.execute("select path, file_name, directory from meta.load_ledger").fetchall() \
            == [(str(hostile), HOSTILE_FILE, str(hostile.parent))]
        assert con.execute("select path from meta.deliveries").fetchall() == [(str(hostile),)]
        tags = [r[0] for r in con.execute(
            "select tags from raw.focus order by _row_number").fetchall()]
        assert tags == HOSTILE_TAGS
        assert con.execute("select charge_description, x_weird_col_drop from raw.focus "
                           "where _row_number = 1").fetchone() == (
            "Robert'); DROP TABLE raw.focus;--", "v")
        # Every table the payloads name is still there.
        assert con.execute("select count(*) from raw.focus").fetchone() == (4,)


def test_hostile_tags_reach_focus_tags_untouched(hostile_warehouse, tmp_path):
    wh, hostile = hostile_warehouse
    res = run_dbt(wh, tmp_path / "target",
                  ["build", "--select", "+focus_cost_and_usage", "--exclude",
                   "resource_type:test"])
    assert res.success, res.output[-3000:]
    with connection(wh, read_only=True) as con:
        rows = con.execute('select "Tags", "x_SourceFile", "ChargeDescription" '
                           'from focus.focus_cost_and_usage order by "x_SourceRowNumber"'
                           ).fetchall()
    assert [r[0] for r in rows] == HOSTILE_TAGS
    assert {r[1] for r in rows} == {str(hostile)}
    assert rows[0][2] == "Robert'); DROP TABLE raw.focus;--"


# Names that hold file-derived data in the loader; an f-string building SQL must not embed them
# (identifiers go through quote_ident, values are bound parameters).
DATA_NAMES = {"path", "shown", "landing", "file_id", "value", "values", "raw_name", "name",
              "account", "period", "currency", "limit", "other", "key", "columns", "canonical"}


def _sql_fstrings(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "execute" \
                and node.args and isinstance(node.args[0], ast.JoinedStr):
            yield node.args[0]


def test_no_sql_string_embeds_file_data():
    offenders, checked = [], 0
    for src in sorted(INGEST_SRC.glob("*.py")):
        tree = ast.parse(src.read_text())
        for fstring in _sql_fstrings(tree):
            checked += 1
            for part in fstring.values:
                if not isinstance(part, ast.FormattedValue):
                    continue
                expr = part.value
                if isinstance(expr, ast.Call) and getattr(expr.func, "id", "") == "quote_ident":
                    continue
                names = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)} | {
                    n.attr for n in ast.walk(expr) if isinstance(n, ast.Attribute)}
                if names & DATA_NAMES:
                    offenders.append(f"{src.name}:{part.lineno}: {ast.unparse(expr)}")
    assert checked > 10  # the loader's composed statements were all looked at
    assert offenders == []


def test_nothing_secret_is_logged(tmp_path, monkeypatch, caplog):
    secret = "s3cr3t-token-value-7f3a"
    for var in ("DBT_BIGQUERY_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, secret)
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "good.csv").write_bytes(FOCUS_SAMPLE.read_bytes())
    (landing / "bad.csv").write_bytes(b"BilledCost,ChargePeriodStart,BillingPeriodStart\n1,2\n")
    (landing / "fresh.csv").write_bytes(b"a,b\n")
    con = duckdb.connect()
    with caplog.at_level(logging.DEBUG):
        result = ingest_landing(con, landing, settle=0)
        ingest_landing(con, landing, settle=3600)  # the waiting path logs too
    texts = [r.getMessage() for r in caplog.records] + [
        str(o) for o in result.outcomes] + [str(r) for r in con.execute(
            "select * from meta.load_ledger").fetchall()]
    assert not [t for t in texts if secret in t]
    assert any("left for the next run" in t for t in texts)
