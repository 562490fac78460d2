"""Orchestration of the demo data generator."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import company as C
from . import mlflow_store
from .activity import Activity, compute
from .anomalies import Injector
from .aws_cur2 import AwsWriter
from .azure_ea import AzureWriter
from .budgets import HEADER, budget_lines
from .catalog import Catalog, Group, build_catalog
from .fmt import fixed_str, to_units, units_to_decimal
from .gcp_billing import GcpWriter
from .metrics_formats import split_month
from .recommendation_actions import write_actions_file
from .scenarios_file import write_scenarios_file
from .whatif_file import write_whatif_file
from .window import DEFAULT_MONTHS, Month, Window, default_end_month, make_window

METRIC_UNITS = {
    "gpu_utilization_pct": ("Percent", 2),
    "cpu_utilization_pct": ("Percent", 2),
    "invocations": ("Count", 0),
    "active_minutes": ("Minutes", 0),
    "read_requests": ("Count", 0),
    "batch_records": ("Count", 0),
}
PROVIDERS = ("aws", "gcp", "azure")


@dataclass
class GenerateSummary:
    out_dir: Path
    start_month: dt.date
    end_month: dt.date
    months: int
    seed: int
    scale: float
    files: list[Path] = field(default_factory=list)
    rows_by_provider: dict[str, int] = field(default_factory=dict)
    metric_rows: int = 0
    resources: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows_by_provider.values())

    @property
    def rows_per_provider(self) -> dict[str, int]:
        """Alias of ``rows_by_provider`` (the name the CLI reads)."""
        return self.rows_by_provider


@dataclass
class Ctx:
    out_dir: Path
    window: Window
    seed: int
    catalog: Catalog
    files: list[Path] = field(default_factory=list)
    ledger: dict = field(default_factory=dict)
    team_cost: dict = field(default_factory=lambda: defaultdict(int))
    idle_rows: list = field(default_factory=list)
    # (group key, line part, month index) -> (member, day, effective units, usage) of training
    # rows, for the MLflow runs' ground truth (mlflow_store); a re-delivered month overwrites.
    training_records: dict = field(default_factory=dict)

    def ledger_add(self, provider: str, account: str, m: Month, billed: int, effective: int):
        key = (provider, account, m.start)
        b, e = self.ledger.get(key, (0, 0))
        self.ledger[key] = (b + billed, e + effective)

    def add_team_cost(self, team: str, m: Month, units: int) -> None:
        self.team_cost[(team, m.index)] += int(units)

    def record_training_cost(self, g, part: str, m: Month, member, day, units, usage) -> None:
        if g.workload == "training":
            self.training_records[(g.key, part, m.index)] = (
                np.asarray(member).copy(), np.asarray(day).copy(),
                np.asarray(units, dtype=np.int64).copy(), np.asarray(usage, dtype=float).copy())

    def add_idle(self, provider: str, rid: str, waste: str, start: dt.date, end: dt.date):
        self.idle_rows.append((provider, rid, waste, start, end))


def generate(out_dir: Path, months: int = DEFAULT_MONTHS, seed: int = 42, scale: float = 1.0,
             end_month: dt.date | None = None) -> GenerateSummary:
    """Write the deterministic demo landing folder and ground truth under ``out_dir``."""
    if scale <= 0:
        raise ValueError("scale must be > 0")
    out_dir = Path(out_dir)
    end_month = end_month or default_end_month()
    w = make_window(months, end_month)
    cat = build_catalog(w, seed, scale)
    mlflow_store.tag_runs_in_bill(cat.groups)  # run ids on the tagged training instances
    store = mlflow_store.start_store(out_dir / "mlflow" / "mlflow.db")  # built alongside
    try:
        ctx = Ctx(out_dir, w, seed, cat)
        inject = Injector(w, cat.groups)  # planted anomalies and decoys (docs/anomalies.md)
        writers = {"aws": AwsWriter(ctx), "gcp": GcpWriter(ctx), "azure": AzureWriter(ctx)}
        by_provider = {p: [g for g in cat.groups if g.provider == p] for p in PROVIDERS}
        rows = dict.fromkeys(PROVIDERS, 0)
        metric_rows = 0
        metrics_dir = out_dir / "landing" / "metrics"
        metrics_dir.mkdir(parents=True, exist_ok=True)
        for m in w.months:
            mpath = metrics_dir / f"utilization_{m.label}.csv"
            with mpath.open("w", encoding="utf-8", newline="") as mf:
                mf.write("metric_date,provider,resource_id,metric_name,value,unit\n")
                for provider in PROVIDERS:
                    acts: dict[str, Activity] = {}
                    for g in by_provider[provider]:
                        acts[g.key] = compute(g, m, seed, w.weekday, w.month_of_year, acts)
                        inject.apply(g, m, acts[g.key])
                    again = inject.before_month(provider, writers[provider], m)
                    for writer in (writers[provider], again) if again else (writers[provider],):
                        rows[provider] += writer.write_month(m, by_provider[provider], acts)
                    for g in by_provider[provider]:
                        metric_rows += _write_metrics(mf, w, g, acts[g.key])
            ctx.files.append(mpath)
            ctx.files.extend(split_month(mpath, m.label))  # part in real formats (docs/metrics.md)
        n_res = _write_ground_truth(ctx)
        _write_mlflow(ctx, store)
    except BaseException:
        if store is not None:  # the child waits for the runs: do not leave it behind
            store.kill()
            store.wait()
        raise
    inject.write_truth(ctx)
    _write_budgets(ctx)
    ctx.files.append(write_actions_file(out_dir, cat, w))
    write_scenarios_file(out_dir, w.months[-1].start)
    write_whatif_file(out_dir)
    return GenerateSummary(out_dir, w.start, w.months[-1].start, months, seed, scale,
                           list(ctx.files), rows, metric_rows, n_res)


# ------------------------------------------------------------------ metrics
def _write_metrics(f, w: Window, g: Group, a: Activity) -> int:
    n = 0
    ids = np.array(g.ids, dtype=object)
    for name in g.metrics:
        v = a.metrics[name]
        i, j = np.nonzero(~np.isnan(v))
        if len(i) == 0:
            continue
        unit, dp = METRIC_UNITS[name]
        dates = np.datetime_as_string(w.days[a.days[j]], unit="D")
        lines = pc.binary_join_element_wise(
            pa.array(dates), g.provider, pa.array(ids[a.sel[i]], pa.string()), name,
            fixed_str(to_units(v[i, j], dp), dp), unit, ",")
        f.write("\n".join(lines.to_pylist()))
        f.write("\n")
        n += len(i)
    return n


# ------------------------------------------------------------------ ground truth
def _write_ground_truth(ctx: Ctx) -> int:
    gt = ctx.out_dir / "ground_truth"
    gt.mkdir(parents=True, exist_ok=True)
    w = ctx.window
    res_path = gt / "resources.csv"
    n = 0
    with res_path.open("w", encoding="utf-8", newline="") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(["provider", "resource_id", "team", "ml_model", "workload",
                     "tags_as_written", "note"])
        for g in ctx.catalog.groups:
            for k in range(g.n):
                if g.start[k] > g.end[k]:
                    continue
                tags = g.tags[k]
                wr.writerow([g.provider, g.ids[k], g.team, g.model, g.workload,
                             json.dumps(tags, separators=(",", ":")) if tags else "",
                             g.notes[k]])
                n += 1
        for row in _commitment_truth(ctx):
            wr.writerow(row)
            n += 1
    idle_path = gt / "idle_periods.csv"
    with idle_path.open("w", encoding="utf-8", newline="") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(["provider", "resource_id", "waste_type", "idle_start", "idle_end"])
        for g in ctx.catalog.groups:
            for member, waste, s, e in g.idle:
                s = max(s, int(g.start[member]))
                e = min(e, int(g.end[member]))
                if s <= e:
                    wr.writerow([g.provider, g.ids[member], waste, w.date(s).isoformat(),
                                 w.date(e).isoformat()])
        for provider, rid, waste, s, e in ctx.idle_rows:
            wr.writerow([provider, rid, waste, s.isoformat(), e.isoformat()])
    tot_path = gt / "totals.csv"
    with tot_path.open("w", encoding="utf-8", newline="") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(["provider", "billing_account_id", "billing_period", "currency",
                     "billed_total", "effective_total"])
        for (provider, account, start), (b, e) in sorted(ctx.ledger.items()):
            wr.writerow([provider, account, start.isoformat(), C.CURRENCY,
                         f"{units_to_decimal(b):f}", f"{units_to_decimal(e):f}"])
    ctx.files.extend([res_path, idle_path, tot_path])
    return n


def _commitment_truth(ctx: Ctx) -> list[list[str]]:
    c = ctx.catalog.commitments
    az = c["azure_ri"]
    gcp = c["gcp_cud"]
    return [
        ["aws", c["aws_sp"]["arn"], "ml-platform", "none", "shared", "",
         "Compute Savings Plan, 3yr No Upfront, bought centrally"],
        ["aws", c["aws_ri"]["arn"], "ml-platform", "none", "shared", "",
         f"{c['aws_ri']['units']}x {c['aws_ri']['itype']} RI, Partial Upfront"],
        ["gcp", f"//compute.googleapis.com/projects/{gcp['project']}/regions/us-central1/"
                f"commitments/{gcp['name']}", "search-ranking", "doc-embedder", "training", "",
         f"{gcp['gpus']}x A100 1-year resource-based CUD"],
        ["azure", f"/providers/microsoft.capacity/reservationorders/{az['order']}/reservations/"
                  f"{az['rid']}", "fraud-detection", "fraud-scorer", "realtime_inference", "",
         f"{az['units']}x {az['size']} 1-year reservation, monthly billing"],
    ]


# ------------------------------------------------------------------ MLflow
def _write_mlflow(ctx: Ctx, store) -> None:
    """The runs' ground truth always; the store when the `mlflow` extra is installed."""
    runs = mlflow_store.plan_runs(ctx.window, ctx.catalog.groups,
                                  mlflow_store.collect(ctx.training_records))
    truth = ctx.out_dir / "ground_truth" / "training_runs.csv"
    mlflow_store.write_truth(truth, runs)
    ctx.files.append(truth)
    if store is None:
        print("mlcost generate: the mlflow extra is not installed; no MLflow store written "
              "(pip install 'mlcost[mlflow]')")
        return
    start = dt.datetime.combine(ctx.window.start, dt.time(), dt.UTC)
    mlflow_store.finish_store(store, runs, int(start.timestamp() * 1000))
    ctx.files.append(ctx.out_dir / "mlflow" / "mlflow.db")


# ------------------------------------------------------------------ budgets
def _write_budgets(ctx: Ctx) -> None:
    monthly = {k: v / 1e10 for k, v in ctx.team_cost.items()}  # units of 1e-10 -> currency
    path = ctx.out_dir / "landing" / "budgets" / "budgets.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        f.writelines(budget_lines(monthly, [m.start for m in ctx.window.months], ctx.seed))
    ctx.files.append(path)
