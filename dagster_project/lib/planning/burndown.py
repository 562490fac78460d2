"""Budget burn-down per team per quarter (pure, exact Decimal arithmetic).

Projection of a quarter = the actuals of its closed months (up to the forecast snapshot's
as-of month) + the snapshot's team-level forecast for its remaining months. The 80% band of
the quarter adds the remaining months' ``lo_80`` / ``hi_80``: that is the band when the
monthly errors move together (a level that is off stays off, the usual case for a cost
series) and wider than it otherwise, so ``at_risk`` errs on the side of warning
(docs/budgets.md).
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from dagster_project.lib.calendar import parse_quarter, quarter_of

# Enough digits for sums of DECIMAL(38,24) amounts (the default context has 28).
CTX = decimal.Context(prec=80)

ON_TRACK, AT_RISK, OVER_BUDGET, NO_BUDGET = "on_track", "at_risk", "over_budget", "no_budget"
CLOSED, IN_PROGRESS, FUTURE = "closed", "in_progress", "future"


@dataclass(frozen=True)
class MonthForecast:
    point: Decimal
    lo_80: Decimal | None
    hi_80: Decimal | None


@dataclass
class Inputs:
    """What the burn-down is computed from (lib/planning/store.py reads it)."""

    as_of: date  # last closed month the snapshot forecasts from
    snapshot_id: str
    scenario: str
    first_actual: date | None  # first month with actuals
    actuals: dict[tuple[str, date], Decimal]  # (team, month) -> effective cost
    currencies: dict[str, set[str]]  # team -> billing currencies of its actuals
    forecast: dict[tuple[str, date], MonthForecast]  # (team, month) -> team-level row
    forecast_months: set[date]  # months the snapshot covers
    budgets: dict[tuple[str, str], tuple[Decimal, str]]  # (quarter, team) -> amount, currency


@dataclass
class BurndownRow:
    quarter: str
    quarter_start: date
    team: str
    quarter_state: str  # closed | in_progress | future
    months_actual: int
    months_forecast: int
    spent_to_date: Decimal
    forecast_remaining: Decimal
    projected_spend: Decimal
    projected_lo_80: Decimal | None
    projected_hi_80: Decimal | None
    budget_amount: Decimal | None
    currency: str | None
    headroom: Decimal | None
    projected_pct_of_budget: Decimal | None
    status: str
    notes: list[str] = field(default_factory=list)


def status_of(point: Decimal, hi_80: Decimal | None, budget: Decimal | None) -> str:
    """``over_budget`` when the point projection exceeds the budget, ``at_risk`` when only the
    band's upper bound does, else ``on_track``; ``no_budget`` without a budget."""
    if budget is None:
        return NO_BUDGET
    if point > budget:
        return OVER_BUDGET
    if hi_80 is not None and hi_80 > budget:
        return AT_RISK
    return ON_TRACK


def quarters_to_report(inp: Inputs) -> list[str]:
    """Every quarter with a budget, plus the quarter of the first forecast month, that the
    data can answer: closed quarters inside the actuals, open ones inside the forecast."""
    candidates = {q for q, _ in inp.budgets}
    if inp.forecast_months:
        candidates.add(quarter_of(min(inp.forecast_months)))
    out = []
    for q in sorted(candidates):
        months = parse_quarter(q)
        closed = [m for m in months if m <= inp.as_of]
        open_ = [m for m in months if m > inp.as_of]
        if closed and (inp.first_actual is None or months[0] < inp.first_actual):
            continue  # before the history starts: the spend is not known
        if any(m not in inp.forecast_months for m in open_):
            continue  # beyond the forecast horizon
        out.append(q)
    return out


def compute(inp: Inputs) -> list[BurndownRow]:
    """One row per (quarter, team) of ``quarters_to_report``; teams are those with a budget,
    actuals or a forecast in the quarter. Rows ordered by quarter, team."""
    rows = []
    with decimal.localcontext(CTX):
        for q in quarters_to_report(inp):
            months = parse_quarter(q)
            teams = {t for (qq, t) in inp.budgets if qq == q}
            teams |= {t for (t, m) in inp.actuals if m in months and m <= inp.as_of}
            teams |= {t for (t, m) in inp.forecast if m in months and m > inp.as_of}
            for team in sorted(teams):
                rows.append(_row(inp, q, months, team))
    return rows


