"""The demo's planning assumptions, ``<out>/scenarios.yml`` (beside ``landing/``, where
`mlcost run` looks for it). Months are counted from the last data month, so with
``--end-month 2026-09`` the first two assumptions are exactly the example of issue 14
(docs/forecasting.md, *Scenarios*); the others show one of each remaining kind."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .window import add_months

FILE_NAME = "scenarios.yml"

TEMPLATE = """\
# Planning assumptions of the demo company (written by `mlcost generate` / `mlcost demo`).
# Each assumption applies to a slice (team, model, workload, provider) from a month, optionally
# to a month, with one value: the same in every case or {{base:, best:, worst:}} with
# best <= base <= worst (values are costs or cost drivers). Format: docs/forecasting.md.
assumptions:
  - name: ranker-v2 launch
    team: search-ranking
    model: ranker-v2
    workload: realtime_inference
    from: {m4}
    monthly_cost: {{base: 8000, best: 5000, worst: 12000}}
  - name: training data doubles
    model: recsys-two-tower
    workload: training
    from: {m7}
    multiplier: {{base: 2.0, best: 1.6, worst: 2.4}}
  - name: fraud traffic growth
    team: fraud-detection
    from: {m1}
    growth_rate: {{base: 0.01, best: 0.005, worst: 0.02}}   # per month, compounding
  - name: aws compute savings plan (one year)
    provider: aws
    from: {m4}
    to: {m15}
    multiplier: {{base: 0.92, best: 0.88, worst: 0.96}}
    affects: price
  - name: gcp list price increase
    provider: gcp
    from: {m6}
    multiplier: {{base: 1.03, best: 1.0, worst: 1.06}}
    affects: price
  - name: recsys scoring leaves batch
    model: recsys-two-tower
    workload: batch_inference
    from: {m10}
    multiplier: 0
  - name: recsys scoring moves to real-time
    model: recsys-two-tower
    workload: realtime_inference
    from: {m10}
    multiplier: {{base: 1.5, best: 1.35, worst: 1.8}}
  - name: assistant API calls
    team: search-ranking
    model: search-assistant
    workload: realtime_inference
    from: {m9}
    volume: {{base: 2000000, best: 1500000, worst: 3000000}}   # requests per month
    unit_cost: 0.002
    unit: Requests
  - name: churn-predictor retired
    model: churn-predictor
    from: {m13}
    multiplier: 0
"""


def write_scenarios_file(out_dir: Path, end_month: dt.date) -> Path:
    """Write the demo's scenarios file for data ending in ``end_month``."""
    months = {f"m{k}": f"{add_months(end_month, k):%Y-%m}" for k in (1, 4, 6, 7, 9, 10, 13, 15)}
    path = Path(out_dir) / FILE_NAME
    path.write_text(TEMPLATE.format(**months), encoding="utf-8")
    return path
