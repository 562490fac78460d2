"""`mlcost`: the command line. It drives the same Dagster definitions in process; it does not
reimplement orchestration."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from dagster_project import settings

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_USAGE = 0, 1, 2, 64


class CliError(Exception):
    """An error the user can act on: printed as one paragraph, no traceback."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------------------------------
# helpers


DAGSTER_YAML = """\
# Written by mlcost (docs/operations.md). Local sqlite storage (Dagster's default); no usage
# statistics from an offline tool. The embedded DuckDB has one writer: every asset that writes
# it is in the pool `duckdb_warehouse`, and pools default to one op at a time.
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
"""


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME with a dagster.yaml that limits the warehouse pool to one writer (an
    existing dagster.yaml is the operator's and is left alone)."""
    os.environ.setdefault("DAGSTER_HOME", str(settings.PROJECT_ROOT / "data" / "dagster_home"))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(DAGSTER_YAML)
    return home


def _apply_paths(landing: str | None = None, warehouse: str | None = None) -> None:
    if landing:
        os.environ["MLCOST_LANDING"] = landing
    if warehouse:
        os.environ["MLCOST_WAREHOUSE"] = warehouse
    settings.export_env()
    ensure_dagster_home()


def _dbt_inputs() -> list[Path]:
    root = settings.DBT_PROJECT_DIR
    files = [root / "dbt_project.yml", root / "profiles.yml"]
    for sub in ("models", "macros", "tests"):
        files.extend(p for p in (root / sub).rglob("*") if p.is_file())
    files.extend(p for p in (settings.PROJECT_ROOT / "seeds").rglob("*") if p.is_file())
    return files


def ensure_dbt_manifest(force: bool = False) -> Path:
    """`dbt parse` when the manifest is missing or older than any dbt source file.

    @dbt_assets needs the manifest at import time; outside `dagster dev` nothing else makes it.
    """
    manifest = settings.DBT_PROJECT_DIR / "target" / "manifest.json"
    # dbt's partial-parse state hashes the profile, warehouse path included: parsed for another
    # warehouse, every dbt invocation of the run would parse the whole project again.
    parsed_for = settings.DBT_PROJECT_DIR / "target" / ".mlcost-parsed-for"
    profile_key = os.environ.get("MLCOST_WAREHOUSE", "")
    if not force and manifest.exists() and parsed_for.exists() \
            and parsed_for.read_text() == profile_key:
        newest = max((p.stat().st_mtime for p in _dbt_inputs()), default=0)
        if manifest.stat().st_mtime >= newest:
            return manifest
    from dbt.cli.main import dbtRunner

    res = dbtRunner().invoke(["parse", "--quiet", "--project-dir", str(settings.DBT_PROJECT_DIR),
                              "--profiles-dir", str(settings.DBT_PROJECT_DIR)])
    if not res.success:
        raise CliError(f"dbt could not parse the project in {settings.DBT_PROJECT_DIR}: "
                       f"{res.exception or 'see the dbt log above'}")
    parsed_for.write_text(profile_key)
    return manifest


# dagster-dbt's default target folder per invocation (`<asset>-<run id>-<random>`), which
# mlcost used before it gave each dbt asset one folder beside the warehouse (defs/dbt/assets.py).
_PER_INVOCATION_TARGET = re.compile(r"[a-z_]+-[0-9a-f]{7}-[0-9a-f]{7}")


def prune_per_invocation_targets() -> int:
    """Remove the per-invocation dbt target folders earlier versions left (8 MB each, three a
    run, never removed). Returns how many were removed."""
    import shutil

    target = settings.DBT_PROJECT_DIR / "target"
    stale = [p for p in target.iterdir() if p.is_dir()
             and _PER_INVOCATION_TARGET.fullmatch(p.name)] if target.is_dir() else []
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return len(stale)


def _failure_messages(result) -> list[str]:
    messages = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            err = event.step_failure_data.error
            text = err.message.strip() if err else "unknown error"
            cause = err.cause if err else None
            while cause is not None:
                text += " " + cause.message.strip()
                cause = cause.cause
            messages.append(f"step {event.step_key} failed: {text}")
    return messages


def _last_full_quarter(con) -> str | None:
    row = con.execute(
        """with months as (
               select distinct cast(date_trunc('month', "ChargePeriodStart") as date) as m
               from focus.focus_cost_and_usage
               where "ChargeCategory" = 'Usage'
           ),
           quarters as (
               select year(m) as y, quarter(m) as q, count(*) as n from months group by 1, 2
           )
           select y, q from quarters where n = 3 order by y desc, q desc limit 1"""
    ).fetchone()
    return f"{row[0]}Q{row[1]}" if row else None


# ---------------------------------------------------------------------------------------------
# commands


def cmd_generate(args) -> int:
    from dagster_project.lib.generate import generate
    from dagster_project.lib.generate.scale import generate_scaled, parse_scale

    try:
        scale = parse_scale(args.scale)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    started = time.perf_counter()
    if isinstance(scale, int):  # a row count (1M, 10M...): one month at benchmark volume
        summary = generate_scaled(Path(args.out), scale, seed=args.seed)
    else:
        summary = generate(Path(args.out), months=args.months, seed=args.seed, scale=scale,
                           end_month=_end_month(args.end_month))
    rows = getattr(summary, "rows_per_provider", {})
    print(f"Generated {sum(rows.values()):,} billing rows in {time.perf_counter() - started:.1f}s "
          f"under {Path(args.out).resolve()}: "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(rows.items())))
    return EXIT_OK


