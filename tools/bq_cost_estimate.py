"""On-paper monthly BigQuery cost of mlcost's prod target (docs/bigquery.md, "What production
costs"). Not dry-run figures: the emulator reports 0 bytes processed and CI has no BigQuery, so
bytes come from row counts times bytes per row, with the passes each run makes over them
stated as assumptions below. `bq query --dry_run` on a real project gives the real figures.

    python tools/bq_cost_estimate.py measure WAREHOUSE.duckdb   # bytes per row, BigQuery rules
    python tools/bq_cost_estimate.py estimate [--rows-per-month 100000000 ...]   # the table

Model, for R billing rows a month, H months of history, W billing months rebuilt per daily run
and N runs a day (30-day month):

- raw: R*H rows of `raw_bytes` each, scanned `raw_scans` times per run (int_focus__candidates
  through the staging views, and rpt_focus_reconciliation's source totals). As built
  (`publish_new_deliveries`) the raw tables are partitioned by `_billing_period`, so a run reads
  its W months; the other column is the whole-table `publish_warehouse` (unpartitioned: every
  scan reads all history).
- window: the billing_history models read and rewrite the window's FOCUS-sized rows
  `window_passes` times (FOCUS merge source and target partitions, held-back slices and
  reconciliation, the two attribution tables, the allocation merge, daily and monthly marts).
- history: the whole-history marts (waste, unit economics, recommendations, review: about 15
  models) and the generic tests that read whole tables read the allocation history; together
  counted as `history_passes` full reads of it (each reads a few of its columns).
- A rebuild (`--full-refresh`) is a run whose window is all H months.
- Storage (logical): raw (rewritten daily, so always active) + FOCUS + allocations; FOCUS and
  allocation partitions untouched for 90 days are long-term. GCS staging (when
  MLCOST_BQ_STAGING_URI is set) holds one CSV copy of raw.
Every byte is counted as read from every column: an upper bound (BigQuery bills referenced
columns only). Load jobs are free.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

TIB, GIB = Decimal(2**40), Decimal(2**30)

# US multi-region list prices (docs/bigquery.md says where and when they were taken).
PRICE_PER_TIB_SCANNED = Decimal("6.25")
FREE_TIB_SCANNED = Decimal(1)
ACTIVE_STORAGE_PER_GIB = Decimal("0.02")
LONG_TERM_STORAGE_PER_GIB = Decimal("0.01")
FREE_STORAGE_GIB = Decimal(10)
GCS_STANDARD_PER_GIB = Decimal("0.026")  # multi-region Standard, $0.000035616/GiB-hour * 730


@dataclass(frozen=True)
class Inputs:
    rows_per_month: int = 100_000_000
    history_months: int = 36
    window_months: int = 2
    runs_per_day: int = 1
    raw_bytes: int = 1130  # per raw billing row; `measure` on the demo (docs/bigquery.md)
    focus_bytes: int = 1355  # per focus_cost_and_usage row (same row count as raw assumed)
    alloc_bytes: int = 705  # per fct_cost_allocations row (same row count assumed)
    raw_scans: int = 2
    window_passes: int = 8
    # 3 in dbt (whole-history marts, tests) + 3 pulls of the Python stages on --target prod
    # (cost_anomalies, whatif_results, whatif_commitment read fct_cost_allocations whole)
    history_passes: int = 6
    gcs_staging: bool = True


@dataclass(frozen=True)
class Estimate:
    raw_scan_bytes: Decimal  # per daily run, as built (partitioned: raw_window_bytes)
    raw_window_bytes: Decimal
    window_bytes: Decimal
    history_bytes: Decimal
    daily_run_bytes: Decimal
    daily_run_bytes_partitioned_raw: Decimal
    rebuild_bytes: Decimal
    month_query_usd: Decimal
    month_query_usd_partitioned_raw: Decimal
    rebuild_usd: Decimal
    active_gib: Decimal
    long_term_gib: Decimal
    storage_usd: Decimal
    gcs_usd: Decimal


def _usd(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _query_usd(tib: Decimal) -> Decimal:
    return _usd(max(Decimal(0), tib - FREE_TIB_SCANNED) * PRICE_PER_TIB_SCANNED)


def estimate(i: Inputs) -> Estimate:
    r, h, w = Decimal(i.rows_per_month), Decimal(i.history_months), Decimal(i.window_months)
    raw_all, raw_window = r * h * i.raw_bytes, r * w * i.raw_bytes
    focus_all, focus_window = r * h * i.focus_bytes, r * w * i.focus_bytes
    history = i.history_passes * r * h * i.alloc_bytes
    daily = i.raw_scans * raw_all + i.window_passes * focus_window + history
    daily_partitioned = i.raw_scans * raw_window + i.window_passes * focus_window + history
    rebuild = i.raw_scans * raw_all + i.window_passes * focus_all + history
    runs = Decimal(30 * i.runs_per_day)
    # FOCUS and allocations: the last three months (and the window) stay active.
    active_months = min(h, max(w, Decimal(3)))
    kept = r * (i.focus_bytes + i.alloc_bytes)
    active = (raw_all + kept * active_months) / GIB
    long_term = kept * (h - active_months) / GIB
    free = min(active, FREE_STORAGE_GIB)
    storage = _usd((active - free) * ACTIVE_STORAGE_PER_GIB
                   + long_term * LONG_TERM_STORAGE_PER_GIB)
    gcs = _usd(raw_all / GIB * GCS_STANDARD_PER_GIB) if i.gcs_staging else Decimal("0.00")
    return Estimate(
        raw_scan_bytes=i.raw_scans * raw_all, raw_window_bytes=i.raw_scans * raw_window,
        window_bytes=i.window_passes * focus_window, history_bytes=history,
        daily_run_bytes=daily, daily_run_bytes_partitioned_raw=daily_partitioned,
        rebuild_bytes=rebuild,
        month_query_usd=_query_usd(daily * runs / TIB),
        month_query_usd_partitioned_raw=_query_usd(daily_partitioned * runs / TIB),
        rebuild_usd=_usd(rebuild / TIB * PRICE_PER_TIB_SCANNED),
        active_gib=active, long_term_gib=long_term, storage_usd=storage, gcs_usd=gcs)


def table(i: Inputs, e: Estimate) -> str:
    tib = lambda b: f"{b / TIB:,.2f} TiB"  # noqa: E731
    gib = lambda g: f"{g:,.0f} GiB"  # noqa: E731
    month = _usd(e.month_query_usd + e.storage_usd + e.gcs_usd)
    month_p = _usd(e.month_query_usd_partitioned_raw + e.storage_usd + e.gcs_usd)
    rows = [
        ("Inputs", f"{i.rows_per_month:,} rows/month, {i.history_months} months kept, "
                   f"{i.window_months} months rebuilt per run, {i.runs_per_day} run(s)/day; "
                   f"{i.raw_bytes} / {i.focus_bytes} / {i.alloc_bytes} bytes per raw / FOCUS "
                   "/ allocation row", ""),
        ("Bytes scanned by one daily run", tib(e.daily_run_bytes),
         tib(e.daily_run_bytes_partitioned_raw)),
        (f"… of which raw ({i.raw_scans} scans)", tib(e.raw_scan_bytes),
         tib(e.raw_window_bytes)),
        (f"… of which the window's models ({i.window_passes} passes)", tib(e.window_bytes),
         tib(e.window_bytes)),
        ("… of which whole-history marts, tests and Python-stage pulls "
         f"({i.history_passes} passes)",
         tib(e.history_bytes), tib(e.history_bytes)),
        ("Bytes scanned by a rebuild (full refresh)", tib(e.rebuild_bytes),
         f"${e.rebuild_usd} per rebuild"),
        ("Queries per month (on-demand, 1 TiB free)", f"${e.month_query_usd}",
         f"${e.month_query_usd_partitioned_raw}"),
        ("Storage per month (logical; 10 GiB free)",
         f"${e.storage_usd} ({gib(e.active_gib)} active, {gib(e.long_term_gib)} long-term)", ""),
        ("GCS staging per month", f"${e.gcs_usd}", ""),
        ("Load jobs", "$0.00 (free)", ""),
        ("Total per month", f"${month}", f"${month_p}"),
    ]
    lines = ["| | raw unpartitioned (`publish_warehouse`) | as built: raw partitioned by "
             "`_billing_period` (`publish_new_deliveries`) |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


# BigQuery's logical size per value (Google's "data size calculation"); NULL is 0 bytes.
def _bq_size(column: str, duckdb_type: str) -> str:
    q = '"' + column.replace('"', '""') + '"'
    t = duckdb_type.upper()
    if t.startswith("DECIMAL"):
        scale = int(t.rstrip(")").split(",")[1]) if "," in t else 0
        size = "32" if scale > 9 else "16"  # BIGNUMERIC (money_type) vs NUMERIC
    elif t == "BOOLEAN":
        size = "1"
    elif t.split("(")[0] in {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "DOUBLE",
                             "FLOAT", "DATE", "TIME"} or t.startswith("TIMESTAMP"):
        size = "8"
    else:  # VARCHAR, JSON, lists and structs are STRING (JSON text) on BigQuery
        return f"coalesce(2 + strlen(cast({q} as varchar)), 0)"
    return f"case when {q} is null then 0 else {size} end"


# The raw tables of billing exports (the rows FOCUS is built from); metrics, budgets and MLflow
# runs are small beside them and not counted.
BILLING_RAW = {"aws_cur2", "aws_cur_legacy", "azure_cost_details", "gcp_billing",
               "oci_cost_report", "focus"}
MEASURED = ("focus.focus_cost_and_usage", "marts.fct_cost_allocations")


def measure(warehouse: Path) -> dict[str, tuple[int, int]]:
    """(rows, BigQuery logical bytes) of each raw billing table, of all of them together
    (`raw`), of the FOCUS table and of the allocation fact of a DuckDB warehouse."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    cols = con.execute("select table_schema, table_name, column_name, data_type "
                       "from information_schema.columns where table_schema in "
                       "('raw', 'focus', 'marts') order by ordinal_position").fetchall()
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, name, column, dtype in cols:
        tables.setdefault((schema, name), []).append((column, dtype))
    result: dict[str, tuple[int, int]] = {}
    for (schema, name), columns in tables.items():
        key = f"{schema}.{name}"
        if not (schema == "raw" and name in BILLING_RAW) and key not in MEASURED:
            continue
        size = " + ".join(_bq_size(c, t) for c, t in columns)
        ident = f'"{schema}"."{name}"'  # names from information_schema, quoted as identifiers
        n, b = con.execute(f"select count(*), coalesce(sum({size}), 0) from {ident}").fetchone()  # noqa: S608 (identifiers only, no data)
        result[key] = (n, int(b))
        if schema == "raw":
            rows, total = result.get("raw", (0, 0))
            result["raw"] = (rows + n, total + int(b))
    con.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure", help="bytes per row of a DuckDB warehouse, by BigQuery rules")
    m.add_argument("warehouse", type=Path)
    e = sub.add_parser("estimate", help="the monthly cost table (markdown)")
    for field, default in Inputs.__dataclass_fields__.items():
        if field != "gcs_staging":
            e.add_argument("--" + field.replace("_", "-"), type=int, default=default.default)
    e.add_argument("--no-gcs-staging", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "measure":
        if not args.warehouse.is_file():
            print(f"bq_cost_estimate: no warehouse at {args.warehouse}", file=sys.stderr)
            return 66
        for key, (rows, total) in measure(args.warehouse).items():
            print(f"{key}: {rows:,} rows, {total:,} bytes, "
                  f"{total / rows if rows else 0:,.0f} bytes/row")
        return 0
    values = {f: getattr(args, f) for f in Inputs.__dataclass_fields__ if f != "gcs_staging"}
    bad = [f"--{f.replace('_', '-')}" for f, v in values.items()
           if v < (0 if f.endswith(("passes", "scans")) else 1)]
    if bad:
        print(f"bq_cost_estimate: {', '.join(bad)} must be positive", file=sys.stderr)
        return 64
    if values["window_months"] > values["history_months"]:
        print("bq_cost_estimate: --window-months cannot exceed --history-months", file=sys.stderr)
        return 64
    inputs = Inputs(**values, gcs_staging=not args.no_gcs_staging)
    print(table(inputs, estimate(inputs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
