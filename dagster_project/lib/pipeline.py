"""`mlcost run` as a library function: ingest what is new, then rebuild the billing periods it
changed and everything downstream, in process, on the project's Dagster definitions.

One run per warehouse at a time (lib/run_lock.py); a run killed half-way is finished by the
next one (its billing periods are rebuilt, its Dagster run marked failed, its pool slots
freed: lib/instance.py)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from dagster_project import settings
from dagster_project.exit_codes import BUSY, DATA_ERROR, MISSING_INPUT, OK, USAGE, ExitError
from dagster_project.lib import run_lock, run_state
from dagster_project.lib.config import is_bigquery
from dagster_project.lib.dbt_manifest import ensure_dbt_manifest, prune_per_invocation_targets
from dagster_project.lib.instance import ensure_dagster_home, owner_tags, reap_dead_runs
from dagster_project.lib.periods import loaded_period_range, periods_to_rebuild
from dagster_project.lib.run_outcome import (
    failure_messages,
    held_back_slices,
    ignored_action_lines,
    quarantined_files,
)
from dagster_project.lib.run_summary import failed_checks
from dagster_project.lib.seed_state import SeedPlan

RUN_ID_TAG = "mlcost/run_id"


def apply_paths(landing: str | None = None, warehouse: str | None = None,
                target: str | None = None, *, command: str = "mlcost run") -> None:
    """Pin the landing, warehouse and dbt target (flags over environment) for this process
    and dbt; a BigQuery target's configuration is checked here, before any work."""
    if landing:
        os.environ["MLCOST_LANDING"] = landing
    if warehouse:
        os.environ["MLCOST_WAREHOUSE"] = warehouse
    if target:
        os.environ["DBT_TARGET"] = target
    settings.export_env()
    from dagster_project.lib.bigquery_preflight import check_target

    check_target(settings.dbt_target(), command=command)
    ensure_dagster_home()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def default_window(ingest_result, warehouse: Path) -> tuple[str, str] | None:
    """What `mlcost run` rebuilds without --period/--from/--to: on a warehouse that already
    holds FOCUS data, the billing periods whose deliveries this run's ingest changed; on a
    first build every period with a current delivery; with nothing changed, the latest period
    only (cheap), so the downstream stages still run."""
    from dagster_project.defs.ingest.assets import CHANGED_PERIODS, DELIVERIES_KEY
    from dagster_project.defs.ingest.partitions import billing_periods
    from dagster_project.lib.bigquery_stages import focus_built
    from dagster_project.lib.warehouse import connection, table_exists

    if is_bigquery(settings.dbt_target()):
        built = focus_built()
    else:
        with connection(warehouse, read_only=True) as con:
            built = table_exists(con, "focus", "focus_cost_and_usage")
    if not built:
        return loaded_period_range(warehouse)
    changed: list[str] = []
    for mat in ingest_result.asset_materializations_for_node("ingest_landed_exports"):
        if mat.asset_key == DELIVERIES_KEY and CHANGED_PERIODS in mat.metadata:
            changed += list(mat.metadata[CHANGED_PERIODS].value or [])
    if changed:
        # Periods outside the partitions are reported by the window check in run_pipeline.
        span = periods_to_rebuild(changed, billing_periods.get_partition_keys()).span
        return span or (min(changed), max(changed))
    loaded = loaded_period_range(warehouse)
    return (loaded[1], loaded[1]) if loaded else None


def _with_unfinished(window: tuple[str, str] | None, pending: dict | None, warehouse: Path
                     ) -> tuple[str, str] | None:
    """Widen `window` to cover what a run that did not finish was rebuilding."""
    if not pending:
        return window
    unfinished = pending.get("window")
    if unfinished is None:  # killed during ingest: which periods it loaded is not recorded
        unfinished = loaded_period_range(warehouse)
    if not unfinished:
        return window
    _say(f"mlcost: run {pending.get('run_id')} (started {pending.get('since')}) did not "
         f"finish; rebuilding its billing periods {unfinished[0]} to {unfinished[1]} too")
    if window is None:
        return tuple(unfinished)
    return (min(window[0], unfinished[0]), max(window[1], unfinished[1]))


def _interrupted(result) -> bool:
    """Dagster turns SIGINT/SIGTERM during a run into DagsterExecutionInterruptedError."""
    for event in result.all_events:
        data = event.step_failure_data if event.event_type_value == "STEP_FAILURE" else None
        err = data.error if data else None
        if err is not None and "DagsterExecutionInterruptedError" in (err.cls_name or ""):
            return True
        if event.event_type_value in ("PIPELINE_FAILURE", "PIPELINE_CANCELED") and \
                "interrupt" in (event.message or "").lower():
            return True
    return False


def _execute(job, instance, level: str, log, verbose: bool, **kwargs):
    run_config = {"loggers": {"console": {"config": {"log_level": level}}},
                  **kwargs.pop("extra_config", {})}
    with contextlib.redirect_stdout(sys.stdout if verbose else log):
        return job.execute_in_process(instance=instance, raise_on_error=False,
                                      run_config=run_config, **kwargs)


