"""Checks on the raw layer: one great-expectations suite per raw source family
(expectations/raw_<family>.json) and source freshness per provider and billing account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from dagster_project import settings
from dagster_project.defs.ingest.assets import DELIVERIES_KEY, RAW_KEYS
from dagster_project.defs.resources import WarehouseResource
from dagster_project.lib.families_meta import NON_BILLING_FAMILIES
from dagster_project.lib.ingest.families import FAMILIES
from dagster_project.lib.warehouse import table_exists

# Raw tables hold every delivery ever loaded; a uniform sample bounds the cost of a suite
# (GX validates in pandas: ~15 s per 1M FOCUS rows). The full-table rules are dbt tests.
SUITE_SAMPLE_ROWS = 200_000
# Checks open the warehouse too (read-only opens fail while another process writes).
POOL = "duckdb_warehouse"


def suite_result_to_check(res, *, check_name: str | None = None,
                          asset_key: dg.AssetKey | None = None,
                          extra: dict | None = None) -> dg.AssetCheckResult:
    """WARN when the suite fails, ERROR when an expectation marked critical fails."""
    severity = (dg.AssetCheckSeverity.ERROR if res.critical_failed
                else dg.AssetCheckSeverity.WARN)
    return dg.AssetCheckResult(
        check_name=check_name, asset_key=asset_key,
        passed=res.success, severity=severity,
        metadata={"suite": res.suite, "rows_validated": res.rows_validated,
                  "rows_total": res.rows_total, "sampled": res.sampled,
                  "failures": dg.MetadataValue.json(res.failures), **(extra or {})},
    )


def run_suite(warehouse: WarehouseResource, schema: str, table: str, suite_path, *,
              where: str | None = None, params: list | None = None):
    """A great-expectations suite on a warehouse table (its rows matching `where`), sampled to
    SUITE_SAMPLE_ROWS; in the run's warm worker on DuckDB (lib/quality.py), on the stage's
    working copy on BigQuery."""
    from dagster_project.lib.bigquery_stages import is_bigquery
    from dagster_project.lib.quality import validate_table, validate_warehouse_table

    if is_bigquery(warehouse.target):
        with warehouse.connection(read_only=True) as con:
            return validate_table(con, schema, table, suite_path, max_rows=SUITE_SAMPLE_ROWS,
                                  where=where, params=params)
    return validate_warehouse_table(Path(warehouse.path), schema, table, suite_path,
                                    max_rows=SUITE_SAMPLE_ROWS, where=where, params=params)


def validate_loaded(warehouse: WarehouseResource, family: str,
                    file_ids: list[str]) -> dg.AssetCheckResult:
    """The family's raw suite on the rows of `file_ids` (the files a run just loaded). It runs
    inside the ingest step, whose rows are already committed: a suite that cannot run (a
    broken suite file, a great-expectations error) is a failed check naming the error, not a
    failed ingest that would stop the run from publishing what loaded."""
    suite = settings.EXPECTATIONS_DIR / f"raw_{family}.json"
    try:
        res = run_suite(warehouse, "raw", FAMILIES[family].raw_table, suite,
                        where="list_contains(?, _file_id)", params=[file_ids])
    except Exception as exc:  # noqa: BLE001 (reported as the check's result)
        return dg.AssetCheckResult(
            check_name="gx_suite", asset_key=RAW_KEYS[family], passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"expectations/{suite.name} could not run: {type(exc).__name__}: {exc}",
            metadata={"suite": str(suite.name), "files_validated": 0,
                      "error": f"{type(exc).__name__}: {exc}"})
    return suite_result_to_check(res, check_name="gx_suite", asset_key=RAW_KEYS[family],
                                 extra={"files_validated": len(file_ids)})


def last_deliveries(con) -> list[tuple]:
    """(provider, billing account, last delivery time, latest billing period) per billing
    source. A delivery's time is the file's modification time at landing (remote: the
    object's LastModified), which is when the provider wrote it."""
    return con.execute(
        """select d.provider, d.billing_account_id,
                  max(coalesce(l.modified_at, l.loaded_at)) as last_delivery_at,
                  max(d.billing_period) as last_billing_period
           from meta.deliveries as d
           inner join meta.load_ledger as l on l.file_id = d.file_id and l.status = 'loaded'
           where not list_contains(?::varchar[], d.family)
           group by d.provider, d.billing_account_id
           order by d.provider, d.billing_account_id""", [list(NON_BILLING_FAMILIES)]).fetchall()


def stale_sources(rows: list[tuple], now: datetime, max_age: timedelta) -> list[tuple]:
    return [r for r in rows if r[2] is not None and now - r[2] > max_age]


@dg.asset_check(asset=DELIVERIES_KEY, name="sources_are_fresh", blocking=False, pool=POOL,
                description="Every provider/billing account delivered within "
                            "MLCOST_FRESHNESS_HOURS (default 48 h): an export that stopped "
                            "arriving is flagged (WARN).")
def sources_are_fresh(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    max_age = timedelta(hours=settings.freshness_hours())
    now = datetime.now(UTC).replace(tzinfo=None)
    with warehouse.connection(read_only=True) as con:
        rows = last_deliveries(con) if table_exists(con, "meta", "deliveries") else []
    stale = stale_sources(rows, now, max_age)
    table = "\n".join(
        ["| provider | billing account | last delivery (UTC) | latest period | stale |",
         "|---|---|---|---|---|"]
        + [f"| {p} | {a} | {t:%Y-%m-%d %H:%M} | {bp:%Y-%m} | {'yes' if r in stale else ''} |"
           for r in rows for p, a, t, bp in [r]])
    return dg.AssetCheckResult(
        passed=not stale, severity=dg.AssetCheckSeverity.WARN,
        metadata={"threshold_hours": settings.freshness_hours(), "sources": len(rows),
                  "stale_sources": dg.MetadataValue.json(
                      [f"{p}:{a}" for p, a, _, _ in stale]),
                  "detail": dg.MetadataValue.md(table)},
    )


CHECKS = [sources_are_fresh]
