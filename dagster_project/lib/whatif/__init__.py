"""What-if calculators on the mart (docs/whatif.md): one module per question, each with
``add_arguments(parser)`` and ``answer(con, options) -> Answer``."""

from __future__ import annotations

from pathlib import Path

from dagster_project.exit_codes import MISSING_INPUT, ExitError

from . import batch_realtime, commitment, distillation, spot, training_data
from .answer import Answer

QUESTIONS = {
    "double-training-data": training_data,
    "batch-vs-realtime": batch_realtime,
    "distillation": distillation,
    "spot": spot,
    "commitment": commitment,
}


def run_question(warehouse: Path, question: str, opts: dict) -> Answer:
    """Answer one question on the warehouse, opened read-only."""
    from dagster_project.lib.warehouse import connection

    if not Path(warehouse).exists():
        raise ExitError(f"{warehouse}: no warehouse here yet. Run `mlcost run` (or `make demo`) "
                        "first, or pass --warehouse.", MISSING_INPUT)
    with connection(warehouse, read_only=True) as con:
        return QUESTIONS[question].answer(con, opts)


__all__ = ["QUESTIONS", "Answer", "run_question"]
