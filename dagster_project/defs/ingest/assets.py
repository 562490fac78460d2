"""Ingest: every new export under the landing location into the raw layer, atomically per
file. The raw layer is append-only by file (content hash); which billing periods a run
changed is recorded as metadata, and the delivery sensor rebuilds exactly those partitions."""


import dagster as dg

from dagster_project.defs.ingest.partitions import period_keys
from dagster_project.defs.resources import LandingResource, WarehouseResource
from dagster_project.lib.ingest.families import FAMILIES
from dagster_project.lib.ingest.loader import discover, ingest_paths
from dagster_project.lib.landing import files_to_load

RAW_KEYS = {name: dg.AssetKey(["raw", spec.raw_table]) for name, spec in FAMILIES.items()}
LEDGER_KEY = dg.AssetKey(["meta", "load_ledger"])
DELIVERIES_KEY = dg.AssetKey(["meta", "deliveries"])
CHANGED_PERIODS = "changed_billing_periods"


def gx_suite_spec(family: str, key: dg.AssetKey) -> dg.AssetCheckSpec:
    """A family's raw suite, run by the ingest asset below on the files it loaded."""
    return dg.AssetCheckSpec(
        "gx_suite", asset=key,
        description=f"great-expectations suite expectations/raw_{family}.json on the rows of "
                    "the files this run loaded (WARN; ERROR if a critical expectation fails). "
                    "Not run when the run loaded none: the rows already there were validated "
                    "by the run that loaded them.")


@dg.multi_asset(
    name="ingest_landed_exports",
    specs=[
        dg.AssetSpec(key, group_name="ingest", kinds={"duckdb", "python"},
                     description=f"Raw {family} rows (source text + lineage), all deliveries.")
        for family, key in RAW_KEYS.items()
    ]
    + [
        dg.AssetSpec(LEDGER_KEY, group_name="ingest", kinds={"duckdb"},
                     description="One row per landed file: hash, detection, totals, status."),
        dg.AssetSpec(DELIVERIES_KEY, group_name="ingest", kinds={"duckdb"},
                     description="Delivery slices per file and which one is current."),
    ],
    check_specs=[
        dg.AssetCheckSpec("no_quarantined_files", asset=LEDGER_KEY,
                          description="Every landed file loaded; bad files are named."),
        *(gx_suite_spec(family, key) for family, key in RAW_KEYS.items()),
    ],
    pool="duckdb_warehouse",
    # Subsettable so that a raw suite may have no result: a family this run loaded nothing
    # of is not validated again. The op always loads everything; it reports what is selected.
    can_subset=True,
)
def ingest_landed_exports(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                          landing: LandingResource):
    for event in _ingest(context, warehouse, landing):
        selected = (context.selected_asset_keys if isinstance(event, dg.MaterializeResult)
                    else {c.asset_key for c in context.selected_asset_check_keys
                          if c.name == event.check_name})
        if event.asset_key in selected:
            yield event


def _ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
            landing: LandingResource):
    folder, synced = landing.local_folder()
    if synced is not None:
        context.log.info("landing %s: %d object(s) downloaded to %s, %d unchanged",
                         landing.location, len(synced.downloaded), folder, synced.unchanged)
    with warehouse.connection() as con:
        # Files the ledger already knows by path, size and mtime are not hashed again.
        result = ingest_paths(con, files_to_load(con, discover(folder)))
        ledger_rows = con.execute("select count(*) from meta.load_ledger").fetchone()[0]
    loaded = result.by_status("loaded")
    # Billing slices only: metrics and budgets feed the whole-history marts, not partitions.
    slices = [s for o in loaded if FAMILIES[o.family].is_billing
              for s in o.slices if s.get("billing_period")]
    changed_periods = period_keys(s["billing_period"] for s in slices)
    changed_sources = sorted({f"{s['provider']}:{s['billing_account_id']}" for s in slices})
    rows_by_family: dict[str, int] = {}
    for o in loaded:
        rows_by_family[o.family] = rows_by_family.get(o.family, 0) + o.rows
    context.log.info(
        "ingest: %d loaded, %d already loaded, %d skipped, %d quarantined",
        len(loaded), len(result.by_status("duplicate")), len(result.by_status("skipped")),
        len(result.by_status("quarantined")),
    )
    # Loaded-but-flagged rows and files left for the next run reach the console (the CLI shows
    # warnings), not only the ledger.
    for warning in result.warnings[:20]:
        context.log.warning("ingest warning: %s", warning)
    if len(result.warnings) > 20:
        context.log.warning("ingest: %d more warnings in meta.load_ledger.warnings",
                            len(result.warnings) - 20)
    waiting = result.by_status("waiting")
    for o in waiting[:20]:
        context.log.warning("ingest: %s", o.error)
    if len(waiting) > 20:
        context.log.warning("ingest: %d more files left for the next run", len(waiting) - 20)
    for family, key in RAW_KEYS.items():
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={"rows_loaded": rows_by_family.get(family, 0),
                      "files_loaded": sum(1 for o in loaded if o.family == family)},
        )
    yield dg.MaterializeResult(asset_key=LEDGER_KEY, metadata={"ledger_rows": ledger_rows})
    # Read by the delivery sensor: the billing-period partitions to rebuild.
    yield dg.MaterializeResult(asset_key=DELIVERIES_KEY, metadata={
        CHANGED_PERIODS: dg.MetadataValue.json(changed_periods),
        "changed_sources": dg.MetadataValue.json(changed_sources),
    })
    # Each delivery is validated once, as it lands: the suites of the families this run
    # loaded, on those files' rows (after the write connection is closed: the suites may run
    # in the run's dbt worker, another process). A family with nothing new has no result.
    from dagster_project.defs.ingest.checks import validate_loaded  # imports this module

    for family in RAW_KEYS:
        if file_ids := [o.file_id for o in loaded if o.family == family]:
            yield validate_loaded(warehouse, family, file_ids)
    errors = result.errors
    yield dg.AssetCheckResult(
        check_name="no_quarantined_files",
        asset_key=LEDGER_KEY,
        passed=not errors,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"quarantined": dg.MetadataValue.md(
            "\n".join(f"- {e}" for e in errors) or "none")},
    )
