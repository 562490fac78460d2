"""The dbt project compiled for BigQuery (`ci` target: the prod dialect, offline).

Every compiled model and test must parse as BigQuery SQL (sqlglot), and none may carry the
DuckDB-isms the dispatch macros replace: sqlglot's BigQuery reader accepts many of them, so
they are looked for explicitly. That the SQL also runs is `make test-bigquery`'s job
(tests/integration/test_bigquery_emulator.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlglot

from dagster_project import settings
from dagster_project.lib import bigquery as bq

DBT = str(Path(sys.executable).parent / "dbt")

# DuckDB-only syntax and functions, as they would appear in compiled SQL.
DUCKDB_ISMS = {
    "union by name": r"\bunion\s+all\s+by\s+name\b",
    "lambda": r"\blambda\b",
    "struct_pack": r"\bstruct_pack\s*\(",
    ":: cast": r"::",
    "select * exclude": r"\*\s*exclude\s*\(",
    "try_cast": r"\btry_cast\s*\(",
    "try_strptime / strptime": r"\b(try_)?strptime\s*\(",
    "DuckDB JSON functions": r"\b(json_extract_string|from_json|json_valid|to_json)\s*\(",
    "list functions": r"\blist_(filter|transform|sum)\s*\(|\blist\s*\(",
    "map functions": r"\bmap_(entries|from_entries)\s*\(|\bmap\s*\(",
    "regexp_full_match": r"\bregexp_full_match\s*\(",
    "split_part": r"\bsplit_part\s*\(",
    "arg_max": r"\barg_max\s*\(",
    "bool_or": r"\bbool_or\s*\(",
    "concat_ws": r"\bconcat_ws\s*\(",
    "generate_subscripts": r"\bgenerate_subscripts\s*\(",
    "first()": r"\bfirst\s*\(",
    "timezone()": r"\btimezone\s*\(",
    "aggregate FILTER": r"\bfilter\s*\(\s*where\b",
    "DuckDB types": r"\bas\s+(varchar|double|decimal|text|hugeint)\b",
    "double-quoted identifier": r'"[A-Za-z_]\w*"',
    "date_trunc('month', …)": r"\bdate_trunc\s*\(\s*'",
    "epoch": r"\bepoch\s*\(",
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("bq-target")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLCOST_BQ_")}
    proc = subprocess.run(
        [DBT, "compile", "--target", "ci", "--no-populate-cache", "--no-introspect",
         "--project-dir", str(settings.DBT_PROJECT_DIR),
         "--profiles-dir", str(settings.DBT_PROJECT_DIR), "--target-path", str(target)],
        env=env, capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return target / "compiled" / "mlcost"


def _strip_comments(sql: str) -> str:
    # Line comments only (block comments are Jinja's and never reach compiled SQL); quoted
    # strings are kept whole so a `--` inside a literal is not taken for a comment.
    out = []
    for line in sql.splitlines():
        cut = None
        in_str = False
        for i, ch in enumerate(line):
            if ch == "'":
                in_str = not in_str
            elif not in_str and line.startswith("--", i):
                cut = i
                break
        out.append(line[:cut] if cut is not None else line)
    return "\n".join(out)


def _without_literals(sql: str) -> str:
    return re.sub(r"r?'(?:[^'\\]|\\.)*'", "''", sql)


def test_every_model_and_test_compiles_and_parses_as_bigquery(compiled):
    files = sorted(compiled.rglob("*.sql"))
    models = [f for f in files if "/models/" in str(f) and f.parent.suffix != ".yml"]
    assert len(models) >= 20, [str(f) for f in models]
    errors = []
    for f in files:
        try:
            sqlglot.parse(f.read_text(), read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
        except sqlglot.errors.SqlglotError as exc:
            errors.append(f"{f.relative_to(compiled)}: {str(exc)[:300]}")
    assert not errors, "\n".join(errors)


def test_no_duckdb_isms_in_compiled_bigquery_sql(compiled):
    found = []
    for f in sorted(compiled.rglob("*.sql")):
        sql = _without_literals(_strip_comments(f.read_text()))
        for name, pattern in DUCKDB_ISMS.items():
            if re.search(pattern, sql, re.IGNORECASE):
                found.append(f"{f.relative_to(compiled)}: {name}")
    assert not found, "\n".join(found)


def test_bigquery_specifics_are_compiled_in(compiled):
    focus = (compiled / "models/focus/focus_cost_and_usage.sql").read_text()
    assert "`BilledCost`" in focus and "as bignumeric)" in focus.lower()
    gcp = (compiled / "models/intermediate/focus/int_focus__gcp.sql").read_text().lower()
    assert "json_query_array(" in gcp and "except (credit_list)" in gcp
    aws = (compiled / "models/intermediate/focus/int_focus__aws.sql").read_text().lower()
    assert "to_hex(md5(" in aws


def _models(manifest_path: Path) -> dict:
    import json

    manifest = json.loads(manifest_path.read_text())
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def test_partitioning_and_clustering_apply_only_on_bigquery(compiled, tmp_path):
    prod = _models(compiled.parent.parent / "manifest.json")
    assert prod["focus_cost_and_usage"]["config"]["partition_by"] == {
        "field": "x_BillingPeriod", "data_type": "date", "granularity": "month"}
    assert prod["focus_cost_and_usage"]["config"]["cluster_by"][0] == "x_ProviderCode"
    for name in ("fct_cost_allocations", "fct_costs_daily", "fct_costs_monthly"):
        assert prod[name]["config"]["partition_by"]["granularity"] == "month"
        assert prod[name]["config"]["cluster_by"][0] == "provider"
    proc = subprocess.run(
        [DBT, "parse", "--target", "dev", "--project-dir", str(settings.DBT_PROJECT_DIR),
         "--profiles-dir", str(settings.DBT_PROJECT_DIR), "--target-path", str(tmp_path)],
        env={**os.environ, "MLCOST_WAREHOUSE": str(tmp_path / "wh.duckdb")},
        capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    dev = _models(tmp_path / "manifest.json")
    assert dev["focus_cost_and_usage"]["config"].get("partition_by") is None
    assert dev["fct_costs_daily"]["config"].get("cluster_by") is None


def test_gcp_export_sql_parses_as_bigquery():
    table = "billing-project.billing_export.gcp_billing_export_resource_v1_0000"
    for sql in (bq.gcp_export_slices_sql(table),
                bq.gcp_export_insert_sql(table, "p.raw.gcp_billing", detailed=True),
                bq.gcp_export_insert_sql(table, "p.raw.gcp_billing", detailed=False)):
        sqlglot.parse_one(sql, read="bigquery")
    insert = bq.gcp_export_insert_sql(table, "p.raw.gcp_billing", detailed=True)
    # Every raw column the staging model reads is filled; values come in as parameters.
    for col in ("credits", "labels", "project_labels", "system_labels", "invoice_month",
                "resource_global_name", "_file_id", "_billing_period"):
        assert f" as {col}" in insert
    assert "@invoice_month" in insert and "@file_id" in insert


def test_table_names_are_checked_before_reaching_sql():
    from dagster_project.lib.ingest.errors import BadInputError

    with pytest.raises(BadInputError, match="not a BigQuery table name"):
        bq.gcp_export_slices_sql("p.d.t`; drop table x; --")


def test_settings_come_from_the_environment():
    from dagster_project.lib.ingest.errors import BadInputError

    with pytest.raises(BadInputError, match="MLCOST_BQ_PROJECT"):
        bq.BigQuerySettings.from_env({})
    s = bq.BigQuerySettings.from_env({
        "MLCOST_BQ_PROJECT": "acme-finops", "MLCOST_BQ_RAW_DATASET": "billing_raw",
        "MLCOST_GCP_BILLING_EXPORT_TABLE": "acme-billing.export.gcp_billing_export_v1_X"})
    assert (s.project, s.raw_dataset, s.meta_dataset) == ("acme-finops", "billing_raw", "meta")
    assert s.gcp_billing_export_table == "acme-billing.export.gcp_billing_export_v1_X"
    assert s.money_type == "BIGNUMERIC" and s.api_endpoint is None


def test_raw_schema_matches_duckdb_layout():
    from dagster_project.lib.ingest.families import FAMILIES
    from dagster_project.lib.ingest.loader import LINEAGE_COLUMNS

    cols = bq.raw_schema("gcp_billing")
    assert [c for c, _ in cols] == [*LINEAGE_COLUMNS, *FAMILIES["gcp_billing"].known_columns]
    types = dict(cols)
    assert types["_billing_period"] == "DATE" and types["_row_number"] == "INT64"
    assert types["cost"] == "STRING"  # source text: money is parsed exactly in staging
    meta = bq.meta_schemas()
    assert dict(meta["deliveries"])["billed_total"] == "BIGNUMERIC"
    assert dict(meta["deliveries"])["is_current"] == "BOOL"


class _FakeBigQuery:
    """Records the jobs `ingest_gcp_billing_export` sends; answers the two reads it makes.
    (The emulator does not emulate query parameters, so this flow cannot run there.)"""

    def __init__(self, slices, ledger_has_file=False):
        from google.cloud import bigquery

        self._bq = bigquery
        self.slices = slices
        self.ledger_has_file = ledger_has_file
        self.jobs: list[tuple[str, dict]] = []

    def get_table(self, table_id):
        from types import SimpleNamespace

        bq_ = self._bq
        if "export" in table_id:
            return SimpleNamespace(schema=[bq_.SchemaField("resource", "RECORD")])
        cols = dict(bq.meta_schemas()["deliveries" if "deliveries" in table_id else "load_ledger"])
        return SimpleNamespace(schema=[bq_.SchemaField(c, t) for c, t in cols.items()])

    def query(self, sql, job_config=None):
        from types import SimpleNamespace

        params = {p.name: p.value for p in (job_config.query_parameters if job_config else [])}
        self.jobs.append((sql, params))
        if "group by billing_account_id, currency" in sql:
            rows = self.slices
        elif "count(*) as n" in sql:
            rows = [SimpleNamespace(n=1 if self.ledger_has_file else 0)]
        else:
            rows = []
        return SimpleNamespace(result=lambda: rows)


def _slice(account, total, rows=3):
    from datetime import datetime
    from types import SimpleNamespace

    return SimpleNamespace(billing_account_id=account, currency="USD", row_count=rows,
                           billed_total=Decimal(total),
                           last_export_time=datetime(2026, 11, 3, 4, 5, tzinfo=UTC))


def test_gcp_export_month_is_copied_then_recorded_then_supersedes():
    settings = bq.BigQuerySettings(project="p", gcp_billing_export_table="b.e.export_v1")
    fake = _FakeBigQuery([_slice("A-1", "10.25"), _slice("B-2", "-0.5", rows=2)])
    [out] = bq.ingest_gcp_billing_export(fake, settings, ["202611"])
    assert (out.status, out.rows) == ("loaded", 5)
    kinds = [sql.split()[0] for sql, _ in fake.jobs]
    # slices, ledger check, clear a half-done attempt, copy, ledger row, supersede x2, deliveries
    assert kinds == ["select", "select", "delete", "insert", "insert", "update", "update",
                     "insert"]
    copy_sql, copy_params = fake.jobs[3]
    assert "`p.raw.gcp_billing`" in copy_sql and "`b.e.export_v1`" in copy_sql
    assert copy_params["invoice_month"] == "202611" and copy_params["file_id"] == out.file_id
    ledger_params = fake.jobs[4][1]
    assert ledger_params["p0_billed_total"] == Decimal("9.75")
    assert ledger_params["p0_status"] == "loaded" and ledger_params["p0_row_count"] == 5
    delivery_params = fake.jobs[7][1]
    assert delivery_params["p0_billing_account_id"] == "A-1"
    assert delivery_params["p1_billed_total"] == Decimal("-0.5")
    assert delivery_params["p0_billing_period"] == date(2026, 11, 1)


def test_gcp_export_month_already_read_is_a_no_op():
    settings = bq.BigQuerySettings(project="p", gcp_billing_export_table="b.e.export_v1")
    fake = _FakeBigQuery([_slice("A-1", "1")], ledger_has_file=True)
    [out] = bq.ingest_gcp_billing_export(fake, settings, ["202611"])
    assert out.status == "duplicate"
    assert [sql.split()[0] for sql, _ in fake.jobs] == ["select", "select"]


def test_gcp_export_bad_month_is_refused():
    from dagster_project.lib.ingest.errors import BadInputError

    settings = bq.BigQuerySettings(project="p", gcp_billing_export_table="b.e.export_v1")
    with pytest.raises(BadInputError, match="YYYYMM"):
        bq.ingest_gcp_billing_export(_FakeBigQuery([]), settings, ["2026-11"])
