"""What one `mlcost run` did, printed at its end: counted from the ledger rows this run wrote
(meta.load_ledger, meta.deliveries with loaded_at at or after the run's start), so the summary
and the warehouse cannot disagree."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from dagster_project.lib.warehouse import connection, table_exists


@dataclass
class RunSummary:
    found: int = 0  # files in the landing folder
    new: int = 0  # loaded; their billing slices had no earlier delivery
    redelivered: int = 0  # loaded; they replaced an earlier delivery of their slices
    duplicates: int = 0  # same bytes as a file already loaded, under another name
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why): not billing
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    unchanged: int = 0  # read by an earlier run, not changed since
    waiting: int = 0  # too young or unreadable: left for the next run
    rows_per_provider: dict[str, int] = field(default_factory=dict)
    warned_files: list[tuple[str, str]] = field(default_factory=list)  # (path, warnings)
    window: tuple[str, str] | None = None
    totals: list[tuple] = field(default_factory=list)  # provider, month, currency, eff, billed
    held_back: list[str] = field(default_factory=list)
    checks_warned: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    seeds_rebuilt: bool | None = None  # False: unchanged, left out of the run (lib/seed_state)


def collect(warehouse: Path, since: datetime, files: list[str], window, checks_warned,
            held_back: list[str], elapsed: float, *, seeds_rebuilt: bool | None = None
            ) -> RunSummary:
    """`since`: the run's start, naive UTC like the ledger's loaded_at. `files`: the landing's
    files as the run saw them."""
    s = RunSummary(found=len(files), window=window, checks_warned=list(checks_warned),
                   held_back=held_back, elapsed=elapsed, seeds_rebuilt=seeds_rebuilt)
    with connection(warehouse, read_only=True) as con:
        if not table_exists(con, "meta", "load_ledger"):
            return s
        rows = con.execute(
            """select l.path, l.status, l.provider, coalesce(l.row_count, 0), l.error, l.warnings,
                      exists (select 1 from meta.deliveries d where d.superseded_by = l.file_id)
               from meta.load_ledger l where l.loaded_at >= ? order by l.path""",
            [since]).fetchall()
        # Rows per provider from the billing slices this run delivered (a FOCUS file may hold
        # several providers); a loaded file without slices (the budgets file) under its own.
        per_provider = con.execute(
            """select provider, sum(row_count) from meta.deliveries where loaded_at >= ?
               group by 1
               union all
               select coalesce(provider, family, '?'), sum(row_count) from meta.load_ledger l
               where loaded_at >= ? and status = 'loaded'
                 and not exists (select 1 from meta.deliveries d where d.file_id = l.file_id)
               group by 1""", [since, since]).fetchall()
        ever = {p for (p,) in con.execute(
            "select distinct path from meta.load_ledger where list_contains(?, path)",
            [files]).fetchall()}
        if window and table_exists(con, "marts", "fct_costs_monthly"):
            s.totals = con.execute(
                """select provider, strftime(billing_month, '%Y-%m') as month, billing_currency,
                          sum(effective_cost), sum(billed_cost)
                   from marts.fct_costs_monthly
                   where strftime(billing_month, '%Y-%m') between ? and ?
                   group by all order by provider, month, billing_currency""",
                list(window)).fetchall()
    this_run = set()
    for path, status, _provider, _n, error, warnings, replaced in rows:
        this_run.add(path)
        if status == "loaded":
            if replaced:
                s.redelivered += 1
            else:
                s.new += 1
        elif status == "duplicate":
            s.duplicates += 1
        elif status == "skipped":
            s.skipped.append((path, error or ""))
        elif status == "quarantined":
            s.quarantined.append((path, error or ""))
        if warnings:
            s.warned_files.append((path, warnings))
    for provider, n in per_provider:
        s.rows_per_provider[provider] = s.rows_per_provider.get(provider, 0) + int(n or 0)
    s.waiting = sum(1 for p in files if p not in ever)
    s.unchanged = sum(1 for p in files if p in ever and p not in this_run)
    return s


def _money(v: Decimal | None) -> str:
    return f"{(v or Decimal(0)):,.2f}"


def render(s: RunSummary, warehouse: Path, out=None) -> None:
    """The summary with rich (plain text when stdout is not a terminal)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out or sys.stdout, highlight=False, soft_wrap=True)
    console.print(f"[bold]mlcost run[/bold] finished in {s.elapsed:.1f}s; warehouse {warehouse}")
    console.print(
        f"Files: {s.found} found, {s.new} new, {s.redelivered} re-delivered, "
        f"{s.duplicates} duplicate copies, {len(s.skipped)} skipped, {len(s.quarantined)} "
        f"quarantined, {s.unchanged} unchanged, {s.waiting} left for the next run",
        markup=False)
    for path, why in s.quarantined:
        console.print(f"  quarantined (left in place): {path}\n    {why}", markup=False)
    for path, why in s.skipped:
        console.print(f"  skipped (not billing data): {path}: {why}", markup=False)
    if s.rows_per_provider:
        console.print("Rows loaded: " + ", ".join(
            f"{p} {n:,}" for p, n in sorted(s.rows_per_provider.items())), markup=False)
    if s.window:
        first, last = s.window
        console.print(f"Billing periods rebuilt: {first}" + (f" to {last}" if last != first
                                                             else ""), markup=False)
    if s.seeds_rebuilt is False:
        console.print("Reference seeds: unchanged since the run that built and tested them, "
                      "not rebuilt", markup=False)
    if s.totals:
        table = Table(title="Totals of the rebuilt periods", title_justify="left")
        for name in ("provider", "month", "currency"):
            table.add_column(name)
        table.add_column("amortized (EffectiveCost)", justify="right")
        table.add_column("invoiced (BilledCost)", justify="right")
        for provider, month, currency, eff, billed in s.totals:
            table.add_row(provider, month, currency, _money(eff), _money(billed))
        console.print(table)
    for line in s.held_back:
        console.print(f"Held back (not published): {line}", markup=False)
    for path, warnings in s.warned_files:
        console.print(f"Loaded with warnings: {path}: {warnings}", markup=False)
    for line in s.checks_warned:
        console.print(f"Check warned: {line}", markup=False)
    wh = shlex.quote(str(warehouse))
    console.print(f"Next: mlcost tables --warehouse {wh}   |   mlcost sql \"from "
                  f"marts.fct_costs_monthly limit 10\" --warehouse {wh}", markup=False)


def failed_checks(result) -> list[str]:
    """`asset / check: description` for every asset check of a Dagster run that did not pass
    (the blocking ones fail the run instead and are reported as failures)."""
    out = []
    for ev in result.get_asset_check_evaluations():
        if not ev.passed:
            key = "/".join(ev.asset_key.path)
            out.append(f"{key} {ev.check_name} ({ev.severity.value})"
                       + (f": {ev.description}" if ev.description else ""))
    return out