def _end_month(value: str | None):
    """--end-month YYYY-MM as the first day of that month (None: the generator's default, the
    last month of the last complete quarter before today)."""
    import datetime as dt

    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise CliError(f"--end-month {value!r}: expected YYYY-MM, e.g. 2026-09.", EXIT_USAGE)
    return dt.date(int(value[:4]), int(value[5:]), 1)


def _busy_message(messages: list[str]) -> str | None:
    """A run that failed because another process holds the warehouse: the one paragraph."""
    from dagster_project.lib.warehouse import busy_message

    text = " ".join(messages).lower()
    if "open for writing in another process" in text or "could not set lock" in text:
        return busy_message(settings.warehouse_path())
    return None


def _ensure_warehouse_free() -> None:
    """Fail before starting when another process holds the warehouse for writing."""
    from dagster_project.lib.ingest.errors import WarehouseBusyError
    from dagster_project.lib.warehouse import connection

    try:
        with connection(settings.warehouse_path()):
            pass
    except WarehouseBusyError as exc:
        raise CliError(str(exc)) from exc


def _period_range(period: str | None, first: str | None, last: str | None
                  ) -> tuple[str, str] | None:
    for name, value in (("--period", period), ("--from", first), ("--to", last)):
        if value is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
            raise CliError(f"{name} {value!r}: expected a billing period YYYY-MM, e.g. 2026-03.",
                           EXIT_USAGE)
    if period and (first or last):
        raise CliError("--period cannot be combined with --from/--to.", EXIT_USAGE)
    if period:
        return period, period
    if first or last:
        if not (first and last):
            raise CliError("--from and --to go together (both inclusive).", EXIT_USAGE)
        if first > last:
            raise CliError(f"--from {first} is after --to {last}.", EXIT_USAGE)
        return first, last
    return None


def _loaded_period_range() -> tuple[str, str] | None:
    from dagster_project.lib.warehouse import connection, table_exists

    with connection(settings.warehouse_path(), read_only=True) as con:
        if not table_exists(con, "meta", "deliveries"):
            return None
        # Billing data only: budgets are plan data for future quarters.
        lo, hi = con.execute(
            "select min(billing_period), max(billing_period) from meta.deliveries "
            "where is_current and family not in ('budgets', 'utilization_metrics')").fetchone()
    return (lo.strftime("%Y-%m"), hi.strftime("%Y-%m")) if lo else None


