"""The quarterly review pack (HTML + PDF, partitioned by quarter) and the Evidence-compatible
Parquet exports."""

import dagster as dg

from dagster_project import settings
from dagster_project.defs.reports.partitions import review_quarters
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
    from dagster_project.lib.report.evidence import export_evidence_sources

    with warehouse.connection(read_only=True) as con:
        paths = export_evidence_sources(con, settings.exports_dir())
    return dg.MaterializeResult(metadata={"files": dg.MetadataValue.json([str(p) for p in paths])})


# The review marts the pack reads (dbt models under marts/review, built by the
# `dbt_recommendations_and_review` asset) besides the Python-produced tables; sections whose
# mart is missing say so.
REVIEW_MARTS = ("rpt_review_headline", "rpt_review_bridge", "fct_variance_drivers",
                "rpt_review_commentary_facts", "rpt_review_accuracy", "rpt_review_outlook",
                "rpt_review_anomalies", "rpt_review_savings", "rpt_review_unit_costs",
                "rpt_review_data_quality")


@dg.asset(
    key=["reports", "quarterly_review"],
    group_name="reports",
    partitions_def=review_quarters,
    deps=[quarterly_variance, *(dg.AssetKey(["marts", m]) for m in REVIEW_MARTS)],
    kinds={"html", "pdf"},
    pool="duckdb_warehouse",
    description="The quarterly review pack (HTML and PDF) of the partition's quarter, "
                "preliminary while the quarter is incomplete. Own job `quarterly_review`.",
)
def quarterly_review(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    # The renderer (lib/report) is imported when the asset runs, so the definitions load
    # without it and tests can substitute it.
    from dagster_project.lib import report

    quarter = context.partition_key
    with warehouse.connection(read_only=True) as con:
        try:
            pack = report.render_review_pack(con, quarter, settings.reports_dir(),
                                             formats=("html", "pdf"))
        except report.ReviewRequestError as exc:
            raise dg.Failure(description=str(exc)) from None
    if pack.preliminary:
        context.log.info("review pack %s is preliminary: %s month(s) of data through %s",
                         quarter, pack.months_with_data, pack.data_through)
    metadata = {
        "quarter": quarter,
        "preliminary": pack.preliminary,
        "months_with_data": pack.months_with_data,
        "data_through": str(pack.data_through) if pack.data_through else "",
        "unavailable": dg.MetadataValue.json(
            [{"section": anchor, "reason": reason} for anchor, reason in pack.unavailable]),
    }
    metadata |= {fmt: dg.MetadataValue.path(str(path)) for fmt, path in pack.paths.items()}
    return dg.MaterializeResult(metadata=metadata)


ASSETS = [evidence_exports, quarterly_review]
