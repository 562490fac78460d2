"""SQL helpers shared by ingest: identifier quoting and the parsing macros the family
expressions use. The same macros exist as dbt macros (dbt_models/macros/parsing.sql)."""

from __future__ import annotations

import ast
import json

import duckdb

MACROS = [
    # Providers write timestamps in many shapes; all are UTC instants or naive UTC.
    """create or replace temp macro mlcost_ts(x) as coalesce(
        timezone('UTC', try_cast(cast(x as varchar) as timestamptz)),
        try_strptime(cast(x as varchar), ['%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M', '%m/%d/%Y']))""",
    """create or replace temp macro mlcost_date(x) as coalesce(
        try_strptime(cast(x as varchar), ['%m/%d/%Y', '%Y-%m-%d']),
        timezone('UTC', try_cast(cast(x as varchar) as timestamptz)))""",
    """create or replace temp macro mlcost_credits_total(c) as coalesce(list_sum(list_transform(
        from_json(cast(c as varchar), '[{"amount":"VARCHAR"}]'),
        lambda x: try_cast(x.amount as decimal(38, 24)))), 0)""",
    """create or replace temp macro mlcost_provider_code(name) as case
        when lower(name) in ('aws', 'amazon web services', 'amazon') then 'aws'
        when lower(name) in ('microsoft', 'azure', 'microsoft azure') then 'azure'
        when lower(name) in ('google cloud', 'google', 'gcp', 'google cloud platform') then 'gcp'
        when lower(name) in ('oracle', 'oci', 'oracle cloud infrastructure') then 'oci'
        else lower(name) end""",
]


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB (names from files are data, never trusted)."""
    return '"' + name.replace('"', '""') + '"'


def python_literal_to_json(text: str | None) -> str | None:
    """GCP rows flattened by some tools write lists as Python literals (`[{'a': None}]`)."""
    if text is None:
        return None
    stripped = text.strip()
    if not stripped:
        return None
    try:
        return json.dumps(json.loads(stripped))
    except ValueError:
        pass
    try:
        return json.dumps(ast.literal_eval(stripped))
    except (ValueError, SyntaxError):
        return None


def install(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("set TimeZone = 'UTC'")
    for macro in MACROS:
        con.execute(macro)
    try:
        con.create_function(
            "mlcost_pylit_to_json", python_literal_to_json, ["VARCHAR"], "VARCHAR",
            null_handling="special", side_effects=False,
        )
    except (duckdb.CatalogException, duckdb.NotImplementedException):
        pass  # already registered on this connection