def _default_window(ingest_result) -> tuple[str, str] | None:
    """What `mlcost run` rebuilds without --period/--from/--to: on a warehouse that already
    holds FOCUS data, the billing periods whose deliveries this run's ingest changed (a daily
    run costs what the new data costs); otherwise, or with nothing changed, see below."""
    from dagster_project.defs.ingest.assets import CHANGED_PERIODS, DELIVERIES_KEY
    from dagster_project.lib.warehouse import connection, table_exists

    with connection(settings.warehouse_path(), read_only=True) as con:
        built = table_exists(con, "focus", "focus_cost_and_usage")
    if not built:  # first build: every period with a current delivery
        return _loaded_period_range()
    changed: list[str] = []
    for mat in ingest_result.asset_materializations_for_node("ingest_landed_exports"):
        if mat.asset_key == DELIVERIES_KEY and CHANGED_PERIODS in mat.metadata:
            changed += list(mat.metadata[CHANGED_PERIODS].value or [])
    if changed:
        return (min(changed), max(changed))
    # Nothing new: rebuild the latest period only (cheap) so the downstream stages still run.
    loaded = _loaded_period_range()
    return (loaded[1], loaded[1]) if loaded else None


def _execute(job, instance, level: str, log, verbose: bool, **kwargs):
    run_config = {"loggers": {"console": {"config": {"log_level": level}}},
                  **kwargs.pop("extra_config", {})}
    with contextlib.redirect_stdout(sys.stdout if verbose else log):
        return job.execute_in_process(instance=instance, raise_on_error=False,
                                      run_config=run_config, **kwargs)


def run_pipeline(landing: str | None, warehouse: str | None, *, quiet: bool = False,
                 periods: tuple[str, str] | None = None, full_refresh: bool = False) -> int:
    """Ingest what is new, then rebuild the billing periods `periods` (first, last inclusive;
    default: the periods this run's deliveries changed, every period on a first build) and
    everything downstream."""
    _apply_paths(landing, warehouse)
    location = settings.landing_location()
    if not settings.is_remote(location) and not Path(location).exists():
        raise CliError(f"{location}: landing folder does not exist. Pass --landing DIR or set "
                       "MLCOST_LANDING.", EXIT_USAGE)
    _ensure_warehouse_free()
    ensure_dbt_manifest()
    prune_per_invocation_targets()
    import dagster as dg
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from dagster_project.definitions import defs
    from dagster_project.defs.dbt.assets import ASSETS as DBT_ASSETS
    from dagster_project.defs.ingest.partitions import billing_periods

    started = time.perf_counter()
    log_path = settings.warehouse_path().parent / "logs" / "mlcost-last-run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with dg.DagsterInstance.get() as instance, open(log_path, "w") as log:
        # The run's full event log is in the Dagster instance (`make dev` shows it); the console
        # gets warnings and errors only unless MLCOST_LOG_LEVEL says otherwise.
        level = os.environ.get("MLCOST_LOG_LEVEL", "WARNING").upper()
        # Libraries imported on the way (great-expectations, dbt) may configure the root logger.
        logging.getLogger().setLevel(level)
        for handler in logging.getLogger().handlers:
            handler.setLevel(level)
        # dagster-dbt echoes every dbt event to stdout; keep that in a log file instead.
        verbose = level in ("DEBUG", "INFO")
        result = _execute(defs.resolve_job_def("ingest"), instance, level, log, verbose)
        if result.success:
            window = periods or _default_window(result)
            if window is None:  # nothing billed yet: build the (empty) current month
                window = (billing_periods.get_last_partition_key(),) * 2
            known = billing_periods.get_partition_keys()
            for key in window:
                if key not in known:
                    raise CliError(
                        f"billing period {key} is outside the partitions ({known[0]} to "
                        f"{known[-1]}); set MLCOST_FIRST_BILLING_PERIOD=YYYY-MM earlier.",
                        EXIT_USAGE)
            extra = {"ops": {a.op.name: {"config": {"full_refresh": True}} for a in DBT_ASSETS}
                     } if full_refresh else {}
            result = _execute(
                defs.resolve_job_def("mlcost_build"), instance, level, log, verbose,
                tags={ASSET_PARTITION_RANGE_START_TAG: window[0],
                      ASSET_PARTITION_RANGE_END_TAG: window[1]},
                extra_config=extra)
    elapsed = time.perf_counter() - started
    bad = _quarantined(settings.landing_dir())
    if not result.success:
        messages = _failure_messages(result)
        if busy := _busy_message(messages):
            raise CliError(busy)
        raise CliError("mlcost run failed.\n" + "\n".join(f"  - {m}" for m in messages)
                       + f"\n  full log: {log_path}")
    if not quiet:
        print(f"mlcost run finished in {elapsed:.1f}s; warehouse {settings.warehouse_path()}")
    if bad:
        raise CliError(
            f"{len(bad)} file(s) were quarantined and not loaded (everything else was):\n"
            + "\n".join(f"  - {e}" for e in bad), EXIT_BAD_INPUT)
    return EXIT_OK


