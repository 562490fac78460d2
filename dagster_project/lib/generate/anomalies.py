"""Planted cost anomalies and decoys of the demo, and their ground truth
(``ground_truth/anomalies.csv``, see docs/anomalies.md).

Anomalies are multipliers on a resource group's daily usage, applied to the activity before the
billing writers price it, so they reach every export in its own format (CUR 2.0, GCP NDJSON,
Azure EA actual and amortized). Days are counted back from the window's last day, so every
window of at least four months holds all of them (the pinned demo and the tests' small demo).

Decoys must not be reported by the detector: a weekly pattern (an endpoint scaled down at
weekends), a re-delivered GCP month (a second delivery of the same charges, exported again
three days later) and the mid-window launch of ``doc-embedder-prod`` (a step that stays).
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import datetime as dt
from collections import defaultdict
from typing import NamedTuple

import numpy as np

from . import company as C
from .activity import Activity
from .groups import Group
from .window import Month, Window

_AZ_SUB_IDS = {s.name: s.subscription_id for s in C.AZURE_SUBSCRIPTIONS}
_BILLING = {"aws": C.AWS_PAYER_ACCOUNT_ID, "gcp": C.GCP_BILLING_ACCOUNT_ID,
            "azure": C.AZURE_BILLING_ACCOUNT_ID}


class Planted(NamedTuple):
    key: str  # resource group
    service: str  # FOCUS ServiceName of the group's cost
    back: int  # first day, counted back from the window's last day (0 = last day)
    days: int
    factor: float  # multiplier of the day's usage (< 1: a drop)


# Spikes of 2.5-5x and drops to 10-20 % for 1-3 days, on the three providers and four teams.
# No GCP anomaly in the re-delivered month (the second-to-last), so that decoy stays clean.
PLANTED: tuple[Planted, ...] = (
    Planted("aws.ep.query-ranker-prod", "Amazon SageMaker", 76, 2, 3.0),
    Planted("aws.s3.datalake", "Amazon Simple Storage Service", 66, 1, 2.5),
    Planted("aws.s3.recsys-data", "Amazon Simple Storage Service", 40, 2, 4.0),
    Planted("aws.dev.heidi", "Amazon Elastic Compute Cloud", 52, 3, 5.0),
    Planted("aws.s3.datalake", "Amazon Simple Storage Service", 28, 2, 0.2),
    Planted("gcp.bq.shared", "BigQuery", 75, 1, 3.0),
    Planted("gcp.gcs.search-data", "Cloud Storage", 65, 1, 5.0),
    Planted("gcp.gcs.lake", "Cloud Storage", 20, 2, 0.2),
    Planted("gcp.bq.search", "BigQuery", 12, 2, 4.0),
    Planted("az.aml.train", "Azure Machine Learning", 45, 2, 3.0),
    Planted("az.dbx.features", "Azure Databricks", 58, 2, 6.0),
    Planted("az.st.features", "Storage Accounts", 33, 1, 5.0),
    Planted("az.ci.carol", "Azure Machine Learning", 15, 3, 0.1),
)
# Decoy: the production ranker scales down to 40 % at weekends, every weekend of the window.
WEEKEND_KEY, WEEKEND_SERVICE, WEEKEND_FACTOR = ("aws.ep.query-ranker-prod", "Amazon SageMaker",
                                                0.4)
LAUNCH_KEY, LAUNCH_SERVICE = "aws.ep.doc-embedder-prod", "Amazon SageMaker"
REDELIVERY_SHIFT_DAYS = 3  # the re-delivery's export_time is this much later
HEADER = ["anomaly_id", "kind", "expected_detected", "provider", "billing_account_id",
          "sub_account_id", "team", "service_name", "resource_id", "start_date", "end_date",
          "factor", "note"]


def _account(g: Group) -> str:
    return _AZ_SUB_IDS.get(g.scope, g.scope)


class Injector:
    """Applies the planted anomalies and the weekend decoy to each group's activity, writes the
    re-delivered month and the ground truth."""

    def __init__(self, w: Window, groups: list[Group]):
        self.w = w
        self.groups = {g.key: g for g in groups}
        last = w.n_days - 1
        # (start day, end day, factor) per group; only anomalies inside the window.
        self.spans: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
        self.planted = [p for p in PLANTED if p.key in self.groups and p.back <= last]
        for p in self.planted:
            s = last - p.back
            self.spans[p.key].append((s, min(last, s + p.days - 1), p.factor))
        self.redelivered = w.months[-2] if len(w.months) >= 2 else None

    def apply(self, g: Group, m: Month, a: Activity) -> None:
        """Scale ``a`` in place: usage and the extra series (reads, writes, egress)."""
        spans = self.spans.get(g.key, [])
        weekend = g.key == WEEKEND_KEY
        if not spans and not weekend:
            return
        f = np.ones(len(a.days))
        if weekend:
            f = np.where(self.w.weekday[a.days] >= 5, WEEKEND_FACTOR, f)
        for s, e, factor in spans:
            f = np.where((a.days >= s) & (a.days <= e), factor, f)
        a.qty = a.qty * f[None, :]
        for name, v in a.extra.items():
            a.extra[name] = v * f[None, :]

    def before_month(self, provider: str, writer, m: Month):
        """A copy of the GCP writer, in its state before month ``m``, when ``m`` is the month
        re-delivered; it writes that delivery after the original (``None`` otherwise)."""
        if provider != "gcp" or self.redelivered is None or m.index != self.redelivered.index:
            return None
        clone = copy.copy(writer)
        # Its own ledger and team costs: the re-delivery replaces the month, it adds nothing.
        clone.ctx = dataclasses.replace(writer.ctx, ledger={}, team_cost=defaultdict(int),
                                        idle_rows=[])
        clone.base = writer.base / f"redelivered-{m.yyyymm}"
        clone._export = _shift_export(writer._export, REDELIVERY_SHIFT_DAYS)
        return clone

    def write_truth(self, ctx) -> None:
        w = self.w
        path = ctx.out_dir / "ground_truth" / "anomalies.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = []
        last = w.n_days - 1
        for p in self.planted:
            g = self.groups[p.key]
            s = last - p.back
            e = min(last, s + p.days - 1)
            rows.append(["spike" if p.factor > 1 else "drop", "true", g, p.service, w.date(s),
                         w.date(e), p.factor, f"{g.key}: usage x{p.factor:g} for {p.days} "
                                                   "day(s)"])
        if WEEKEND_KEY in self.groups:
            g = self.groups[WEEKEND_KEY]
            rows.append(["weekend_dip", "false", g, WEEKEND_SERVICE, w.date(0), w.date(last),
                         WEEKEND_FACTOR, f"{g.key}: every Saturday and Sunday at "
                                         f"{WEEKEND_FACTOR:g}x (a weekly pattern)"])
        if self.redelivered is not None:
            m = self.redelivered
            rows.append(["redelivered_month", "false", None, "", m.start,
                         m.end - dt.timedelta(days=1), 1.0,
                         f"GCP {m.label} delivered twice (landing/gcp/billing_export/"
                         f"redelivered-{m.yyyymm}/): same charges, a later export_time"])
        if LAUNCH_KEY in self.groups:
            g = self.groups[LAUNCH_KEY]
            s = int(g.start[0])
            if 0 < s <= last:
                rows.append(["launch_step", "false", g, LAUNCH_SERVICE, w.date(s),
                             w.date(min(last, s + 27)), 1.0,
                             f"{g.key}: a new model's endpoint starts and stays"])
        with path.open("w", encoding="utf-8", newline="") as f:
            wr = csv.writer(f, lineterminator="\n")
            wr.writerow(HEADER)
            for i, (kind, expected, g, service, s, e, factor, note) in enumerate(rows, 1):
                if g is None:  # the re-delivered month: the whole GCP billing account
                    who = ["gcp", C.GCP_BILLING_ACCOUNT_ID, "", "", "", ""]
                else:
                    who = [g.provider, _BILLING[g.provider], _account(g), g.team, service,
                           g.ids[0]]
                wr.writerow([f"A{i:02d}", kind, expected, *who, s.isoformat(),
                             e.isoformat(), f"{factor:g}", note])
        ctx.files.append(path)


def _shift_export(export: np.ndarray, days: int) -> np.ndarray:
    """The writer's export_time texts (``YYYY-MM-DD HH:MM:SS.ffffff UTC``), ``days`` later."""
    out = np.concatenate([export[days:], export[-1:].repeat(days)])
    return out
