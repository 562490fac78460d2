"""The what-if calculators as assets, fed by the reviewed parameters file whatif.yml
(lib/whatif/params_file.py): `whatif/whatif_results` answers every question of the file,
`whatif/whatif_commitment` writes the commitment recommendation per provider. Neither fails the
run for data conditions: a bad entry or missing input is recorded with its reason."""

import dagster as dg

from dagster_project.defs.resources import WarehouseResource

FORECAST_SNAPSHOTS = dg.AssetKey(["forecast", "forecast_snapshots"])
# The marts the questions read.
MARTS = [dg.AssetKey(["marts", name]) for name in (
    "fct_costs_monthly", "fct_cost_allocations", "fct_unit_costs", "fct_instance_prices",
    "fct_training_run_costs", "dim_calendar")]
RESULTS = dg.AssetKey(["planning", "whatif_results"])
COMMITMENT = dg.AssetKey(["planning", "whatif_commitment"])
POOL = "duckdb_warehouse"


def _entries(context):
    from dagster_project.lib.whatif.params_file import ParamsFileError, load, params_path

    try:
        path = params_path()
        return (load(path) if path else []), (str(path) if path else ""), None
    except ParamsFileError as exc:
        context.log.error(str(exc))
        return [], "", str(exc)


@dg.asset(key=RESULTS, group_name="whatif", deps=[FORECAST_SNAPSHOTS, *MARTS],
          kinds={"python", "duckdb"}, pool=POOL,
          description="Answers of the questions in whatif.yml (one row per entry: question, "
                      "params_json, result_json, status, error, computed_at; docs/whatif.md).")
def whatif_results(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from dagster_project.lib.whatif.store import refresh_results

    entries, path, file_error = _entries(context)
    with warehouse.connection() as con:
        res = refresh_results(con, entries)
    for err in res.errors:
        context.log.warning(err)
    return dg.MaterializeResult(metadata={
        "params_file": path or "none", "file_error": file_error or "", "rows": res.rows,
        "errors": len(res.errors)})


@dg.asset(key=COMMITMENT, group_name="whatif", deps=[FORECAST_SNAPSHOTS, *MARTS],
          kinds={"python", "duckdb"}, pool=POOL,
          description="Per provider, the hourly commitment that minimises expected cost over "
                      "the forecast distribution, with today's coverage and utilisation "
                      "(docs/whatif.md, commitment).")
def whatif_commitment(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from dagster_project.lib.whatif.store import refresh_commitment

    entries, _, _ = _entries(context)
    opts = next((e.options for e in entries if e.question == "commitment" and e.options), None)
    with warehouse.connection() as con:
        res = refresh_commitment(con, opts)
    for err in res.errors:
        context.log.warning(err)
    return dg.MaterializeResult(metadata={"providers": res.rows,
                                          "reasons": "; ".join(res.errors)})


ASSETS = [whatif_results, whatif_commitment]