def run_pipeline(landing: str | None, warehouse: str | None, *, quiet: bool = False,
                 periods: tuple[str, str] | None = None, full_refresh: bool = False,
                 review_formats: tuple[str, ...] = ("html",), target: str | None = None) -> int:
    """Ingest, then rebuild `periods` (first, last inclusive; default: see default_window) and
    everything downstream. Returns an exit code or raises ExitError."""
    apply_paths(landing, warehouse, target)
    location = settings.landing_location()
    if not settings.is_remote(location) and not Path(location).exists():
        raise ExitError(f"{location}: landing folder does not exist. Pass --landing DIR or set "
                        "MLCOST_LANDING.", MISSING_INPUT)
    wh = settings.warehouse_path()
    run_id = str(uuid.uuid4())
    started = time.perf_counter()
    timeout = run_lock.busy_timeout()
    files, taken_at = None, time.time()
    since = datetime.now(UTC).replace(tzinfo=None)  # the ledger's loaded_at: naive UTC
    if not settings.is_remote(location):  # a remote landing is compared by the mirror step
        files = run_state.snapshot(Path(location))
        if periods is None and not full_refresh and \
                (last := run_state.nothing_new(wh, location, files)):
            print(f"mlcost: nothing new since {last['run_id']} (finished {last['finished']}); "
                  f"{len(files)} file(s) in {location} unchanged. Nothing was rebuilt.")
            _raise_problems(wh)
            return OK
    with run_lock.warehouse_lock(wh, run_id, timeout=timeout, say=_say):
        run_lock.wait_for_duckdb(wh, time.monotonic() + timeout, say=_say)
        # A run that fails leaves no state: the next one cannot be taken for a no-op.
        run_state.state_path(wh).unlink(missing_ok=True)
        with _dbt_worker(wh):
            result, log_path, info = _run_locked(wh, run_id, periods, full_refresh)
        if result.success and files is not None:
            from dagster_project.lib.ingest.discover import settle_seconds

            run_state.write_state(wh, run_id, location, files, taken_at, settle_seconds())
        if result.success and is_bigquery(settings.dbt_target()):
            # The summary and review pack read BigQuery's outputs through the working copy.
            from dagster_project.lib.bigquery_stages import pull_for_readers

            pull_for_readers(wh)
        if result.success:  # the review packs (docs/review-pack.md), still under the run lock
            from dagster_project.lib.report.pack import render_after_run

            render_after_run(wh, settings.reports_dir(), say=_say if quiet else print,
                             formats=review_formats)
    elapsed = time.perf_counter() - started
    if not result.success and _interrupted(result):
        raise KeyboardInterrupt  # SIGTERM/Ctrl-C inside a step: Dagster ended the run cleanly
    if not result.success:
        messages = failure_messages(result)
        text = " ".join(messages).lower()
        if "open for writing in another process" in text or "could not set lock" in text:
            from dagster_project.lib.warehouse import busy_message

            raise ExitError(busy_message(wh), BUSY)
        from dagster_project.lib.forecast.scenario_file import (
            SCENARIO_FILE_INVALID,
            SCENARIO_FILE_MISSING,
        )

        if messages and all(SCENARIO_FILE_INVALID in m for m in messages):
            # bad planning input, not a broken run: the costs are published, the forecast not
            raise ExitError("mlcost run published the costs but did not forecast:\n"
                            + "\n".join(f"  - {m}" for m in messages)
                            + f"\n  full log: {log_path}", DATA_ERROR)
        if messages and all(SCENARIO_FILE_MISSING in m for m in messages):
            raise ExitError("mlcost run published the costs but did not forecast:\n"
                            + "\n".join(f"  - {m}" for m in messages), MISSING_INPUT)
        raise ExitError("mlcost run failed.\n" + "\n".join(f"  - {m}" for m in messages)
                        + f"\n  full log: {log_path}")
    if not quiet:
        from dagster_project.lib.ingest.discover import discover
        from dagster_project.lib.run_summary import collect, render

        seen = list(files) if files is not None else [str(p) for p in
                                                       discover(settings.landing_dir())]
        render(collect(wh, since, seen, info["window"], info["checks"], held_back_slices(wh),
                       elapsed, seeds_rebuilt=info.get("seeds_rebuilt")), wh)
    _raise_problems(wh)
    return OK


def _raise_problems(wh: Path) -> None:
    """Exit 65 naming the quarantined files and held-back slices, if any."""
    problems = []
    if bad := quarantined_files(wh, settings.landing_dir()):
        problems.append(f"{len(bad)} file(s) were quarantined and not loaded (everything else "
                        "was):\n" + "\n".join(f"  - {e}" for e in bad))
    if held := held_back_slices(wh):
        problems.append(f"{len(held)} billing slice(s) were held back and not published "
                        "(everything else was; focus.rpt_held_back_slices):\n"
                        + "\n".join(f"  - {h}" for h in held))
    if ignored := ignored_action_lines(wh, settings.landing_dir()):
        problems.append(f"{len(ignored)} line(s) of the recommendation actions file were "
                        "ignored (the others apply; marts.rpt_recommendation_action_problems):\n"
                        + "\n".join(f"  - {i}" for i in ignored))
    if problems:
        raise ExitError("\n".join(problems), DATA_ERROR)


