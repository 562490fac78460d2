"""Scoring detected anomalies against the demo's ground truth (ground_truth/anomalies.csv,
written by lib/generate/anomalies.py): precision, recall and which decoys fired.

A detection matches a truth row when provider and service are equal, the team (team x service
series) or the account (account x service series) is equal, and the dates overlap. A decoy
without a team and service (the re-delivered month) is matched by any detection of its
provider and billing account in its dates.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Truth:
    anomaly_id: str
    kind: str
    expected_detected: bool
    provider: str
    billing_account_id: str
    sub_account_id: str
    team: str
    service_name: str
    start: dt.date
    end: dt.date


@dataclass
class Score:
    detections: int
    true_positives: int  # detections matching an expected anomaly
    found: list[str] = field(default_factory=list)  # expected anomalies detected
    missed: list[str] = field(default_factory=list)
    decoys_fired: list[str] = field(default_factory=list)
    false_positives: list[tuple] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.true_positives / self.detections if self.detections else 1.0

    @property
    def recall(self) -> float:
        n = len(self.found) + len(self.missed)
        return len(self.found) / n if n else 1.0


def read_truth(path: Path) -> list[Truth]:
    with Path(path).open(encoding="utf-8", newline="") as f:
        return [Truth(r["anomaly_id"], r["kind"], r["expected_detected"] == "true",
                      r["provider"], r["billing_account_id"], r["sub_account_id"], r["team"],
                      r["service_name"], dt.date.fromisoformat(r["start_date"]),
                      dt.date.fromisoformat(r["end_date"]))
                for r in csv.DictReader(f)]


def matches(t: Truth, d: dict) -> bool:
    """Whether detection ``d`` (a row of monitoring.cost_anomalies as a dict) is about ``t``."""
    if d["provider"] != t.provider or d["start_date"] > t.end or d["end_date"] < t.start:
        return False
    if not t.service_name:  # a whole billing account (the re-delivered month)
        return d["billing_account_id"] == t.billing_account_id
    if d["service_name"] != t.service_name:
        return False
    if d["series_kind"] == "team_service":
        return d["team"] == t.team
    return d["sub_account_id"] == t.sub_account_id


def score(truth: list[Truth], detections: list[dict]) -> Score:
    expected = [t for t in truth if t.expected_detected]
    decoys = [t for t in truth if not t.expected_detected]
    s = Score(len(detections), 0)
    for d in detections:
        if any(matches(t, d) for t in expected):
            s.true_positives += 1
        else:
            s.false_positives.append((d["series_kind"], d["provider"], d["team"],
                                      d["sub_account_id"], d["service_name"],
                                      str(d["start_date"]), str(d["end_date"])))
    for t in expected:
        (s.found if any(matches(t, d) for d in detections) else s.missed).append(t.anomaly_id)
    for t in decoys:
        # A decoy fires when a detection that no expected anomaly explains falls on it.
        if any(matches(t, d) and not any(matches(e, d) for e in expected)
               for d in detections if t.kind != "weekend_dip" or _has_weekend(d)):
            s.decoys_fired.append(t.anomaly_id)
    return s


def _has_weekend(d: dict) -> bool:
    day = d["start_date"]
    while day <= d["end_date"]:
        if day.weekday() >= 5:
            return True
        day += dt.timedelta(days=1)
    return False
