"""What-if scenarios: adjustments applied on top of the baseline segment forecasts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np

from dagster_project.lib.calendar import month_start

from .config import BASELINE

_ADJUSTMENT_KINDS = ("growth_pct", "launch", "commitment_coverage")

@dataclass(frozen=True)
class Adjustment:
    """One what-if change applied on top of the baseline segment forecasts.

    kind:
      * ``growth_pct`` -- multiply matching cost (and quantity) by ``1 + pct/100`` from
        ``from_month``; with ``compounding=True`` the uplift compounds monthly
        (``(1 + pct/100) ** k`` in the k-th month from ``from_month``).
      * ``launch`` -- add ``monthly_cost`` per month from ``from_month`` as a new segment
        (team, workload, ml_model, provider ``scenario``, service ``launch``).
      * ``commitment_coverage`` -- move ``pct`` percentage points of matching spend from
        on-demand to commitments priced ``discount_pct`` % below on-demand: cost is multiplied
        by ``1 - pct/100 * discount_pct/100`` (usage unchanged; a negative ``pct`` removes
        coverage).
    Filters ``team``/``workload``/``ml_model``/``provider`` match exactly; ``None`` = all.
    """

    kind: str
    team: str | None = None
    workload: str | None = None
    ml_model: str | None = None
    provider: str | None = None
    from_month: date | None = None
    pct: float = 0.0
    monthly_cost: float = 0.0
    discount_pct: float = 0.0
    compounding: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _ADJUSTMENT_KINDS:
            raise ValueError(f"unknown adjustment kind {self.kind!r}; use {_ADJUSTMENT_KINDS}")
        if self.from_month is not None:
            object.__setattr__(self, "from_month", month_start(self.from_month))
        if self.kind == "launch" and not self.team:
            raise ValueError("a launch adjustment needs a team")

    def matches(self, seg: Mapping[str, Any]) -> bool:
        for key in ("team", "workload", "ml_model", "provider"):
            want = getattr(self, key)
            if want is not None and seg[key] != want:
                return False
        return True

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["from_month"] = self.from_month.isoformat() if self.from_month else None
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


def normalise_scenarios(
    scenarios: Iterable[Scenario | Mapping[str, Any]] | None,
) -> list[Scenario]:
    """Scenario objects from objects or mappings; names must be unique and not 'baseline'."""
    out = [Scenario.from_obj(s) for s in (scenarios or ())]
    names = [s.name for s in out]
    if BASELINE in names:
        raise ValueError("'baseline' is reserved for the unadjusted forecast")
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate scenario names: {names}")
    return out


def apply_scenario(
    scenario: Scenario,
    segments: list[dict[str, Any]],
    points: np.ndarray,
    qty: np.ndarray,
    months: list[date],
) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    """Segments, points (S, H) and quantities (S, H) with the scenario's adjustments applied.

    Launches append segments after the baseline ones (a repeated launch adds up).
    """
    segs = list(segments)
    pts = points.copy()
    q = qty.copy()
    for adj in scenario.adjustments:
        start = adj.from_month or months[0]
        active = np.array([m >= start for m in months])
        k = np.cumsum(active)  # 1, 2, ... from the start month
        if adj.kind == "launch":
            seg = {
                "team": adj.team,
                "workload": adj.workload or "shared",
                "ml_model": adj.ml_model or "none",
                "provider": adj.provider or "scenario",
                "service_name": "launch",
                "pricing_unit": None,
            }
            added = np.where(active, adj.monthly_cost, 0.0)
            if seg in segs:  # a second launch of the same segment adds up
                pts[segs.index(seg)] += added
            else:
                segs.append(seg)
                pts = np.vstack([pts, added])
                q = np.vstack([q, np.full(len(months), np.nan)])
            continue
        if adj.kind == "growth_pct":
            g = 1.0 + adj.pct / 100.0
            factor = np.where(active, g**k if adj.compounding else g, 1.0)
            qty_factor = factor
        else:  # commitment_coverage
            factor = np.where(active, 1.0 - adj.pct / 100.0 * adj.discount_pct / 100.0, 1.0)
            qty_factor = np.ones(len(months))
        for i, seg in enumerate(segs):
            if adj.matches(seg):
                pts[i] = pts[i] * factor
                q[i] = q[i] * qty_factor
    return segs, pts, q
