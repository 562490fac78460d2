"""Scenarios: adjustments applied on top of the baseline segment forecasts.

This is the one scenario model. The planning file (``scenario_file.py``) maps each of its
cases ``base``/``best``/``worst`` onto a ``Scenario`` of ``Adjustment``s; Python callers may
pass further named scenarios. Applying a scenario keeps two parts per segment apart -- the
baseline forecast *scaled* by multipliers, and cost *added* by launches -- so the bands of a
level can be scaled by the first and shifted by the second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

import numpy as np

from dagster_project.lib.calendar import month_start, months_between

from .config import BASELINE

# The planning cases every snapshot carries (equal to the baseline without a scenarios file).
CASES = ("base", "best", "worst")
_KINDS = ("multiplier", "growth_rate", "monthly_cost")
_LEGACY_KINDS = ("growth_pct", "launch", "commitment_coverage")
FILTERS = ("team", "workload", "ml_model", "provider")
# Segment key of a launch where its slice leaves a column open.
LAUNCH_DEFAULTS = {"workload": "shared", "ml_model": "none", "provider": "scenario",
                   "service_name": "launch"}


def _month(value: date | str | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = date.fromisoformat(value if len(value) > 7 else f"{value}-01")
    return month_start(value)


@dataclass(frozen=True)
class Adjustment:
    """One change applied to the matching segments, in months ``from_month``..``to_month``.

    kind:
      * ``multiplier`` -- cost × ``factor`` (0 retires the slice). ``affects='usage'`` scales
        the plan quantity too; ``'price'`` (price changes, commitments) leaves it unchanged.
      * ``growth_rate`` -- cost × ``(1 + rate) ** k`` in the k-th month from ``from_month``
        (monthly compounding); after ``to_month`` the level reached is kept.
      * ``monthly_cost`` -- adds ``monthly_cost`` per month as a new segment (team, workload,
        ml_model, provider of the filters; ``LAUNCH_DEFAULTS`` where open; service ``launch``),
        with plan quantity ``quantity`` in ``pricing_unit`` if given.
      * legacy kinds, converted by ``canonical``: ``growth_pct`` (``pct``, ``compounding``),
        ``launch`` (``monthly_cost``), ``commitment_coverage`` (``pct``, ``discount_pct``: cost
        × ``1 − pct/100 × discount_pct/100``, a price change).
    Filters ``team``/``workload``/``ml_model``/``provider`` match exactly; ``None`` = all.
    Without ``from_month`` the adjustment starts in the first forecast month.
    """

    kind: str
    team: str | None = None
    workload: str | None = None
    ml_model: str | None = None
    provider: str | None = None
    from_month: date | None = None
    to_month: date | None = None
    factor: float = 1.0
    rate: float = 0.0
    monthly_cost: float = 0.0
    quantity: float | None = None
    pricing_unit: str | None = None
    affects: str = "usage"
    source: str = ""  # the assumption it comes from (error messages, params)
    pct: float = 0.0
    discount_pct: float = 0.0
    compounding: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _KINDS + _LEGACY_KINDS:
            raise ValueError(f"unknown adjustment kind {self.kind!r}; use {_KINDS}")
        object.__setattr__(self, "from_month", _month(self.from_month))
        object.__setattr__(self, "to_month", _month(self.to_month))
        if self.kind in ("launch", "monthly_cost") and not self.team:
            raise ValueError("a launch (monthly_cost) adjustment needs a team")
        if self.affects not in ("usage", "price"):
            raise ValueError(f"affects must be 'usage' or 'price', not {self.affects!r}")

    def canonical(self) -> Adjustment:
        """The same change as one of the kinds ``multiplier``/``growth_rate``/``monthly_cost``."""
        if self.kind == "growth_pct":
            if self.compounding:
                return replace(self, kind="growth_rate", rate=self.pct / 100.0, pct=0.0,
                               compounding=False)
            return replace(self, kind="multiplier", factor=1.0 + self.pct / 100.0, pct=0.0)
        if self.kind == "launch":
            return replace(self, kind="monthly_cost")
        if self.kind == "commitment_coverage":
            return replace(self, kind="multiplier", affects="price", pct=0.0, discount_pct=0.0,
                           factor=1.0 - self.pct / 100.0 * self.discount_pct / 100.0)
        return self

    def matches(self, seg: Mapping[str, Any]) -> bool:
        return all(getattr(self, k) is None or seg[k] == getattr(self, k) for k in FILTERS)

    def launch_segment(self) -> dict[str, Any]:
        seg = {k: getattr(self, k) or LAUNCH_DEFAULTS.get(k) for k in FILTERS}
        return {**seg, "service_name": LAUNCH_DEFAULTS["service_name"],
                "pricing_unit": self.pricing_unit}

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("from_month", "to_month"):
            d[k] = d[k].isoformat() if d[k] else None
        return d


@dataclass(frozen=True)
class Scenario:
    """A named set of adjustments; the ``baseline`` scenario is always produced."""

    name: str
    adjustments: tuple[Adjustment, ...] = ()
    description: str = ""

    @classmethod
    def from_obj(cls, obj: Scenario | Mapping[str, Any]) -> Scenario:
        if isinstance(obj, Scenario):
            return obj
        adjustments = tuple(
            a if isinstance(a, Adjustment) else Adjustment(**dict(a))
            for a in obj.get("adjustments", ())
        )
        return cls(str(obj["name"]), adjustments, str(obj.get("description", "")))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "adjustments": [a.to_json() for a in self.adjustments],
        }


def normalise_scenarios(scenarios: Any) -> list[Scenario]:
    """The scenarios of a run: ``base``, ``best``, ``worst`` first (empty -- equal to the
    baseline -- unless given), then any other named scenarios. ``scenarios`` is None, a
    ``ScenarioFile`` or an iterable of ``Scenario``s / mappings."""
    if hasattr(scenarios, "scenarios") and callable(scenarios.scenarios):
        scenarios = scenarios.scenarios()
    given = [Scenario.from_obj(s) for s in (scenarios or ())]
    names = [s.name for s in given]
    if BASELINE in names:
        raise ValueError("'baseline' is reserved for the unadjusted forecast")
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate scenario names: {names}")
    by_name = {s.name: s for s in given}
    cases = [by_name.get(c, Scenario(c, (), "no assumptions: equal to the baseline"))
             for c in CASES]
    return cases + [s for s in given if s.name not in CASES]


@dataclass
class Applied:
    """A scenario applied to the segments: cost = ``scaled`` + ``added`` (both (S, H))."""

    segments: list[dict[str, Any]]
    scaled: np.ndarray  # the baseline forecast after multipliers
    added: np.ndarray  # cost added by launches (after multipliers that match them)
    qty: np.ndarray

    @property
    def points(self) -> np.ndarray:
        return self.scaled + self.added


def _factor(adj: Adjustment, months: list[date]) -> np.ndarray:
    start = adj.from_month or months[0]
    started = np.array([m >= start for m in months])
    inside = started & np.array([adj.to_month is None or m <= adj.to_month for m in months])
    if adj.kind == "multiplier":
        return np.where(inside, adj.factor, 1.0)
    k = np.array([max(1, months_between(start, m) + 1) for m in months], dtype=float)
    if adj.to_month is not None:  # growth stops at ``to_month``: the level reached is kept
        k = np.minimum(k, months_between(start, adj.to_month) + 1)
    return np.where(started, (1.0 + adj.rate) ** k, 1.0)


def apply_scenario(
    scenario: Scenario,
    segments: list[dict[str, Any]],
    points: np.ndarray,
    qty: np.ndarray,
    months: list[date],
) -> Applied:
    """The scenario's adjustments applied in order to the baseline segment forecasts.

    Launches append segments after the baseline ones (a repeated launch adds up); a multiplier
    listed after a launch also scales the launched cost when its slice matches.
    """
    segs = list(segments)
    scaled = points.copy()
    added = np.zeros_like(points)
    q = qty.copy()
    h = len(months)
    for adj in (a.canonical() for a in scenario.adjustments):
        if adj.kind == "monthly_cost":
            start = adj.from_month or months[0]
            active = np.array([m >= start and (adj.to_month is None or m <= adj.to_month)
                               for m in months])
            seg = adj.launch_segment()
            if seg not in segs:
                segs.append(seg)
                scaled = np.vstack([scaled, np.zeros(h)])
                added = np.vstack([added, np.zeros(h)])
                q = np.vstack([q, np.full(h, np.nan)])
            i = segs.index(seg)
            added[i] += np.where(active, adj.monthly_cost, 0.0)
            if adj.quantity is not None:
                q[i] = np.nan_to_num(q[i]) + np.where(active, adj.quantity, 0.0)
            continue
        factor = _factor(adj, months)
        for i, seg in enumerate(segs):
            if adj.matches(seg):
                scaled[i] = scaled[i] * factor
                added[i] = added[i] * factor
                if adj.affects == "usage":
                    q[i] = q[i] * factor
    return Applied(segs, scaled, added, q)
