"""The quarterly report (HTML) and the Evidence-compatible Parquet exports."""

import dagster as dg

from dagster_project import settings
from dagster_project.defs.resources import WarehouseResource
from dagster_project.defs.variance.assets import quarterly_variance


@dg.asset(
    key=["reports", "evidence_exports"],
    group_name="reports",
    deps=[quarterly_variance, dg.AssetKey(["marts", "fct_idle_waste"]),
          dg.AssetKey(["marts", "rpt_attribution_coverage"])],
    kinds={"parquet", "evidence"},
    pool="duckdb_warehouse",
    description="Parquet files read by the Evidence project in reports/ (data/exports/).",
)
def evidence_exports(warehouse: WarehouseResource):
    from dagster_project.lib.report import export_evidence_sources

    with warehouse.connection(read_only=True) as con:
        paths = export_evidence_sources(con, settings.exports_dir())
    return dg.MaterializeResult(metadata={"files": dg.MetadataValue.json([str(p) for p in paths])})


@dg.asset(
    key=["reports", "quarterly_report"],
    group_name="reports",
    deps=[quarterly_variance, dg.AssetKey(["marts", "fct_idle_waste"]),
          dg.AssetKey(["marts", "rpt_attribution_coverage"])],
    kinds={"html"},
    pool="duckdb_warehouse",
    description="The FinOps quarterly variance report for the last complete quarter.",
)
def quarterly_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from dagster_project.lib.report import render_quarterly_report
    from dagster_project.lib.variance import complete_quarters

    with warehouse.connection(read_only=True) as con:
        quarters = complete_quarters(con)
        if not quarters:
            context.log.warning("report skipped: no complete quarter in the data yet")
            return dg.MaterializeResult(metadata={"status": "skipped",
                                                  "reason": "no complete quarter"})
        path = render_quarterly_report(con, quarters[-1], settings.reports_dir())
    return dg.MaterializeResult(metadata={"status": "written", "quarter": quarters[-1],
                                          "path": dg.MetadataValue.path(str(path))})


ASSETS = [evidence_exports, quarterly_report]
