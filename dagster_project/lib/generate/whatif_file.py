"""The demo's reviewed what-if parameters, ``<out>/whatif.yml`` (beside ``landing/``, where the
what-if assets look for it): the issue's example questions on the demo's models
(docs/whatif.md, *Parameters file*)."""

from __future__ import annotations

from pathlib import Path

FILE_NAME = "whatif.yml"

TEXT = """\
# What-if questions the Dagster assets answer on every run (written by `mlcost generate` /
# `mlcost demo`). Keys are the `mlcost whatif <question>` flags without `--`. Format:
# docs/whatif.md.
questions:
  - question: distillation
    model: query-ranker
    throughput-gain: 3
    engineering-hours: 400
    hourly-rate: 120
  - question: batch-vs-realtime
    model: churn-predictor
  - question: double-training-data
    model: recsys-two-tower
    factor: 2
  - question: spot
    model: fraud-scorer
    interruption-rate: 0.05
    checkpoint-overhead: 0.05
  - question: commitment
"""


def write_whatif_file(out_dir: Path) -> Path:
    """Write the demo's what-if parameters file."""
    path = Path(out_dir) / FILE_NAME
    path.write_text(TEXT, encoding="utf-8")
    return path
