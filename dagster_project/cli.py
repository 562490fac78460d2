"""`mlcost`: the command line. It parses arguments and calls library functions (the pipeline
itself is lib/pipeline.py, on the project's Dagster definitions); exit codes: exit_codes.py."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from dagster_project import exit_codes, settings
from dagster_project.exit_codes import DATA_ERROR, MISSING_INPUT, OK, USAGE, ExitError
from dagster_project.lib.config import is_bigquery
from dagster_project.lib.instance import ensure_dagster_home  # noqa: F401  (Makefile `dev`)
from dagster_project.lib.pipeline import apply_paths, run_pipeline

CliError = ExitError  # the names earlier versions used
EXIT_OK, EXIT_USAGE = OK, USAGE
_PERIOD = r"\d{4}-(0[1-9]|1[0-2])"


def _end_month(value: str | None):
    """--end-month YYYY-MM as the first day of that month (None: the generator's default, the
    last month of the last complete quarter before today)."""
    import datetime as dt

    if value is None:
        return None
    if not re.fullmatch(_PERIOD, value):
        raise ExitError(f"--end-month {value!r}: expected YYYY-MM, e.g. 2026-09.", USAGE)
    return dt.date(int(value[:4]), int(value[5:]), 1)


def _period_range(period: str | None, first: str | None, last: str | None
                  ) -> tuple[str, str] | None:
    for name, value in (("--period", period), ("--from", first), ("--to", last)):
        if value is not None and not re.fullmatch(_PERIOD, value):
            raise ExitError(f"{name} {value!r}: expected a billing period YYYY-MM, e.g. 2026-03.",
                            USAGE)
    if period and (first or last):
        raise ExitError("--period cannot be combined with --from/--to.", USAGE)
    if period:
        return period, period
    if first or last:
        if not (first and last):
            raise ExitError("--from and --to go together (both inclusive).", USAGE)
        if first > last:
            raise ExitError(f"--from {first} is after --to {last}.", USAGE)
        return first, last
    return None


def _require_warehouse() -> Path:
    path = settings.warehouse_path()
    if not path.exists():
        raise ExitError(f"{path}: no warehouse here yet. Run `mlcost run` (or `make demo`) "
                        "first, or pass --warehouse.", MISSING_INPUT)
    return path


# ---------------------------------------------------------------------------------------------
# commands


def cmd_generate(args) -> int:
    from dagster_project.lib.generate import generate
    from dagster_project.lib.generate.scale import generate_scaled, parse_scale

    try:
        scale = parse_scale(args.scale)
    except ValueError as exc:
        raise ExitError(str(exc), USAGE) from None
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
    return OK


def cmd_run(args) -> int:
    periods = _period_range(args.period, args.period_from, args.period_to)
    return run_pipeline(args.landing, args.warehouse, periods=periods,
                        full_refresh=args.full_refresh, target=args.target)


EXPORTS = {
    "focus": ("focus", "focus_cost_and_usage"),
    "focus_allocated": ("focus", "focus_allocated"),
    "costs": ("marts", "fct_cost_allocations"),
    "waste": ("marts", "fct_idle_waste"),
    "forecast": ("forecast", "forecast_export"),
    "forecast_accuracy": ("forecast", "forecast_accuracy"),
    "variance": ("variance", "quarterly_variance"),
    "anomalies": ("monitoring", "cost_anomalies"),
    "budgets": ("planning", "budget_burndown"),
    "training_runs": ("marts", "fct_training_run_costs"),
    "unit_costs": ("marts", "fct_unit_costs"),
    "recommendations": ("marts", "fct_recommendations"),
}


def cmd_export(args) -> int:
    suffix = Path(args.out).suffix.lower()
    if args.format is None and suffix not in ("", ".parquet", ".csv"):
        raise ExitError(f"--out {args.out}: mlcost exports Parquet (.parquet) or CSV (.csv), not "
                        f"{suffix}; name the file .parquet or .csv, or pass --format.", USAGE)
    apply_paths(None, args.warehouse, args.target, command="mlcost export")
    from dagster_project.lib.exporter import export_table
    from dagster_project.lib.warehouse import connection, table_exists

    schema, table = EXPORTS[args.table]
    if is_bigquery(settings.dbt_target()):  # the working copy gets BigQuery's table first
        from dagster_project.lib.bigquery_stages import pull_for_export

        pull_for_export(settings.warehouse_path(), schema, table)
    with connection(_require_warehouse(), read_only=True) as con:
        if not table_exists(con, schema, table):
            raise ExitError(f"{settings.warehouse_path()}: table {schema}.{table} does not exist "
                            f"yet, so `{args.table}` cannot be exported. Run `mlcost run` first.",
                            MISSING_INPUT)
        n = export_table(con, schema, table, Path(args.out), args.format)
    print(f"Exported {n:,} rows of {schema}.{table} to {args.out}")
    return OK


def cmd_forecast(args) -> int:
    apply_paths(None, args.warehouse)
    from dagster_project.lib.forecast.command import run_forecast

    summary = run_forecast(_require_warehouse(), horizon=args.horizon, scenarios=args.scenarios,
                           as_of=args.as_of, lock=args.lock)
    print(summary.render())
    return OK


def cmd_sql(args) -> int:
    apply_paths(None, args.warehouse)
    from dagster_project.lib.sql_console import run_sql

    run_sql(settings.warehouse_path(), args.statement, args.format)
    return OK


def cmd_tables(args) -> int:
    apply_paths(None, args.warehouse)
    from dagster_project.lib.sql_console import print_tables

    print_tables(settings.warehouse_path(), settings.DBT_PROJECT_DIR / "target" / "manifest.json")
    return OK


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
    # The demo company's reference seeds (teams, account map, shared-cost shares).
    os.environ["MLCOST_REFERENCE_SET"] = "demo"
    # The demo's own MLflow store (docs/mlflow.md), when the mlflow extra wrote it.
    store = root / "mlflow" / "mlflow.db"
    mlflow_uri = f"sqlite:///{store}" if store.exists() else None
    if mlflow_uri:
        os.environ["MLCOST_MLFLOW_URI"] = mlflow_uri
    apply_paths(str(root / "landing"), args.warehouse)
    # A config file pointing at the demo, so a bare `mlcost run` afterwards works; not when
    # MLCOST_CONFIG names the file to use (or, empty, says to use none).
    from dagster_project.lib.config import CONFIG_ENV, write_demo_config

    if CONFIG_ENV in os.environ:
        print(f"{CONFIG_ENV} is set: no mlcost.toml written for the demo")
    else:
        try:
            config, written = write_demo_config(Path.cwd(), root / "landing",
                                                settings.warehouse_path(), mlflow_uri)
            print(f"Wrote {config}: the demo's landing and warehouse (a bare `mlcost run` "
                  "uses them)" if written else f"{config} exists: left as it is (not changed)")
        except OSError as exc:  # a read-only working directory: the demo itself still runs
            print(f"mlcost.toml not written in {Path.cwd()}: {exc.strerror or exc}",
                  file=sys.stderr)
    code = run_pipeline(str(root / "landing"), args.warehouse, quiet=True,
                        review_formats=("html", "pdf"))
    from dagster_project.lib.summary import print_summary

    print_summary(settings.warehouse_path(), settings.reports_dir(),
                  elapsed=time.perf_counter() - started)
    return code


# ---------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits 64 (USAGE) like mlcost's own, not argparse's 2."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\n")


LANDING_HELP = ("landing folder or s3:// URL (default: $MLCOST_LANDING, else `landing` in "
                "mlcost.toml, else data/landing)")
WAREHOUSE_HELP = ("DuckDB warehouse file (default: $MLCOST_WAREHOUSE, else `warehouse` in "
                  "mlcost.toml, else data/warehouse.duckdb)")
TARGET_HELP = ("dbt target: dev (embedded DuckDB) or prod (BigQuery; emulator for tests) "
               "(default: $DBT_TARGET, else `target` in mlcost.toml, else dev; "
               "docs/bigquery.md)")
TARGET_CHOICES = ("dev", "prod", "emulator")
DEMO_MONTHS = 36  # = lib/generate/window.py DEFAULT_MONTHS (not imported: numpy is slow)
END_MONTH_HELP = ("last month of the demo data, YYYY-MM (default: the last month of the last "
                  "complete quarter before today); pins the window")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlcost")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mlcost", description=(
        "Multi-cloud ML cost pipeline: billing exports -> FOCUS 1.2 -> attribution, idle waste, "
        "forecast and quarterly variance. Exit codes: README.md, 'Exit codes'."))
    p.add_argument("--version", action="version", version=f"mlcost {_version()}")
    p.add_argument("--debug", action="store_true",
                   help="show tracebacks on errors (default: off)")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write the deterministic demo exports")
    g.add_argument("--out", required=True, help="output root (landing/ and ground_truth/)")
    g.add_argument("--months", type=int, default=DEMO_MONTHS,
                   help=f"months of data (default: {DEMO_MONTHS}: three years, so yearly "
                   "seasonality is learnable)")
    g.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    g.add_argument("--end-month", help=END_MONTH_HELP)
    g.add_argument("--scale", default="1.0", help="fleet-size multiplier (e.g. 1.5), or a CUR "
                   "2.0 row count (1M, 10M, 100M) for one month at benchmark volume "
                   "(default: 1.0)")
    g.set_defaults(func=cmd_generate)

    r = sub.add_parser("run", help="materialize the full asset graph over the landing folder")
    r.add_argument("--landing", metavar="DIR|URL", help=LANDING_HELP)
    r.add_argument("--warehouse", metavar="FILE", help=WAREHOUSE_HELP)
    r.add_argument("--period", metavar="YYYY-MM", help="rebuild only this billing period "
                   "(backfill; default: the periods whose deliveries changed)")
    r.add_argument("--from", dest="period_from", metavar="YYYY-MM",
                   help="first billing period to rebuild, YYYY-MM (default: see --period)")
    r.add_argument("--to", dest="period_to", metavar="YYYY-MM",
                   help="last billing period to rebuild, inclusive (default: see --period)")
    r.add_argument("--target", choices=TARGET_CHOICES, help=TARGET_HELP)
    r.add_argument("--full-refresh", action="store_true",
                   help="rebuild the incremental models from scratch, after a model change "
                   "(default: off)")
    r.set_defaults(func=cmd_run)

    d = sub.add_parser("demo", help="generate + run + report on the demo company")
    d.add_argument("--out", help="demo data root (default: data/demo)")
    d.add_argument("--warehouse", metavar="FILE", help=WAREHOUSE_HELP)
    d.add_argument("--months", type=int, default=DEMO_MONTHS,
                   help=f"months of data (default: {DEMO_MONTHS}: three years, so yearly "
                   "seasonality is learnable)")
    d.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    d.add_argument("--end-month", help=END_MONTH_HELP)
    d.add_argument("--scale", type=float, default=1.0,
                   help="fleet-size multiplier (default: 1.0)")
    d.set_defaults(func=cmd_demo)

    e = sub.add_parser("export", help="write one published dataset to Parquet or CSV")
    e.add_argument("table", choices=sorted(EXPORTS))
    e.add_argument("--out", required=True, help="output file, .parquet or .csv")
    e.add_argument("--format", choices=["parquet", "csv"], default=None,
                   help="default: from the --out extension (.parquet, .csv; none = parquet); "
                   "any other extension is refused")
    e.add_argument("--warehouse", metavar="FILE", help=WAREHOUSE_HELP)
    e.add_argument("--target", choices=TARGET_CHOICES, help=TARGET_HELP)
    e.set_defaults(func=cmd_export)

    from dagster_project.lib.forecast.config import DEFAULT_HORIZON

    f = sub.add_parser("forecast", help="write a forecast snapshot (baseline, base, best, "
                       "worst) from the warehouse's actuals")
    f.add_argument("--horizon", type=int, default=DEFAULT_HORIZON,
                   help=f"months to forecast (default: {DEFAULT_HORIZON})")
    f.add_argument("--scenarios", metavar="FILE", help="planning assumptions (default: "
                   "$MLCOST_SCENARIOS, else `scenarios` in mlcost.toml, else scenarios.yml "
                   "beside the landing folder if it exists)")
    f.add_argument("--as-of", metavar="YYYY-MM", help="last month of actuals to forecast from "
                   "(default: the last closed month with actuals)")
    f.add_argument("--lock", action="store_true", help="lock the snapshot as the plan of the "
                   "quarter that starts after the as-of month (a lock never moves; default: off)")
    f.add_argument("--warehouse", metavar="FILE", help=WAREHOUSE_HELP)
    f.set_defaults(func=cmd_forecast)

    from dagster_project.lib.report.command import add_parser as add_report_parser

    add_report_parser(sub)  # `mlcost report`: lib/report/command.py

    q = sub.add_parser("sql", help="run one read-only SQL query on the warehouse")
    q.add_argument("statement", help='one query, e.g. "from marts.fct_costs_monthly limit 10"')
    q.add_argument("--format", choices=["table", "csv", "json"], default="table",
                   help="table (aligned, first 1000 rows), csv or json (all rows) "
                   "(default: table)")
    q.add_argument("--warehouse", metavar="FILE", help=WAREHOUSE_HELP)
    q.set_defaults(func=cmd_sql)

    t = sub.add_parser("tables", help="list the published tables with row counts and meaning")
    t.add_argument("--warehouse", metavar="FILE", help=WAREHOUSE_HELP)
    t.set_defaults(func=cmd_tables)

    from dagster_project.lib.mlflow_runs import sync as mlflow_sync
    from dagster_project.lib.whatif.command import add_parser as add_whatif_parser

    mlflow_sync.add_parser(sub)
    add_whatif_parser(sub)
    from dagster_project.lib.bigquery_access_command import add_parser as add_bq_access_parser

    add_bq_access_parser(sub)  # `mlcost bigquery-access`: docs/bigquery.md
    return p


def _on_signal(signum, frame):  # noqa: ARG001  (signal handler signature)
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGTERM (a scheduler's timeout, `kill`) stops a run the way Ctrl-C does: Dagster marks the
    # run failed, dbt's subprocess is terminated, the open DuckDB transaction rolls back.
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        return args.func(args)
    except BrokenPipeError:  # `mlcost sql ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK
    except KeyboardInterrupt:
        print("mlcost: stopped (Ctrl-C or SIGTERM). What was committed stays; the next "
              "`mlcost run` finishes the rest.", file=sys.stderr)
        return exit_codes.INTERRUPTED
    except ExitError as exc:
        if args.debug:
            raise
        print(f"mlcost: {exc}", file=sys.stderr)
        return exc.code
    except Exception as exc:  # anything else: still one paragraph unless --debug
        if args.debug:
            raise
        from dagster_project.lib.ingest.errors import BadInputError, WarehouseBusyError

        if isinstance(exc, BadInputError):
            code = DATA_ERROR
        elif isinstance(exc, WarehouseBusyError):
            code = exit_codes.BUSY
        elif isinstance(exc, FileNotFoundError):
            code = MISSING_INPUT
        else:
            print(f"mlcost: {type(exc).__name__}: {exc} (an internal error: rerun with --debug "
                  "for the traceback)", file=sys.stderr)
            return exit_codes.INTERNAL
        print(f"mlcost: {exc}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
