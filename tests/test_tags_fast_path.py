"""CUR 2.0 tags: the text fast path of `default__cur2_tags_json` (dbt_models/macros/json_tags.sql)
gives exactly what the map round trip gives, on inputs chosen to break a text rewrite."""

from __future__ import annotations

import re

import duckdb
import pytest

from dagster_project import settings

MACROS = settings.DBT_PROJECT_DIR / "macros" / "json_tags.sql"

# The reference: the map round trip the macro used before the fast path (and still uses for
# escapes and non-string values).
REFERENCE = (
    "case when t is null or t in ('{}', 'null') then null else to_json(map_from_entries("
    "list_transform(map_entries(cast(json(t) as map(varchar, varchar))), lambda e: struct_pack("
    "k := regexp_replace(e.key, '^(user|aws)_', '\\1:'), v := e.value))))::varchar end"
)

CASES = [
    None,
    "{}",
    "null",
    "{ }",
    '{"user_team":"search"}',
    '{"user_team":"search","aws_createdBy":"IAMUser:abc:me"}',
    '{"user_team": "search", "user_cost_center" : "cc-1"}',
    '{\n  "user_team": "a b",\n\t"aws_x": "y"\n}',
    # Text that looks like a key inside a value: only real keys may be renamed.
    '{"user_note":"x,\\"user_fake\\":1","user_a":"b"}',
    '{"user_note":"{\\"user_inner\\":\\"v\\"}"}',
    '{"user_q":"a\\\\","user_r":"c"}',
    '{"user_path":"C:\\\\dir\\\\user_x"}',
    '{"user_uni":"caf\\u00e9","user_slash":"a\\/b"}',
    '{"user_html":"<script>alert(1)</script>","user_sql":"x\'; drop table t; --"}',
    '{"user_emoji":"🚀","user_ü":"ñ"}',
    '{"other_key":"v","userteam":"x","user_":"empty suffix"}',
    '{"user_n":5,"user_b":true,"user_z":null}',
    '{"user_n": 5.5e3}',
    '{"user_colon":"a\\":b"}',
    '{"user_team":""}',
    '{"aws_cloudformation_stack-id":"arn:aws:cloudformation:us-east-1:1:stack/s/1"}',
]


def _fast_path_sql() -> str:
    text = MACROS.read_text(encoding="utf-8")
    body = re.search(r"\{% macro default__cur2_tags_json\(expr\) -%\}(.*?)\{%- endmacro %\}",
                     text, flags=re.S)
    assert body, "default__cur2_tags_json not found"
    return body.group(1).replace("{{ expr }}", "t")


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute("create table cases (i integer, t varchar)")
    c.executemany("insert into cases values (?, ?)", list(enumerate(CASES)))
    yield c
    c.close()


def test_fast_path_equals_map_round_trip(con) -> None:
    rows = con.execute(
        f"select i, t, {_fast_path_sql()} as fast, {REFERENCE} as ref from cases order by i"  # noqa: S608 (the macro's own SQL; values are bound)
    ).fetchall()
    assert len(rows) == len(CASES)
    mismatches = [(t, fast, ref) for _, t, fast, ref in rows if fast != ref]
    assert mismatches == []
    # The cases exercise both paths and renaming really happens.
    renamed = {t: fast for _, t, fast, _ in rows}
    assert renamed['{"user_team":"search"}'] == '{"user:team":"search"}'
    assert renamed['{"user_note":"x,\\"user_fake\\":1","user_a":"b"}'] == (
        '{"user:note":"x,\\"user_fake\\":1","user:a":"b"}')
    assert renamed['{"user_n":5,"user_b":true,"user_z":null}'] == (
        '{"user:n":"5","user:b":"true","user:z":null}')


def test_fast_path_keeps_duplicate_keys_the_map_path_rejects(con) -> None:
    # A map cannot hold a key twice, so the old expression failed the whole FOCUS build on such
    # a row; the text path keeps it, and ingest flags the file (docs/bad-input.md, entry 48).
    dup = '{"user_a":"1","user_a":"2"}'
    fast = f"select {_fast_path_sql()} from (select ? as t)"  # noqa: S608 (macro SQL, value bound)
    out = con.execute(fast, [dup]).fetchone()[0]
    assert out == '{"user:a":"1","user:a":"2"}'
    with pytest.raises(duckdb.ConversionException):
        con.execute(f"select {REFERENCE} from (select ? as t)", [dup]).fetchone()  # noqa: S608