def _quarantined(landing_dir: Path) -> list[str]:
    from dagster_project.lib.warehouse import connection, table_exists

    if not settings.warehouse_path().exists():
        return []
    with connection(settings.warehouse_path(), read_only=True) as con:
        if not table_exists(con, "meta", "load_ledger"):
            return []
        rows = con.execute(
            """select path, error from meta.load_ledger q
               where status = 'quarantined'
                 and not exists (select 1 from meta.load_ledger ok
                                 where ok.path = q.path and ok.status = 'loaded'
                                   and ok.loaded_at > q.loaded_at)
               order by path""").fetchall()
    prefix = str(landing_dir)
    seen, out = set(), []
    for path, error in rows:
        if path.startswith(prefix) and Path(path).exists() and path not in seen:
            seen.add(path)
            out.append(error)
    return out


def cmd_run(args) -> int:
    periods = _period_range(args.period, args.period_from, args.period_to)
    return run_pipeline(args.landing, args.warehouse, periods=periods,
                        full_refresh=args.full_refresh)


def cmd_report(args) -> int:
    _apply_paths(None, args.warehouse)
    if not re.fullmatch(r"\d{4}Q[1-4]", args.quarter or ""):
        raise CliError(f"--quarter {args.quarter!r}: expected YYYYQn, e.g. 2026Q3.", EXIT_USAGE)
    from dagster_project.lib.report import render_quarterly_report
    from dagster_project.lib.warehouse import connection

    out = Path(args.out) if args.out else settings.reports_dir()
    with connection(settings.warehouse_path()) as con:
        path = render_quarterly_report(con, args.quarter, out)
    print(f"Report written: {path}")
    return EXIT_OK


EXPORTS = {
    "focus": ("focus", "focus_cost_and_usage"),
    "costs": ("marts", "fct_cost_allocations"),
    "waste": ("marts", "fct_idle_waste"),
    "forecast": ("forecast", "forecast_values"),
    "variance": ("variance", "quarterly_variance"),
}


def cmd_export(args) -> int:
    _apply_paths(None, args.warehouse)
    from dagster_project.lib.exporter import export_table
    from dagster_project.lib.warehouse import connection, table_exists

    schema, table = EXPORTS[args.table]
    with connection(settings.warehouse_path(), read_only=True) as con:
        if not table_exists(con, schema, table):
            raise CliError(f"{settings.warehouse_path()}: table {schema}.{table} does not exist "
                           f"yet, so `{args.table}` cannot be exported. Run `mlcost run` first.")
        n = export_table(con, schema, table, Path(args.out), args.format)
    print(f"Exported {n:,} rows of {schema}.{table} to {args.out}")
    return EXIT_OK


