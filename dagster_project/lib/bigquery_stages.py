"""What each Python stage reads from and writes to BigQuery on a BigQuery target: the one
place that says it (docs/bigquery.md, "One switch"; docs/architecture.md).

The assets and checks are the same on every target: they open `warehouse.connection()`. On
`prod` (or the `emulator`), the warehouse resource looks the running op up here, pulls its
inputs from BigQuery into the local working copy first and pushes its outputs back after it
succeeded (lib/bigquery_sync.py). The command-line readers (`mlcost export`, `mlcost report`,
the run summary) pull what they read the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .bigquery_sync import Pull
from .config import BIGQUERY_TARGETS, is_bigquery

__all__ = ["BIGQUERY_TARGETS", "LOCAL_ONLY", "RUN_READERS", "STAGES", "Pull", "StageIO",
           "focus_built", "is_bigquery", "is_local_only", "pull_for_export", "pull_for_readers",
           "stage_connection", "stage_for"]

_REFERENCE = tuple(Pull(f"reference.{t}") for t in (
    "teams", "ml_models", "workload_rules", "workload_aliases", "service_categories"))
_MONTHLY = (Pull("marts.fct_costs_monthly"), Pull("marts.dim_calendar"),
            Pull("marts.fct_budgets"))
_FORECAST = tuple(Pull(f"forecast.{t}") for t in (
    "forecast_runs", "forecast_snapshots", "forecast_values", "forecast_locks",
    "backtest_accuracy", "backtest_metrics"))
_VARIANCE = tuple(Pull(f"variance.{t}") for t in (
    "variance_runs", "quarterly_variance", "variance_decomposition"))
_REVIEW = tuple(Pull(f"marts.{t}") for t in (
    "rpt_review_headline", "rpt_review_bridge", "fct_variance_drivers",
    "rpt_review_commentary_facts", "rpt_review_accuracy", "rpt_review_accuracy_points",
    "rpt_review_outlook", "rpt_review_anomalies", "rpt_review_savings",
    "rpt_review_unit_costs", "rpt_review_unit_costs_unavailable", "rpt_review_data_quality",
    "fct_idle_waste", "rpt_attribution_coverage"))
# The great-expectations suite validates a sample (its own cap, defs/ingest/checks.py).
_SUITE_SAMPLE = 200_000


@dataclass(frozen=True)
class StageIO:
    pulls: tuple[Pull, ...] = ()
    # What the stage writes: a schema (every base table in it) or one schema.table.
    pushes: tuple[str, ...] = ()
    # Raw deliveries and the ledger go through lib/bigquery_slices.py (ingest only).
    ingest: bool = False


# Keyed by Dagster op name (asset checks: the check's op name ends with its name).
STAGES: dict[str, StageIO] = {
    "ingest_landed_exports": StageIO(ingest=True),
    "mlflow_runs": StageIO(pulls=(Pull("marts.fct_training_run_costs"),),
                           pushes=("raw.mlflow_runs", "meta.mlflow_sync_status")),
    "forecast_snapshots": StageIO(pulls=(*_MONTHLY, *_REFERENCE, *_FORECAST),
                                  pushes=("forecast",)),
    "forecast_locks": StageIO(pulls=(*_MONTHLY, *_REFERENCE, *_FORECAST), pushes=("forecast",)),
    "quarterly_variance": StageIO(pulls=(*_MONTHLY, *_FORECAST, *_VARIANCE),
                                  pushes=("variance",)),
    "budget_burndown": StageIO(pulls=(*_MONTHLY, *_FORECAST, Pull("planning.budget_burndown")),
                               pushes=("planning.budget_burndown",)),
    "budget_burndown_within_budget": StageIO(pulls=(Pull("planning.budget_burndown"),)),
    # Whole history of daily allocation rows: the one stage whose pull grows with the bill
    # (docs/bigquery.md, "What the emulator cannot show" and the scale notes).
    "cost_anomalies": StageIO(pulls=(Pull("marts.fct_cost_allocations"),
                                     Pull("monitoring.cost_anomalies")),
                              pushes=("monitoring",)),
    "no_recent_cost_anomalies": StageIO(pulls=(Pull("monitoring.cost_anomalies"),)),
    "whatif_results": StageIO(pulls=(*_MONTHLY, *_FORECAST, Pull("marts.fct_cost_allocations"),
                                     Pull("marts.fct_unit_costs"),
                                     Pull("marts.fct_training_run_costs"),
                                     Pull("marts.fct_instance_prices")),
                              pushes=("planning.whatif_results",)),
    "whatif_commitment": StageIO(pulls=(*_MONTHLY, *_FORECAST,
                                        Pull("marts.fct_cost_allocations"),
                                        Pull("marts.fct_instance_prices")),
                                 pushes=("planning.whatif_commitment",)),
    "evidence_exports": StageIO(pulls=(*_MONTHLY, *_FORECAST, *_VARIANCE)),
    "quarterly_review": StageIO(pulls=(*_MONTHLY, *_FORECAST, *_VARIANCE, *_REVIEW)),
    "focus_gx_suite": StageIO(pulls=(Pull("focus.focus_cost_and_usage",
                                          window="x_BillingPeriod", limit=_SUITE_SAMPLE),)),
    "focus_slices_published": StageIO(pulls=(Pull("focus.rpt_held_back_slices"),)),
    # Σ per slice, summed on BigQuery: the check adds the same sums up again locally.
    "focus_reconciles_to_source": StageIO(pulls=(
        Pull("focus.focus_cost_and_usage",
             group_by=("x_ProviderCode", "BillingAccountId", "x_BillingPeriod",
                       "BillingCurrency"), sums=("BilledCost", "EffectiveCost")),
        Pull("focus.rpt_focus_reconciliation"), Pull("focus.rpt_held_back_slices"))),
}

# After a run, for its summary, the problems it reports and the review pack it renders.
RUN_READERS = (*_MONTHLY, *_FORECAST, *_VARIANCE, *_REVIEW, Pull("focus.rpt_held_back_slices"),
               Pull("marts.rpt_recommendation_action_problems"))


# Ops that read only what this run's ingest wrote to the working copy (raw rows, the ledger).
LOCAL_ONLY = ("meta__deliveries_sources_are_fresh",)


def stage_for(op_name: str) -> StageIO | None:
    """The stage an op name belongs to: ops are named `<asset key path>` and asset checks
    `<asset key path>_<check>`, so the longest stage name the op name ends with wins
    (…_no_recent_cost_anomalies is the check, not cost_anomalies)."""
    if op_name in STAGES:
        return STAGES[op_name]
    matches = [name for name in STAGES if op_name.endswith(f"_{name}")]
    return STAGES[max(matches, key=len)] if matches else None


def is_local_only(op_name: str) -> bool:
    return op_name in LOCAL_ONLY


def _current_op():
    """(op name, billing-period window, logger) of the running Dagster step, or Nones."""
    import dagster as dg

    try:
        ctx = dg.OpExecutionContext.get()
    except Exception:  # noqa: BLE001 (outside a step: no context)
        return None, None, None
    if ctx is None:
        return None, None, None
    window = None
    with contextlib.suppress(Exception):
        if ctx.has_partition_key_range:
            r = ctx.partition_key_range
            window = (r.start[:7], r.end[:7])
    return ctx.op_def.name, window, ctx.log


@contextlib.contextmanager
def stage_connection(path: Path, *, read_only: bool = False) -> Iterator:
    """The local working copy for the running op, its inputs pulled from BigQuery first and
    its outputs pushed after the block succeeded."""
    from . import bigquery as bq
    from .warehouse import connection

    op, window, log = _current_op()
    io = stage_for(op) if op else None
    if io is None:
        with connection(path, read_only=read_only) as con:
            yield con
        return
    settings = bq.BigQuerySettings.from_env()
    client = bq.client_for(settings)
    with connection(path) as con:
        if io.ingest:
            # BigQuery's ledger says what was loaded (a new container starts from nothing):
            # rows the working copy lacks are copied in, so supersession sees every delivery.
            bq.restore_ledger(con, client, settings)
        if io.pulls:
            from .bigquery_sync import pull

            got = pull(con, client, settings, list(io.pulls), window)
            log.info("BigQuery -> working copy: %d table(s), %d row(s) pulled; %d unchanged; "
                     "not on BigQuery yet: %s", len(got.pulled), sum(got.pulled.values()),
                     len(got.unchanged), ", ".join(got.missing) or "none")
        yield con
        if read_only:
            return
        if io.ingest:
            sent = bq.publish_new_deliveries(con, client, settings)
            log.info("working copy -> BigQuery: %d new deliveries, %d load job(s), %d bytes "
                     "uploaded", len(sent.deliveries), sent.load_jobs, sent.bytes_uploaded)
        if io.pushes:
            from .bigquery_sync import push

            sent = push(con, client, settings, io.pushes)
            log.info("working copy -> BigQuery: %s", ", ".join(
                f"{t} ({n} rows)" for t, n in sent.pushed.items()) or "nothing to push")


def focus_built() -> bool:
    """Whether BigQuery already holds the FOCUS table (a first build rebuilds every period)."""
    from . import bigquery as bq
    from .bigquery_sync import remote_table

    settings = bq.BigQuerySettings.from_env()
    return remote_table(bq.client_for(settings), settings,
                         "focus.focus_cost_and_usage") is not None


def pull_for_readers(path: Path, specs: tuple[Pull, ...] = RUN_READERS) -> None:
    """Refresh the local copy of what the command-line readers use (run summary, review pack,
    exports) from BigQuery."""
    from . import bigquery as bq
    from .bigquery_sync import pull
    from .warehouse import connection

    settings = bq.BigQuerySettings.from_env()
    with connection(path) as con:
        pull(con, bq.client_for(settings), settings, list(specs))


# `mlcost export` of a view: the tables it reads, and who (re)creates it in the working copy.
_EXPORT_VIEWS = {("forecast", "forecast_export"): _FORECAST,
                 ("forecast", "forecast_accuracy"): _FORECAST}


def pull_for_export(path: Path, schema: str, table: str) -> None:
    """The table `mlcost export` reads, from BigQuery into the working copy (a view: the tables
    under it, then the view itself)."""
    from . import bigquery as bq
    from .bigquery_sync import pull
    from .warehouse import connection

    settings = bq.BigQuerySettings.from_env()
    specs = _EXPORT_VIEWS.get((schema, table), (Pull(f"{schema}.{table}"),))
    with connection(path) as con:
        pull(con, bq.client_for(settings), settings, list(specs))
        if (schema, table) in _EXPORT_VIEWS:
            from .forecast.export_views import ensure_views

            ensure_views(con)
