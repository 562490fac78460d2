"""`mlcost report`: the quarterly review pack from the command line (docs/review-pack.md).

Every bad request is refused before anything is created: a malformed quarter or format (64),
a missing warehouse (66; it is never created), a warehouse a run is writing (75), a quarter
without cost data (66).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from dagster_project import settings
from dagster_project.exit_codes import BUSY, MISSING_INPUT, OK, ExitError

FORMAT_CHOICES = {"html": ("html",), "pdf": ("pdf",), "both": ("html", "pdf")}
DEFAULT_FORMAT = "both"  # what a reviewer wants; `--format html` skips the slower PDF


def add_parser(sub) -> None:
    rp = sub.add_parser("report", help="write the quarterly review pack (HTML and PDF)")
    rp.add_argument("--quarter", required=True, metavar="YYYYQn",
                    help="the quarter, e.g. 2026Q3 (an incomplete quarter gives a "
                    "preliminary pack)")
    rp.add_argument("--format", choices=sorted(FORMAT_CHOICES), default=DEFAULT_FORMAT,
                    help=f"html, pdf or both (default: {DEFAULT_FORMAT})")
    rp.add_argument("--out", metavar="DIR", help="output folder; the pack goes to "
                    "DIR/<quarter>/report.html and report.pdf (default: $MLCOST_REPORTS, else "
                    "data/reports)")
    rp.add_argument("--notes", metavar="FILE", help="reviewer notes to include (default: "
                    "$MLCOST_REVIEW_NOTES, else `review_notes` in mlcost.toml, else "
                    "<landing>/../review_notes/<quarter>.md)")
    rp.add_argument("--warehouse", metavar="FILE",
                    help="DuckDB warehouse file (default: $MLCOST_WAREHOUSE, else `warehouse` "
                    "in mlcost.toml, else data/warehouse.duckdb)")
    rp.add_argument("--target", choices=("dev", "prod", "emulator"),
                    help="dbt target: dev (DuckDB) or prod (BigQuery; the review marts are "
                    "read from BigQuery into the working copy first) (default: $DBT_TARGET, "
                    "else `target` in mlcost.toml, else dev)")
    rp.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from dagster_project.lib.pipeline import apply_paths

    from .pack import check_quarter

    check_quarter(args.quarter)  # 64 before touching anything
    apply_paths(None, args.warehouse, args.target, command="mlcost report")
    warehouse = settings.warehouse_path()
    if args.notes and not Path(args.notes).is_file():
        raise ExitError(f"--notes {args.notes}: no such file.", MISSING_INPUT)
    from dagster_project.lib.config import is_bigquery

    refuse_if_running(warehouse)
    if is_bigquery(settings.dbt_target()):
        # BigQuery is the warehouse; the working copy is refreshed from it (and made if new).
        from dagster_project.lib.bigquery_stages import pull_for_readers

        pull_for_readers(warehouse)
    if not warehouse.is_file():
        raise ExitError(f"{warehouse}: no warehouse here (nothing was created). Run `mlcost run` "
                        "(or `make demo`) first, or pass --warehouse.", MISSING_INPUT)
    from dagster_project.lib.warehouse import connection

    from . import render_review_pack

    out = Path(args.out) if args.out else settings.reports_dir()
    with connection(warehouse, read_only=True) as con:
        pack = render_review_pack(con, args.quarter, out, FORMAT_CHOICES[args.format],
                                  notes_path=args.notes)
    for kind, path in pack.paths.items():
        print(f"Review pack ({kind}) written: {path}")
    if pack.banner:
        print(pack.banner)
    for anchor, reason in pack.unavailable:
        print(f"  #{anchor}: {reason}")
    return OK


def refuse_if_running(warehouse: Path) -> None:
    """BUSY (75) while an `mlcost run` holds the warehouse's run lock: its tables may be half
    rebuilt. Checked without waiting (a report is a read) and without creating the lock file."""
    from dagster_project.lib.run_lock import describe, lock_path, read_holder

    path = lock_path(warehouse)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ExitError(
            f"{warehouse}: {describe(read_holder(warehouse))} is writing this warehouse, so "
            "its tables may be half rebuilt. Run `mlcost report` again when it has finished. "
            "Nothing was written.", BUSY) from None
    finally:
        os.close(fd)  # closing releases the shared lock