def cmd_demo(args) -> int:
    from dagster_project.lib.generate import generate

    root = Path(args.out or settings.PROJECT_ROOT / "data" / "demo").resolve()
    started = time.perf_counter()
    summary = generate(root, months=args.months, seed=args.seed, scale=args.scale,
                       end_month=_end_month(args.end_month))
    rows = getattr(summary, "rows_per_provider", {})
    print(f"Demo exports: {sum(rows.values()):,} rows in {root / 'landing'} "
          f"({time.perf_counter() - started:.1f}s)")
    # The exports were just written, completely, by this process: no settle time needed.
    os.environ.setdefault("MLCOST_SETTLE_SECONDS", "0")
    code = run_pipeline(str(root / "landing"), args.warehouse, quiet=True)
    from dagster_project.lib.summary import print_summary

    print_summary(settings.warehouse_path(), settings.reports_dir(),
                  elapsed=time.perf_counter() - started)
    return code


# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mlcost", description=(
        "Multi-cloud ML cost pipeline: billing exports -> FOCUS 1.2 -> attribution, idle waste, "
        "forecast and quarterly variance."))
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write the deterministic demo exports")
    g.add_argument("--out", required=True, help="output root (landing/ and ground_truth/)")
    g.add_argument("--months", type=int, default=18)
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--end-month", help="last month of the demo data, YYYY-MM (default: the "
                   "last month of the last complete quarter before today); pins the window")
    g.add_argument("--scale", default="1.0", help="fleet-size multiplier (e.g. 1.5), or a CUR "
                   "2.0 row count (1M, 10M, 100M) for one month at benchmark volume")
    g.set_defaults(func=cmd_generate)

    r = sub.add_parser("run", help="materialize the full asset graph over the landing folder")
    r.add_argument("--landing", help="landing folder (default $MLCOST_LANDING or data/landing)")
    r.add_argument("--warehouse", help="DuckDB file (default $MLCOST_WAREHOUSE or "
                                       "data/warehouse.duckdb)")
    r.add_argument("--period", help="rebuild only this billing period, YYYY-MM (backfill)")
    r.add_argument("--from", dest="period_from", help="first billing period to rebuild, YYYY-MM")
    r.add_argument("--to", dest="period_to", help="last billing period to rebuild (inclusive)")
    r.add_argument("--full-refresh", action="store_true",
                   help="rebuild the incremental models from scratch (after a model change)")
    r.set_defaults(func=cmd_run)

    d = sub.add_parser("demo", help="generate + run + report on the demo company")
    d.add_argument("--out", help="demo data root (default data/demo)")
    d.add_argument("--warehouse")
    d.add_argument("--months", type=int, default=18)
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--end-month", help="last month of the demo data, YYYY-MM (default: the "
                   "last month of the last complete quarter before today); pins the window")
    d.add_argument("--scale", type=float, default=1.0)
    d.set_defaults(func=cmd_demo)

    e = sub.add_parser("export", help="write one published dataset to Parquet or CSV")
    e.add_argument("table", choices=sorted(EXPORTS))
    e.add_argument("--out", required=True)
    e.add_argument("--format", choices=["parquet", "csv"], default=None,
                   help="default: from the file extension, else parquet")
    e.add_argument("--warehouse")
    e.set_defaults(func=cmd_export)

    rp = sub.add_parser("report", help="write the quarterly variance report (HTML)")
    rp.add_argument("--quarter", required=True, help="YYYYQn")
    rp.add_argument("--out", help="output folder (default data/reports)")
    rp.add_argument("--warehouse")
    rp.set_defaults(func=cmd_report)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        if args.debug:
            raise
        print(f"mlcost: {exc}", file=sys.stderr)
        return exc.code
    except Exception as exc:  # anything else: still one paragraph unless --debug
        if args.debug:
            raise
        from dagster_project.lib.ingest.errors import BadInputError, WarehouseBusyError

        code = EXIT_BAD_INPUT if isinstance(exc, BadInputError) else EXIT_FAILED
        if isinstance(exc, (BadInputError, WarehouseBusyError, FileNotFoundError)):
            print(f"mlcost: {exc}", file=sys.stderr)
        else:
            print(f"mlcost: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
                  file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
