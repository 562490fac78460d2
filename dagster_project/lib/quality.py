"""great-expectations suites kept as JSON files in `expectations/`, run on warehouse tables.

Validation runs on pandas data frames (GX's SQL datasource does not work against DuckDB 2.0
here). Tables larger than `max_rows` are validated on a uniform sample of that many rows; the
result says which.

Importing great-expectations takes ≈ 9 s (pandas, scipy, altair...), more than the daily
run's ingest. `prewarm()` starts a worker process that imports it while the run does other
work; validations then go to that worker (the frame is pickled to it). Without a worker, or if
it died, they run in this process.
"""

from __future__ import annotations

import atexit
import json
import logging
import multiprocessing
import threading
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
    name, success, failures = _validate(table, suite_dict, df)
    return SuiteResult(name, success, len(df), total, failures)


def validate_frame(table: str, suite_dict: dict, df) -> tuple[str, bool, list[dict]]:
    """Run a suite on a pandas frame: (suite name, success, failed expectations)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
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
    return suite.name, bool(res.success), failures


# ---------------------------------------------------------------------------------------------
# the validation worker

_lock = threading.Lock()
_worker: tuple[multiprocessing.Process, object] | None = None
log = logging.getLogger(__name__)


def _serve(conn) -> None:
    import great_expectations  # noqa: F401  (the point: import while the parent works)

    while True:
        try:
            request = conn.recv()
        except EOFError:  # the parent closed the pipe or exited
            return
        try:
            conn.send(("ok", validate_frame(*request)))
        except Exception as exc:  # noqa: BLE001 (reported to the parent, which re-raises)
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def prewarm() -> None:
    """Start the validation worker (idempotent). A daemon process: it ends with this one."""
    global _worker
    with _lock:
        if _worker is not None and _worker[0].is_alive():
            return
        ctx = multiprocessing.get_context("spawn")  # a fork would copy Dagster's threads
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(child,), name="mlcost-gx", daemon=True)
        proc.start()
        child.close()
        _worker = (proc, parent)
        atexit.register(_stop)


def _stop() -> None:
    """Close the pipe so the worker returns and cleans up (a terminated one leaks what its
    libraries hold), then wait for it briefly."""
    global _worker
    with _lock:
        if _worker is None:
            return
        proc, conn = _worker
        _worker = None
    conn.close()
    proc.join(timeout=5)
    if proc.is_alive():
        proc.terminate()


class ValidationError(RuntimeError):
    """great-expectations failed on a suite (the worker's message)."""


def _validate(table: str, suite_dict: dict, df) -> tuple[str, bool, list[dict]]:
    global _worker
    with _lock:
        if _worker is not None and _worker[0].is_alive():
            proc, conn = _worker
            try:
                conn.send((table, suite_dict, df))
                status, payload = conn.recv()
            except (EOFError, OSError) as exc:  # the worker died: validate here instead
                log.warning("great-expectations worker %s stopped (%s); validating in process",
                            proc.pid, exc)
                _worker = None
            else:
                if status == "error":
                    raise ValidationError(f"suite {suite_dict.get('name')} on {table}: {payload}")
                return payload
    return validate_frame(table, suite_dict, df)
