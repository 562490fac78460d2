"""great-expectations suites kept as JSON files in `expectations/`, run on warehouse tables.

Validation runs on pandas data frames (GX's SQL datasource does not work against DuckDB 2.0
here). Tables larger than `max_rows` are validated on a uniform sample of that many rows; the
result says which.

During `mlcost run` a suite runs in the run's warm worker (lib/dbt_worker.py), which imported
great-expectations while the run started: the import alone is ≈ 3 s, on the critical path of
every run that validates a table (docs/benchmarks.md, "Third round"). Anywhere else, or if the
worker cannot answer, it runs in this process: same function, same result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import socket
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
                   *, max_rows: int = MAX_ROWS, where: str | None = None,
                   params: list | None = None) -> SuiteResult:
    """`where` (a fixed SQL condition with `?` placeholders for `params`) limits the rows
    validated, e.g. to the billing periods a run rebuilt."""
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    relation = f"{quote_ident(schema)}.{quote_ident(table)}"
    params = list(params or [])
    if where:  # sampled after the filter (DuckDB samples the FROM clause before WHERE)
        relation = f"(select * from {relation} where {where})"
    (total,) = con.execute(f"select count(*) from {relation}", params).fetchone()
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
    df = con.execute(f"select {', '.join(select)} from {relation}{sample}", params).df()
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


def validate_warehouse_table(warehouse: Path, schema: str, table: str, suite_path: Path, *,
                             max_rows: int = MAX_ROWS, where: str | None = None,
                             params: list | None = None, use_worker: bool = True
                             ) -> SuiteResult:
    """`validate_table` on the DuckDB file `warehouse`: in the run's worker when there is one
    (the caller holds no connection to the file: the worker opens it read-only), else here."""
    spec = {"warehouse": str(warehouse), "schema": schema, "table": table,
            "suite": str(suite_path), "max_rows": max_rows, "where": where,
            "params": list(params or [])}  # JSON values: the worker gets them as they are
    if use_worker and (answer := _ask_worker(spec)):
        return SuiteResult(**answer)
    return _validate(spec)


def _validate(spec: dict) -> SuiteResult:
    from .warehouse import connection

    with connection(Path(spec["warehouse"]), read_only=True) as con:
        return validate_table(con, spec["schema"], spec["table"], Path(spec["suite"]),
                              max_rows=int(spec["max_rows"]), where=spec.get("where"),
                              params=spec.get("params"))


GX_REQUEST = "gx_suite"


def _ask_worker(spec: dict) -> dict | None:
    """The worker's SuiteResult fields, or None (no worker, or it could not validate: the
    caller then validates here and reports any error itself)."""
    from .dbt_client import worker_path

    path = worker_path()
    if path is None:
        return None
    request = {"kind": GX_REQUEST, **spec}
    with contextlib.suppress(OSError, ValueError), \
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(json.dumps(request).encode() + b"\n")
        stream = sock.makefile("rb")
        stream.readline()  # the worker's hello ({"pid": …})
        return json.loads(stream.readline() or b"{}").get("result")
    return None


def serve_request(request: dict) -> dict:
    """The worker's side of `_ask_worker` (lib/dbt_worker.py): {"result": …} or {"error": …}."""
    try:
        res = _validate(request)
    except Exception as exc:  # noqa: BLE001 (the caller validates itself and reports it)
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"result": dataclasses.asdict(res)}
