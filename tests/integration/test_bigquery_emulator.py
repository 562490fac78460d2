"""The prod (BigQuery) models built and tested on a local BigQuery emulator.

Run by `make test-bigquery`, which installs crucible-emulator in `.venv-crucible` and points
MLCOST_BQ_EMULATOR at its `crucible` executable; `make test` skips this module. The real GCP
samples are ingested as usual (DuckDB), published to the emulator through lib/bigquery.py's
load jobs, then `dbt seed` and `dbt build --target emulator` run every model and data test
through dbt-bigquery. The results are compared row by row with the DuckDB build of the same
data. What the emulator cannot show is listed in docs/bigquery.md."""

from __future__ import annotations

import json
import os
from decimal import Decimal

import pytest

from dagster_project.lib import bigquery as bq
from dagster_project.lib.warehouse import connection

from ..conftest import REAL, build_warehouse, run_dbt
from .conftest import dbt_on_emulator

CRUCIBLE = os.environ.get("MLCOST_BQ_EMULATOR")
pytestmark = pytest.mark.skipif(
    not CRUCIBLE, reason="needs the BigQuery emulator: run `make test-bigquery`")

PROJECT = "mlcost-emulator"
# GCP's own samples: standard export with credits, and the detailed (resource-level) export.
SAMPLES = [REAL / "gcp"]


@pytest.fixture(scope="module")
def built(emulator, tmp_path_factory):
    """(client, DuckDB warehouse) after publishing the samples and building on both engines."""
    base = tmp_path_factory.mktemp("bq-emulator")
    warehouse = build_warehouse(base, SAMPLES)
    duck = run_dbt(warehouse, base / "duck-target", ["build", "--select", "+fct_cost_allocations"])
    assert duck.success, duck.output[-4000:]

    s = bq.BigQuerySettings(project=PROJECT, api_endpoint=emulator, money_type="NUMERIC")
    client = bq.client_for(s)
    with connection(warehouse) as con:
        bq.publish_warehouse(con, client, s)
        # Publishing again replaces every table: nothing is counted twice.
        published = bq.publish_warehouse(con, client, s)
    counts = {t.table.rsplit(".", 1)[1]: t.rows for t in published}
    assert counts["gcp_billing"] > 0 and counts["deliveries"] == 2
    for t in published:
        assert client.get_table(t.table).num_rows == t.rows

    target = base / "bq-target"
    for args in (["seed"], ["build", "--exclude-resource-type", "unit_test", "seed"]):
        res = dbt_on_emulator(emulator, PROJECT, target, args)
        assert res.returncode == 0, (res.stdout + res.stderr)[-6000:]
    return client, warehouse


def _rows(client, sql: str) -> list[dict]:
    return [dict(r.items()) for r in client.query(sql).result()]


def test_every_model_and_data_test_builds_on_the_emulator(built):
    client, _ = built
    tables = {t.table_id for ds in ("staging", "intermediate", "focus", "marts")
              for t in client.list_tables(f"{PROJECT}.{ds}")}
    assert {"focus_cost_and_usage", "rpt_focus_reconciliation", "fct_cost_allocations",
            "fct_costs_daily", "fct_costs_monthly", "fct_idle_waste",
            "int_focus__gcp", "stg_gcp_billing__line_items"} <= tables
    partitioned = client.get_table(f"{PROJECT}.focus.focus_cost_and_usage")
    assert partitioned.num_rows > 0


def test_focus_totals_reconcile_exactly_on_bigquery(built):
    client, warehouse = built
    recon = _rows(client, "select * from `mlcost-emulator.focus.rpt_focus_reconciliation`")
    assert len(recon) == 2
    assert {r["status"] for r in recon} == {"reconciled"}
    with connection(warehouse, read_only=True) as con:
        source = {(p.isoformat(), a): Decimal(b).normalize() for p, a, b in con.execute(
            "select billing_period, billing_account_id, billed_total from meta.deliveries "
            "where is_current").fetchall()}
    got = {(r["billing_period"].isoformat(), r["billing_account_id"]):
           Decimal(r["focus_billed_total"]).normalize() for r in recon}
    assert got == source


def test_focus_rows_match_the_duckdb_build(built):
    client, warehouse = built
    cols = ["x_RowId", "BilledCost", "EffectiveCost", "ListCost", "ChargeCategory",
            "ChargePeriodStart", "ServiceName", "ResourceId", "SubAccountId", "Tags",
            "CommitmentDiscountId", "PricingUnit"]
    select = ("select x_RowId, BilledCost, EffectiveCost, ListCost, ChargeCategory, "
              "ChargePeriodStart, ServiceName, ResourceId, SubAccountId, Tags, "
              "CommitmentDiscountId, PricingUnit from ")
    bq_rows = {r["x_RowId"]: r for r in _rows(
        client, select + "`mlcost-emulator.focus.focus_cost_and_usage`")}
    with connection(warehouse, read_only=True) as con:
        # DuckDB matches unquoted names case-insensitively.
        duck = con.execute(select + "focus.focus_cost_and_usage").fetchall()
    duck_rows = {r[0]: dict(zip(cols, r, strict=True)) for r in duck}
    assert bq_rows.keys() == duck_rows.keys()
    diffs = []
    for row_id, d in duck_rows.items():
        b = bq_rows[row_id]
        for c in cols[1:]:
            dv, bv = d[c], b[c]
            if c == "Tags":  # same members; JSON text may order keys differently
                dv, bv = (json.loads(v) if v else v for v in (dv, bv))
            elif isinstance(dv, Decimal):
                dv, bv = dv.normalize(), Decimal(bv).normalize()
            elif c == "ChargePeriodStart":
                bv = bv.replace(tzinfo=None)
            if dv != bv:
                diffs.append(f"{row_id} {c}: duckdb={dv!r} bigquery={bv!r}")
    assert not diffs, "\n".join(diffs[:30])


def test_allocations_match_the_duckdb_build(built):
    client, warehouse = built
    got = {(r["team"], r["attribution_method"]): Decimal(r["cost"]).normalize()
           for r in _rows(client, "select team, attribution_method, sum(effective_cost) as cost "
                          "from `mlcost-emulator.marts.fct_cost_allocations` group by 1, 2")}
    with connection(warehouse, read_only=True) as con:
        want = {(t, m): Decimal(c).normalize() for t, m, c in con.execute(
            "select team, attribution_method, sum(effective_cost) "
            "from marts.fct_cost_allocations group by 1, 2").fetchall()}
    assert got == want
