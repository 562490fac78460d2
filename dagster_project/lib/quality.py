"""great-expectations suites kept as JSON files in `expectations/`, run on warehouse tables.

Validation runs on pandas data frames (GX's SQL datasource does not work against DuckDB 2.0
here). Tables larger than `max_rows` are validated on a uniform sample of that many rows; the
result says which.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .ingest.sql import quote_ident

MAX_ROWS = 1_000_000


@dataclass
class SuiteResult:
    suite: str
    success: bool
    rows_validated: int
    rows_total: int
    failures: list[dict] = field(default_factory=list)

    @property
    def sampled(self) -> bool:
        return self.rows_validated < self.rows_total

    @property
    def critical_failed(self) -> bool:
        """An expectation marked `"meta": {"critical": true}` failed: the check is an ERROR,
        otherwise a failed suite is a WARN."""
        return any(f.get("critical") for f in self.failures)


def load_suite_dict(path: Path) -> dict:
    data = json.loads(Path(path).read_text())
    return {k: v for k, v in data.items() if k in ("name", "expectations", "meta")}


def validate_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, suite_path: Path,
                   *, max_rows: int = MAX_ROWS) -> SuiteResult:
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    relation = f"{quote_ident(schema)}.{quote_ident(table)}"
    (total,) = con.execute(f"select count(*) from {relation}").fetchone()
    sample = f" using sample {int(max_rows)} rows" if total > max_rows else ""
    # Only the columns the suite names (all of them if it checks the column set). Decimals
    # become doubles for GX: it only checks presence and ranges, and object columns of
    # Python Decimals make pandas validation ~10x slower.
    cols = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position", [schema, table]
    ).fetchall()
    suite_dict = load_suite_dict(suite_path)
    named = {e["kwargs"].get(k) for e in suite_dict["expectations"]
             for k in ("column", "column_A", "column_B")}
    wants_all = any(e["type"].startswith("expect_table_columns")
                    for e in suite_dict["expectations"])
    # Columns no expectation reads are not fetched (raw tables are wide); a column-set
    # expectation still sees them, as typed nulls.
    select = [
        (f"cast({quote_ident(c)} as double) as {quote_ident(c)}" if t.startswith("DECIMAL")
         else quote_ident(c))
        if c in named else f"null::boolean as {quote_ident(c)}"
        for c, t in cols if c in named or wants_all
    ]
    df = con.execute(f"select {', '.join(select)} from {relation}{sample}").df()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_def = (ctx.data_sources.add_pandas("mlcost").add_dataframe_asset(table)
                 .add_batch_definition_whole_dataframe("all"))
    suite = ctx.suites.add(gx.ExpectationSuite(**suite_dict))
    res = batch_def.get_batch(batch_parameters={"dataframe": df}).validate(suite)
    failures = [
        {"expectation": r.expectation_config.type,
         "column": r.expectation_config.kwargs.get("column"),
         "unexpected_count": r.result.get("unexpected_count"),
         "critical": bool((r.expectation_config.meta or {}).get("critical")),
         "examples": [str(v) for v in (r.result.get("partial_unexpected_list") or [])[:3]]}
        for r in res.results if not r.success
    ]
    return SuiteResult(suite.name, bool(res.success), len(df), total, failures)
