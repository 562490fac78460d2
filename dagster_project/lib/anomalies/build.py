"""Anomalies of the warehouse's daily costs: the series (team x service and account x service,
from marts.fct_cost_allocations), the events of ``detect``, their exact money and the resources
that drove them. ``persistence`` writes the result to monitoring.cost_anomalies."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import statistics
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from .detect import Event, Params, detect

# Which rows make a day's cost: effective (amortized) cost of charges whose period is one day.
# Monthly charges (fees, seats, monthly credits), taxes and adjustments are billed once a month:
# month-end effects, not daily spend. Unused commitment is the commitment's idle share (idle
# waste reports it), not usage: it falls whenever usage rises.
DAILY_ROWS = """charge_period_end <= charge_period_start + interval 1 day
    and charge_category not in ('Tax', 'Adjustment')
    and commitment_discount_status is distinct from 'Unused'"""
# The two kinds of series: (kind, key columns).
SERIES = (
    ("team_service", ("provider", "billing_currency", "team", "service_name")),
    ("account_service", ("provider", "billing_currency", "billing_account_id", "sub_account_id",
                         "service_name")),
)
TOP_RESOURCES = 3
SOURCE = "marts.fct_cost_allocations"


@dataclass
class Anomaly:
    anomaly_id: str
    series_kind: str
    provider: str
    billing_currency: str
    billing_account_id: str | None
    sub_account_id: str | None
    team: str | None
    service_name: str
    start_date: dt.date
    end_date: dt.date
    days: int
    direction: str
    expected_cost: Decimal
    actual_cost: Decimal
    cost_impact: Decimal
    score: float
    peak_date: dt.date
    is_open: bool
    top_resource_id: str | None
    top_resource_impact: Decimal | None
    top_resources: str  # JSON list of {resource_id, sub_account_id, team, impact}


def _daily(con, keys: tuple[str, ...]):
    cols = ", ".join(keys)
    return con.execute(
        f"""select {cols}, charge_date, sum(effective_cost)
            from marts.fct_cost_allocations
            where {DAILY_ROWS} and charge_date is not null
            group by all order by all""").fetchall()  # noqa: S608 (constant identifiers)


def find_anomalies(con, p: Params | None = None) -> list[Anomaly]:
    """Every anomaly event in the warehouse's history (both series kinds)."""
    p = p or Params()
    sql = f"select min(charge_date), max(charge_date) from {SOURCE} where {DAILY_ROWS}"  # noqa: S608
    bounds = con.execute(sql).fetchone()
    if bounds is None or bounds[0] is None:
        return []
    d0, d1 = bounds
    n = (d1 - d0).days + 1
    out: list[Anomaly] = []
    for kind, keys in SERIES:
        series: dict[tuple, list[Decimal]] = {}
        for row in _daily(con, keys):
            key, day, cost = tuple(row[:-2]), row[-2], row[-1]
            values = series.setdefault(key, [Decimal(0)] * n)
            values[(day - d0).days] = cost
        for key, values in series.items():
            x = np.array([float(v) for v in values])
            nz = np.nonzero(x)[0]
            if len(nz) == 0:
                continue
            for ev in detect(x, p, first=int(nz[0])):
                out.append(_anomaly(con, kind, dict(zip(keys, key, strict=True)), values, d0,
                                    ev, p))
    return out


def _expected(values: list[Decimal], t: int, weeks: int) -> Decimal:
    # Exact median of the same weekday over the previous weeks (the detector's float baseline).
    return statistics.median(values[t - 7 * k] for k in range(1, weeks + 1))


def _anomaly(con, kind: str, key: dict, values: list[Decimal], d0: dt.date, ev: Event,
             p: Params) -> Anomaly:
    days = range(ev.start, ev.end + 1)
    with decimal.localcontext(prec=60):  # exact: 38 digits and a median's half never round
        expected = sum((_expected(values, t, p.weeks) for t in days), Decimal(0))
        actual = sum((values[t] for t in days), Decimal(0))
        impact = actual - expected
    start, end = d0 + dt.timedelta(ev.start), d0 + dt.timedelta(ev.end)
    drivers = _drivers(con, kind, key, start, end, p.weeks, ev.direction)
    top = drivers[0] if drivers else None
    team = key.get("team") or (top and top[2])
    sub = key.get("sub_account_id") or (top and top[1])
    billing = key.get("billing_account_id") or (top and top[4])
    ident = "|".join([kind, *(str(key.get(c) or "") for c in
                              ("provider", "billing_currency", "team", "billing_account_id",
                               "sub_account_id", "service_name")), start.isoformat(),
                      ev.direction])
    return Anomaly(
        anomaly_id=hashlib.md5(ident.encode(), usedforsecurity=False).hexdigest(),
        series_kind=kind, provider=key["provider"], billing_currency=key["billing_currency"],
        billing_account_id=billing, sub_account_id=sub, team=team,
        service_name=key["service_name"], start_date=start, end_date=end, days=len(days),
        direction=ev.direction, expected_cost=expected, actual_cost=actual,
        cost_impact=impact, score=round(ev.score, 3),
        peak_date=d0 + dt.timedelta(ev.peak), is_open=ev.is_open,
        top_resource_id=top[0] if top else None, top_resource_impact=top[3] if top else None,
        top_resources=json.dumps([{"resource_id": r, "sub_account_id": s, "team": t,
                                   "impact": f"{i:.2f}"} for r, s, t, i, _ in drivers]))


def _drivers(con, kind: str, key: dict, start: dt.date, end: dt.date, weeks: int,
             direction: str) -> list[tuple]:
    """The resources of the series with the largest change in the event's direction: cost in
    the event's days minus the mean of the same weekdays over the previous ``weeks`` weeks."""
    cols = [c for c in SERIES[0][1] if kind == "team_service"] or list(SERIES[1][1])
    where = " and ".join(f"{c} is not distinct from ?" for c in cols)
    rows = con.execute(
        f"""with base as (
                select resource_id, sub_account_id, team, billing_account_id, charge_date,
                       effective_cost
                from marts.fct_cost_allocations
                where {DAILY_ROWS} and {where}
                  and charge_date between ?::date - {7 * weeks} and ?::date
            ),
            per_resource as (
                select coalesce(resource_id, '(no resource id)') as resource_id,
                       any_value(sub_account_id) as sub_account_id, any_value(team) as team,
                       any_value(billing_account_id) as billing_account_id,
                       coalesce(sum(effective_cost) filter (where charge_date >= ?::date), 0)
                       - coalesce(sum(effective_cost) filter (
                           where charge_date < ?::date
                             and ((charge_date - ?::date) % 7 + 7) % 7 < ?), 0)
                         / {weeks} as impact
                from base group by 1
            )
            select resource_id, sub_account_id, team, coalesce(impact, 0), billing_account_id
            from per_resource
            where coalesce(impact, 0) {'>' if direction == 'spike' else '<'} 0
            order by coalesce(impact, 0) {'desc' if direction == 'spike' else 'asc'},
                     resource_id
            limit {TOP_RESOURCES}""",  # noqa: S608 (identifiers and integers are constants)
        [*(key[c] for c in cols), start, end, start, start, start, (end - start).days + 1]
    ).fetchall()
    return rows