def _row(inp: Inputs, q: str, months: tuple[date, ...], team: str) -> BurndownRow:
    closed = [m for m in months if m <= inp.as_of]
    open_ = [m for m in months if m > inp.as_of]
    notes: list[str] = []
    spent = sum((inp.actuals.get((team, m), Decimal(0)) for m in closed), Decimal(0))
    point = lo = hi = Decimal(0)
    band = True
    missing = []
    for m in open_:
        f = inp.forecast.get((team, m))
        if f is None:  # no history for the team: nothing forecast, counted as zero
            missing.append(f"{m:%Y-%m}")
            continue
        point += f.point
        if f.lo_80 is None or f.hi_80 is None:
            band = False
        else:
            lo += f.lo_80
            hi += f.hi_80
    if missing:
        notes.append(f"no forecast for {', '.join(missing)} (no spend history): counted as 0")
    if not band:
        notes.append("a forecast month has no 80% band: the quarter has none")
    projected = spent + point
    lo_80 = spent + lo if band else None
    hi_80 = spent + hi if band else None
    budget, currency = inp.budgets.get((q, team), (None, None))
    if budget is None:
        notes.append(f"no budget for {q}")
    spent_in = sorted(inp.currencies.get(team, set()))
    if currency and spent_in and spent_in != [currency]:
        notes.append(f"budget in {currency}, spend in {', '.join(spent_in)}: compared as numbers")
    state = CLOSED if not open_ else (IN_PROGRESS if closed else FUTURE)
    headroom = budget - projected if budget is not None else None
    pct = (projected * 100 / budget).quantize(Decimal("0.01"), decimal.ROUND_HALF_EVEN) \
        if budget else None
    return BurndownRow(
        quarter=q, quarter_start=months[0], team=team, quarter_state=state,
        months_actual=len(closed), months_forecast=len(open_), spent_to_date=spent,
        forecast_remaining=point, projected_spend=projected, projected_lo_80=lo_80,
        projected_hi_80=hi_80, budget_amount=budget, currency=currency or (
            spent_in[0] if len(spent_in) == 1 else None),
        headroom=headroom, projected_pct_of_budget=pct,
        status=status_of(projected, hi_80, budget), notes=notes)


@dataclass(frozen=True)
class Verdict:
    """The asset check's outcome over the open quarters."""

    passed: bool
    severity: str  # "ERROR" | "WARN"
    description: str
    offenders: list[tuple[str, str, str]]  # (quarter, team, status)


def judge(rows: list[tuple[str, str, str, str]]) -> Verdict:
    """``rows``: (quarter, team, quarter_state, status). Closed quarters are history and are
    not judged. ERROR when a point projection exceeds its budget, WARN when only a band's
    upper bound does, else passed."""
    open_rows = [(q, t, s) for q, t, state, s in rows if state != CLOSED]
    over = [r for r in open_rows if r[2] == OVER_BUDGET]
    risk = [r for r in open_rows if r[2] == AT_RISK]
    # Not judged is not passed: say why instead.
    if not open_rows:
        return Verdict(False, "WARN", "nothing judged: planning.budget_burndown has no open "
                       "quarter (no forecast snapshot yet, see forecast.forecast_runs)", [])
    if all(r[2] == NO_BUDGET for r in open_rows):
        quarters = ", ".join(sorted({r[0] for r in open_rows}))
        return Verdict(False, "WARN", f"nothing judged: no budget for the open quarter(s) "
                       f"{quarters} (land a budgets file, docs/budgets.md)", [])

    def names(rs):
        return ", ".join(f"{t} {q}" for q, t, _ in rs)

    if over:
        text = f"projected over budget: {names(over)}"
        if risk:
            text += f"; at risk (80% band above budget): {names(risk)}"
        return Verdict(False, "ERROR", text, over + risk)
    if risk:
        return Verdict(False, "WARN", f"at risk (80% band above budget): {names(risk)}", risk)
    judged = sum(1 for r in open_rows if r[2] != NO_BUDGET)
    return Verdict(True, "WARN", f"{judged} team-quarter(s) within budget", [])
