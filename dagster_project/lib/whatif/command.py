"""`mlcost whatif <question>`: the parser (registered by cli.py through ``add_parser``) and the
command. Reads the warehouse read-only; prints a text block, or one JSON object with --json."""

from __future__ import annotations

import argparse

from dagster_project import settings
from dagster_project.exit_codes import OK

from . import QUESTIONS, run_question

WAREHOUSE_HELP = ("DuckDB warehouse file (default: $MLCOST_WAREHOUSE, else `warehouse` in "
                  "mlcost.toml, else data/warehouse.duckdb)")
HELP = {
    "double-training-data": "monthly and 18-month impact of more training data on training "
                            "cost and on the forecast",
    "batch-vs-realtime": "the monthly request volume at which an always-on endpoint costs the "
                         "same as batch inference, today's volume, the recommendation",
    "distillation": "current vs distilled inference cost, one-off cost, ROI, break-even",
    "spot": "expected training cost and time on spot vs on-demand from observed prices",
    "commitment": "the commitment level that minimises expected cost over the forecast "
                  "distribution, with today's coverage and utilisation",
}


def add_parser(sub) -> None:
    """Register `whatif` and its questions on the CLI's subparsers."""
    w = sub.add_parser("whatif", help="what-if calculators on the mart (docs/whatif.md)",
                       description="Each answer shows the inputs it read from the mart with "
                       "their month range, the formula, the result and its sensitivity to the "
                       "main assumption (docs/whatif.md).")
    qs = w.add_subparsers(dest="question", required=True, metavar="QUESTION")
    for name, module in QUESTIONS.items():
        q = qs.add_parser(name, help=HELP[name], description=HELP[name])
        module.add_arguments(q)
        q.add_argument("--from", dest="from_", metavar="YYYY-MM",
                       help="first month of the inputs (default: two months before --to)")
        q.add_argument("--to", metavar="YYYY-MM", help="last month of the inputs (default: the "
                       "last complete month with cost data)")
        q.add_argument("--json", action="store_true", help="print one JSON object (default: "
                       "a text block)")
        q.add_argument("--warehouse", metavar="FILE", help=WAREHOUSE_HELP)
        q.set_defaults(func=cmd_whatif)


def options(args: argparse.Namespace) -> dict:
    """The parsed flags as the question's options (the same keys as whatif.yml)."""
    skip = {"func", "command", "question", "json", "warehouse", "debug", "from_"}
    opts = {k: v for k, v in vars(args).items() if k not in skip}
    opts["from"] = args.from_
    return opts


def cmd_whatif(args) -> int:
    from dagster_project.lib.pipeline import apply_paths

    apply_paths(None, args.warehouse)
    answer = run_question(settings.warehouse_path(), args.question, options(args))
    print(answer.to_json() if args.json else answer.render())
    return OK