def _dbt_worker(wh: Path):
    """A warm dbt process for the run's dbt invocations (lib/dbt_worker.py); none on BigQuery,
    where a run's time is BigQuery's."""
    if is_bigquery(settings.dbt_target()):
        return contextlib.nullcontext()
    from dagster_project.lib import dbt_worker

    return dbt_worker.running(wh.with_name(f"{wh.name}.dbt") / "worker")


def _load_definitions():
    """dbt's manifest (parsed when stale) and the definitions that read it. Runs on other
    warehouses share dbt's target folder and maybe a fresh DAGSTER_HOME: one process at a time
    parses, reads the manifest and creates the instance's tables."""
    import dagster as dg

    with run_lock.short_lock(settings.DBT_PROJECT_DIR / "target" / ".mlcost-parse.lock"):
        from dagster_project.lib.dbt_client import worker_path

        ensure_dbt_manifest(definitions_only=worker_path() is not None)
        prune_per_invocation_targets()
        from dagster_project.definitions import defs
    with run_lock.short_lock(Path(os.environ["DAGSTER_HOME"]) / ".mlcost-init.lock"), \
            dg.DagsterInstance.get() as instance:
        instance.get_runs(limit=1)  # creates the sqlite storages if this home is new
    return defs


def _run_locked(wh: Path, run_id: str, periods, full_refresh: bool):
    defs = _load_definitions()
    import dagster as dg
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from dagster_project.defs.dbt.assets import ASSETS as DBT_ASSETS
    from dagster_project.defs.ingest.partitions import billing_periods

    log_path = wh.parent / "logs" / "mlcost-last-run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    tags = {**owner_tags(wh), RUN_ID_TAG: run_id}
    with dg.DagsterInstance.get() as instance, open(log_path, "w") as log:
        for dead in reap_dead_runs(instance):
            _say(f"mlcost: run {dead} had no live process; marked failed, its pool slots freed")
        pending = run_lock.read_pending(wh)
        run_lock.write_pending(wh, run_id, None)
        # The run's full event log is in the Dagster instance (`make dev` shows it); the console
        # gets warnings and errors only unless MLCOST_LOG_LEVEL says otherwise.
        level = os.environ.get("MLCOST_LOG_LEVEL", "WARNING").upper()
        # Libraries imported on the way (great-expectations, dbt) may configure the root logger.
        logging.getLogger().setLevel(level)
        for handler in logging.getLogger().handlers:
            handler.setLevel(level)
        # dagster-dbt echoes every dbt event to stdout; keep that in a log file instead.
        verbose = level in ("DEBUG", "INFO")
        info: dict = {"window": None, "checks": []}
        with _progress("loading new exports"):
            result = _execute(defs.resolve_job_def("ingest"), instance, level, log, verbose,
                              run_id=run_id, tags=tags)
        info["checks"] += failed_checks(result)
        if not result.success:
            return result, log_path, info
        window = _with_unfinished(periods or default_window(result, wh), pending, wh)
        if window is None:  # nothing billed yet: build the (empty) current month
            window = (billing_periods.get_last_partition_key(),) * 2
        known = billing_periods.get_partition_keys()
        for key in window:
            if key not in known:
                raise ExitError(
                    f"billing period {key} is outside the partitions ({known[0]} to "
                    f"{known[-1]}); set MLCOST_FIRST_BILLING_PERIOD=YYYY-MM earlier.", USAGE)
        run_lock.write_pending(wh, run_id, window)
        extra = {"ops": {a.op.name: {"config": {"full_refresh": True}} for a in DBT_ASSETS}
                 } if full_refresh else {}
        info["window"] = tuple(window)
        job = defs.resolve_job_def("mlcost_build")
        # Seeds whose inputs did not change since a run that built and tested them are left
        # out of the job (lib/seed_state.py): the same tables, the same test results.
        seeds = SeedPlan(job, wh, full_refresh=full_refresh, target=settings.dbt_target())
        with _progress(f"rebuilding billing periods {window[0]} to {window[1]} and everything "
                       "downstream"):
            result = _execute(
                job, instance, level, log, verbose, asset_selection=seeds.selection,
                tags={**tags, ASSET_PARTITION_RANGE_START_TAG: window[0],
                      ASSET_PARTITION_RANGE_END_TAG: window[1]},
                extra_config=extra)
        info["checks"] += failed_checks(result)
        info["seeds_rebuilt"] = not seeds.current
        seeds.after(result)
        if result.success:
            run_lock.clear_pending(wh)
    return result, log_path, info


def _progress(text: str):
    """A rich spinner on long steps, only when stdout is a terminal (logs and pipes stay
    clean). Bound to the real stdout: the steps redirect sys.stdout to the log file."""
    if not sys.stdout.isatty():
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(file=sys.stdout).status(f"mlcost: {text}…")
