"""The building blocks of the resource catalog: ``Group`` (a set of billed resources that
share everything but their id), ``Catalog``, and the window helpers the provider catalogs
(``catalog_aws``, ``catalog_gcp``, ``catalog_azure``) use to place resources and jobs in time.

Activity is generated per member of a group, so ``scale`` only changes how many members the
fleets have.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .window import Window

HOURS_PER_DAY = 24.0


@dataclass
class Group:
    key: str
    provider: str
    scope: str  # AWS account id, GCP project id or Azure subscription name
    ids: list[str]
    names: list[str]
    team: str
    model: str
    workload: str
    tags: list[dict[str, str] | None]
    notes: list[str]
    start: np.ndarray  # first active day (inclusive), per member
    end: np.ndarray  # last active day (inclusive), per member
    shape: str
    p: dict
    lines: list[dict]
    metrics: tuple[str, ...] = ()
    idle: list[tuple[int, str, int, int]] = field(default_factory=list)
    # per-member job timing (hours since window start), only for shape "jobs"
    job_start: np.ndarray | None = None
    job_dur: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.ids)


@dataclass
class Catalog:
    groups: list[Group]
    commitments: dict  # provider -> commitment parameters
    scale: float


# ------------------------------------------------------------------ helpers
def scaled_count(base: float, scale: float) -> int:
    return max(1, int(round(base * scale)))


def period(w: Window, frac: float, length: int) -> tuple[int, int]:
    """An inclusive day range of ``length`` days starting near ``frac`` of the window."""
    length = min(length, w.n_days)
    s = min(int(w.n_days * frac), w.n_days - length)
    return s, s + length - 1


def new_group(w: Window, key: str, provider: str, scope: str, ids, names, team: str, model: str,
              workload: str, tags, shape, p: dict, lines, metrics=(), notes=None, start=None,
              end=None, idle=(), job=None) -> Group:
    """One Group of ``len(ids)`` resources; a single tag set or note applies to every resource,
    and the resources live the whole window unless ``start``/``end`` say otherwise. The one
    constructor the per-provider catalogues share."""
    n = len(ids)
    s, e = whole(w, n) if start is None else (start, end)
    gg = Group(key, provider, scope, list(ids), list(names), team, model, workload,
               tags if isinstance(tags, list) else [tags] * n,
               notes if isinstance(notes, list) else [notes or ""] * n,
               np.asarray(s, dtype=np.int64), np.asarray(e, dtype=np.int64), shape, p, lines,
               tuple(metrics), list(idle))
    if job is not None:
        gg.job_start, gg.job_dur = job
    return gg


def whole(w: Window, n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(n, dtype=np.int64), np.full(n, w.n_days - 1, dtype=np.int64)


def weekly_jobs(w: Window, rng: np.random.Generator, weekday: int, hour: float,
                 dur: tuple[float, float], replicas: int, every: int = 1):
    """Start hour and duration of jobs launched every ``every`` weeks on ``weekday``."""
    days = np.nonzero(w.weekday == weekday)[0][::every]
    starts, durs, labels = [], [], []
    for d in days:
        for r in range(replicas):
            starts.append(d * HOURS_PER_DAY + hour + r * 0.25)
            durs.append(rng.uniform(*dur))
            labels.append((int(d), r))
    return np.array(starts, dtype=np.float64), np.array(durs, dtype=np.float64), labels


def daily_jobs(w: Window, rng: np.random.Generator, hour: float, dur: tuple[float, float],
                replicas: int):
    starts, durs, labels = [], [], []
    for d in range(w.n_days):
        for r in range(replicas):
            starts.append(d * HOURS_PER_DAY + hour + r * 0.1)
            durs.append(rng.uniform(*dur))
            labels.append((d, r))
    return np.array(starts, dtype=np.float64), np.array(durs, dtype=np.float64), labels


def job_range(w: Window, starts: np.ndarray, durs: np.ndarray):
    s = np.floor(starts / HOURS_PER_DAY).astype(np.int64)
    e = np.floor((starts + durs - 1e-9) / HOURS_PER_DAY).astype(np.int64)
    return s, np.minimum(e, w.n_days - 1)

