"""Hand a metrics file's rows to ingest as a DuckDB relation with the columns of
raw.utilization_metrics (ingest/read.py stage_query)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from ..ingest.detect import Detection
from .model import read_metrics

COLUMNS = ("metric_date", "provider", "resource_id", "metric_name", "value", "unit")


def detection(fmt: str, compression: str) -> Detection:
    return Detection(family="utilization_metrics", source_format=fmt, compression=compression,
                     schema_version="1", columns=list(COLUMNS), canonical=list(COLUMNS))


def stage(con, path: Path, det: Detection) -> tuple[str, list]:
    """Parse the file and put its rows in a temporary table; returns (select, params)."""
    rows = read_metrics(path, det.source_format)
    table = pa.table({
        "_row_number": pa.array(range(1, len(rows) + 1), pa.int64()),
        **{c: pa.array([getattr(r, c) for r in rows], pa.string()) for c in COLUMNS},
    })
    con.register("_mlcost_metrics_rows", table)
    try:
        con.execute("create or replace temp table _mlcost_metrics_stage as "
                    "select * from _mlcost_metrics_rows")
    finally:
        con.unregister("_mlcost_metrics_rows")
    return "select * from _mlcost_metrics_stage", []
