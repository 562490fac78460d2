"""The variance decomposition itself: segments -> effects -> roll-ups (pure, Decimal-exact).

For a quarter, the actual effective cost of every *segment* (team x workload x ml_model x
provider x service x pricing unit) is compared with the plan of the quarter's locked forecast.
The difference is split, per segment, into

* ``volume_effect = C_vol - C_plan``   where ``C_vol = C_plan * r_g``
* ``mix_effect    = C_mix - C_vol``    where ``C_mix = C_plan * r_s = P_plan * Q_actual``
* ``price_effect  = C_act - C_mix - commitment_effect``
* ``commitment_effect = (d_ref - d_act) * L_act`` (the part of ``C_act - C_mix`` that comes
  from a change in the discount rate ``d = 1 - effective / list cost``: commitment coverage)

with ``d_ref`` the segment's discount rate over the three months up to the plan's as-of month,
``d_act`` the quarter's and ``L_act`` the quarter's list cost (0 without list cost or reference
months), ``r_s = Q_act / Q_plan`` the segment's quantity ratio and ``r_g = sum Q_act / sum Q_plan``
over the quantified segments of its *mix group* (team x workload x pricing unit: quantities
in the same unit that can be added up). New / discontinued segments go to
``new_discontinued_effect`` and segments without a usable quantity to
``unquantified_effect``. The chain telescopes, so the effects sum exactly to
``actual - plan`` for every segment and therefore for every roll-up (team, team x workload,
team x ml_model, total) -- the intermediate costs are rounded once, never the effects.
See docs/variance-and-report.md for the worked example.

Nothing here touches the warehouse: ``persistence`` reads and writes, ``quarterly`` runs both.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

_Q24 = Decimal(1).scaleb(-24)
_Q12 = Decimal(1).scaleb(-12)
_Q6 = Decimal(1).scaleb(-6)
CTX = decimal.Context(prec=80, rounding=decimal.ROUND_HALF_EVEN)
EFFECTS = (
    "volume_effect",
    "mix_effect",
    "price_effect",
    "new_discontinued_effect",
    "unquantified_effect",
    "commitment_effect",
)
SEG_KEYS = ("team", "workload", "ml_model", "provider", "service_name", "pricing_unit")
LEVEL_KEYS = {
    "total": (),
    "team": ("team",),
    "team_workload": ("team", "workload"),
    "team_model": ("team", "ml_model"),
}
_LEVEL_ORDER = {"total": 0, "team": 1, "team_workload": 2, "team_model": 3}


@dataclass
class Segment:
    """Quarter totals of one segment: plan (locked forecast) and actual."""

    key: dict[str, Any]
    actual_cost: Decimal = Decimal(0)
    plan_cost: Decimal = Decimal(0)
    actual_quantity: Decimal | None = None
    plan_quantity: Decimal | None = None
    status: str = ""
    effects: dict[str, Decimal] = field(default_factory=dict)
    volume_cost: Decimal | None = None
    mix_cost: Decimal | None = None
    group_ratio: Decimal | None = None
    # Discount rates (commitment effect): the quarter's list cost and effective cost of the
    # rows with a positive list cost, and the same two sums over the reference months.
    actual_list_cost: Decimal | None = None
    actual_listed_cost: Decimal | None = None
    ref_list_cost: Decimal | None = None
    ref_listed_cost: Decimal | None = None

    @property
    def actual_discount_rate(self) -> Decimal | None:
        return discount_rate(self.actual_listed_cost, self.actual_list_cost)

    @property
    def ref_discount_rate(self) -> Decimal | None:
        return discount_rate(self.ref_listed_cost, self.ref_list_cost)

    @property
    def total_variance(self) -> Decimal:
        return CTX.subtract(self.actual_cost, self.plan_cost)


def q24(x: Decimal) -> Decimal:
    return x.quantize(_Q24, context=CTX)


def q12(x: Decimal | None) -> Decimal | None:
    return None if x is None else x.quantize(_Q12, context=CTX)


def discount_rate(effective: Decimal | None, list_cost: Decimal | None) -> Decimal | None:
    """``1 - effective / list`` (None without a positive list cost), exact to 80 digits."""
    if effective is None or list_cost is None or list_cost <= 0:
        return None
    return CTX.subtract(Decimal(1), CTX.divide(effective, list_cost))


def commitment_effect(s: Segment) -> Decimal:
    """``(d_ref - d_act) * L_act`` rounded once to 24 places: what the change in discount rate
    (commitment coverage) added to the cost; 0 without both rates. Positive: coverage fell."""
    d_ref, d_act = s.ref_discount_rate, s.actual_discount_rate
    if d_ref is None or d_act is None:
        return Decimal(0)
    return q24(CTX.multiply(CTX.subtract(d_ref, d_act), s.actual_list_cost))


def pct(num: Decimal | None, den: Decimal | None) -> Decimal | None:
    if num is None or den is None or den == 0:
        return None
    return CTX.divide(num * 100, den).quantize(_Q6, context=CTX)


def decompose(segments: Sequence[Segment]) -> list[Segment]:
    """Fill status, intermediate costs and the five effects of every segment (in place).

    Effects per segment sum exactly to ``actual_cost - plan_cost`` (Decimal arithmetic, the
    two intermediate costs are rounded to 24 places once and the effects are differences).
    """
    with decimal.localcontext(CTX):  # 80 digits: sums of DECIMAL(38,24) never round
        return _decompose(segments)


def _decompose(segments: Sequence[Segment]) -> list[Segment]:
    groups: dict[tuple, list[Segment]] = {}
    for s in segments:
        zero = dict.fromkeys(EFFECTS, Decimal(0))
        s.effects = zero
        if s.plan_cost == 0 and s.actual_cost == 0:
            s.status = "zero"
        elif s.plan_cost == 0:
            s.status = "new"
            zero["new_discontinued_effect"] = s.actual_cost
        elif s.actual_cost == 0:
            s.status = "discontinued"
            zero["new_discontinued_effect"] = -s.plan_cost
        elif (
            s.key.get("pricing_unit") is None
            or not s.plan_quantity
            or not s.actual_quantity
            or s.plan_quantity <= 0
            or s.actual_quantity <= 0
        ):
            s.status = "unquantified"
            zero["unquantified_effect"] = s.actual_cost - s.plan_cost
        else:
            s.status = "continuing"
            gkey = (s.key.get("team"), s.key.get("workload"), s.key.get("pricing_unit"))
            groups.setdefault(gkey, []).append(s)
    for members in groups.values():
        qa = sum((m.actual_quantity for m in members), Decimal(0))  # type: ignore[misc]
        qp = sum((m.plan_quantity for m in members), Decimal(0))  # type: ignore[misc]
        r_g = CTX.divide(qa, qp)
        for m in members:
            r_s = CTX.divide(m.actual_quantity, m.plan_quantity)  # type: ignore[arg-type]
            m.group_ratio = r_g
            m.volume_cost = q24(CTX.multiply(m.plan_cost, r_g))
            m.mix_cost = q24(CTX.multiply(m.plan_cost, r_s))
            m.effects["volume_effect"] = m.volume_cost - m.plan_cost
            m.effects["mix_effect"] = m.mix_cost - m.volume_cost
            # The commitment effect is carved out of the price step, so the chain still
            # telescopes: volume + mix + price + commitment = C_act - C_plan exactly.
            m.effects["commitment_effect"] = commitment_effect(m)
            m.effects["price_effect"] = (
                m.actual_cost - m.mix_cost - m.effects["commitment_effect"])
    return list(segments)


def _dec(value: Any) -> Decimal | None:
    return Decimal(value) if value is not None else None


def segments_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Segment]:
    """Segments from rows holding the six keys and actual/plan cost and quantity (None = 0
    cost, unknown quantity), as ``persistence.read_segments`` returns them; the list-cost sums
    of the discount rates when the rows have them."""
    out = []
    for r in rows:
        out.append(Segment(
            {k: r[k] for k in SEG_KEYS},
            _dec(r["actual_cost"]) or Decimal(0),
            _dec(r["plan_cost"]) or Decimal(0),
            _dec(r["actual_quantity"]),
            _dec(r["plan_quantity"]),
            actual_list_cost=_dec(r.get("actual_list_cost")),
            actual_listed_cost=_dec(r.get("actual_listed_cost")),
            ref_list_cost=_dec(r.get("ref_list_cost")),
            ref_listed_cost=_dec(r.get("ref_listed_cost")),
        ))
    return out


def _empty() -> dict[str, Decimal]:
    return {"actual": Decimal(0), "plan": Decimal(0), **dict.fromkeys(EFFECTS, Decimal(0))}


def rollups(
    segments: Sequence[Segment], budgets: Mapping[str, Decimal]
) -> list[tuple[str, dict[str, Any], dict[str, Decimal]]]:
    """(level, key, sums) per roll-up of the decomposed, non-zero ``segments``, in report order
    (total, team, team x workload, team x model). Teams with a budget but no cost and no plan
    get a team row; an empty quarter still gets a total row."""
    with decimal.localcontext(CTX):
        acc: dict[tuple[str, tuple], dict[str, Decimal]] = {}
        for level, keys in LEVEL_KEYS.items():
            for s in segments:
                r = acc.setdefault((level, tuple(s.key[c] for c in keys)), _empty())
                r["actual"] += s.actual_cost
                r["plan"] += s.plan_cost
                for e in EFFECTS:
                    r[e] += s.effects[e]
            if level == "team":
                for team in budgets:
                    acc.setdefault(("team", (team,)), _empty())
        if not segments:
            acc.setdefault(("total", ()), _empty())
    ordered = sorted(acc.items(), key=lambda kv: (
        _LEVEL_ORDER[kv[0][0]], tuple("" if v is None else str(v) for v in kv[0][1])))
    return [(level, dict(zip(LEVEL_KEYS[level], vals, strict=True)), sums)
            for (level, vals), sums in ordered]


def variance_row(
    level: str, key: Mapping[str, Any], sums: Mapping[str, Decimal], budget: Decimal | None
) -> dict[str, Any]:
    """The money columns of one ``quarterly_variance`` row (rounded to 24 places once)."""
    with decimal.localcontext(CTX):
        var_f = sums["actual"] - sums["plan"]
        var_b = sums["actual"] - budget if budget is not None else None
        return {
            "level": level, "team": key.get("team"), "workload": key.get("workload"),
            "ml_model": key.get("ml_model"),
            "actual_cost": q24(sums["actual"]), "forecast_cost": q24(sums["plan"]),
            "budget_amount": q24(budget) if budget is not None else None,
            "variance_vs_forecast": q24(var_f),
            "variance_vs_forecast_pct": pct(var_f, sums["plan"]),
            "variance_vs_budget": q24(var_b) if var_b is not None else None,
            "variance_vs_budget_pct": pct(var_b, budget),
            **{e: q24(sums[e]) for e in EFFECTS},
        }


def segment_row(s: Segment) -> dict[str, Any]:
    """The columns of one ``variance_decomposition`` row."""

    def price(cost: Decimal, qty: Decimal | None) -> Decimal | None:
        if qty is None or qty <= 0:
            return None
        return CTX.divide(cost, qty).quantize(_Q12, context=CTX)

    return {
        **s.key,
        "segment_status": s.status,
        "actual_cost": q24(s.actual_cost), "plan_cost": q24(s.plan_cost),
        "actual_quantity": q12(s.actual_quantity), "plan_quantity": q12(s.plan_quantity),
        "actual_unit_price": price(s.actual_cost, s.actual_quantity),
        "plan_unit_price": price(s.plan_cost, s.plan_quantity),
        "group_volume_ratio": q12(s.group_ratio),
        "volume_cost": s.volume_cost, "mix_cost": s.mix_cost,
        **{e: q24(s.effects[e]) for e in EFFECTS},
        "total_variance": q24(s.total_variance),
        "actual_list_cost": q24(s.actual_list_cost) if s.actual_list_cost is not None else None,
        "reference_discount_rate": q12(s.ref_discount_rate),
        "actual_discount_rate": q12(s.actual_discount_rate),
    }
