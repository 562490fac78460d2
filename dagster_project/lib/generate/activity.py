"""Daily activity (billable quantity and telemetry) of each resource group, per month.

Random draws are seeded per (seed, group, month), so a month's data does not depend on
how many other months or groups are generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .fmt import stable_int
from .groups import HOURS_PER_DAY, Group
from .window import Month

DAYS_PER_MONTH = 30.44
_SEASON_Q4 = {10: 1.15, 11: 1.35, 12: 1.5, 1: 1.1}


@dataclass
class Activity:
    sel: np.ndarray  # member indices with any activity window overlap in the month
    days: np.ndarray  # window day indices of the month
    qty: np.ndarray  # (len(sel), len(days)) primary billable quantity
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # reads / writes / egress
    metrics: dict[str, np.ndarray] = field(default_factory=dict)


def _rng(seed: int, g: Group, m: Month) -> np.random.Generator:
    return np.random.default_rng([seed, stable_int(g.key) % 2**32, m.index + 1000])


def _growth(p: dict, d: np.ndarray, last_day: int) -> np.ndarray:
    """Monthly compound growth, 1.0 on the window's last day and smaller before it: the
    recent level does not depend on how many months are generated, and fleets sized for it
    never saturate, so the Q4 peak shows in every year of a long window."""
    return (1.0 + p.get("growth", 0.0)) ** ((d - last_day) / DAYS_PER_MONTH)


def _season(p: dict, moy: np.ndarray) -> np.ndarray:
    if p.get("season") != "q4":
        return np.ones(len(moy))
    return np.array([_SEASON_Q4.get(int(x), 1.0) for x in moy])


def _idle_mask(g: Group, sel: np.ndarray, d: np.ndarray, kind: str) -> np.ndarray:
    mask = np.zeros((len(sel), len(d)), dtype=bool)
    pos = {int(m): i for i, m in enumerate(sel)}
    for member, waste, s, e in g.idle:
        if waste == kind and member in pos:
            mask[pos[member]] |= (d >= s) & (d <= e)
    return mask


def compute(g: Group, m: Month, seed: int, weekday: np.ndarray, moy: np.ndarray,
            cache: dict[str, Activity]) -> Activity:
    """Activity of group ``g`` during month ``m`` (weekday/moy are per window day)."""
    d = np.arange(m.day0, m.day0 + m.n_days)
    rng = _rng(seed, g, m)
    p = g.p
    n_d = len(d)
    wd = weekday[d] if m.index >= 0 else (np.arange(n_d) + 1) % 7
    mo = moy[d] if m.index >= 0 else np.full(n_d, m.start.month)
    sel = np.nonzero((g.start <= d[-1]) & (g.end >= d[0]))[0]
    act = (g.start[sel, None] <= d[None, :]) & (g.end[sel, None] >= d[None, :])
    k = len(sel)
    G = _growth(p, d, len(weekday) - 1)[None, :]
    S = _season(p, mo)[None, :]
    extra: dict[str, np.ndarray] = {}

    if g.shape == "mirror":
        par = cache[p["parent"]]
        qty = np.zeros((k, n_d))
        pos = {int(x): i for i, x in enumerate(par.sel)}
        size = np.asarray(p["size"], dtype=np.float64)
        for i, member in enumerate(sel):
            j = pos.get(int(member))
            if j is not None:
                qty[i] = size[member] * (par.qty[j] > 0)
        return Activity(sel, d, qty)

    if g.shape == "always":
        if p.get("fixed"):
            inst = np.full((k, n_d), float(p["base"]))
        else:
            noise = 1.0 + p.get("noise", 0.0) * rng.standard_normal((k, n_d))
            inst = np.maximum(1.0, np.rint(p["base"] * G * S * noise))
        for s, e, val in p.get("dips", ()):
            inst = np.where(((d >= s) & (d <= e))[None, :], val, inst)
        for s, e in p.get("pauses", ()):
            act &= ~((d >= s) & (d <= e))[None, :]
        if "down_p" in p:
            act &= rng.random((k, n_d)) > p["down_p"]
        qty = HOURS_PER_DAY * inst * act
    elif g.shape == "fleet":
        n = g.n
        frac = p.get("frac", 1.0)
        n_act = np.clip(np.rint(n * frac * G[0] * S[0]), 1, n)
        act &= sel[:, None] < n_act[None, :]
        if "down_p" in p:
            act &= rng.random((k, n_d)) > p["down_p"]
        if p.get("hours") == "full":
            hours = np.full((k, n_d), HOURS_PER_DAY)
        else:
            mu, sd = p["hours"]
            hours = mu + sd * rng.standard_normal((k, n_d))
            if frac >= 1.0:
                hours = hours * G * S
            hours = np.clip(hours, 0.5, p.get("max_hours", HOURS_PER_DAY))
        qty = np.round(hours, 4) * p.get("nodes", 1) * act
    elif g.shape == "interactive":
        lo, hi = p["hours"]
        hours = rng.uniform(lo, hi, (k, n_d))
        weekend = wd >= 5
        wk_hours = np.where(rng.random((k, n_d)) < 0.15, rng.uniform(1, 4, (k, n_d)), 0.0)
        hours = np.where(weekend[None, :], wk_hours, hours)
        idle = _idle_mask(g, sel, d, "idle_notebook")
        hours = np.where(idle | p.get("always_on", False), HOURS_PER_DAY, hours)
        qty = np.round(hours, 4) * act
    elif g.shape == "jobs":
        js, du = g.job_start[sel], g.job_dur[sel]
        ds = d * HOURS_PER_DAY
        ov = np.minimum(js[:, None] + du[:, None], ds[None, :] + HOURS_PER_DAY) - \
            np.maximum(js[:, None], ds[None, :])
        ov = np.clip(ov, 0.0, HOURS_PER_DAY)
        inst = p.get("instances", 1)
        if "growth" in p or "season" in p:
            inst = np.maximum(1.0, np.rint(inst * G * S))
        qty = np.round(ov, 4) * inst
    elif g.shape == "storage":
        size = np.asarray(p["size"], dtype=np.float64)[sel]
        qty = np.round(size[:, None] * G, 3) * act
        for name in ("reads", "writes", "egress"):
            base = p.get(name, 0.0)
            if base:
                v = base * G * S * rng.lognormal(0.0, 0.25, (k, n_d))
                extra[name] = (np.rint(v) if name != "egress" and base >= 100
                               else np.round(v, 4)) * act
            else:
                extra[name] = np.zeros((k, n_d))
    else:  # pragma: no cover - catalog bug
        raise ValueError(f"unknown shape {g.shape}")

    out = Activity(sel, d, qty, extra)
    _metrics(out, g, rng, G * S, d)
    return out


def _metrics(a: Activity, g: Group, rng: np.random.Generator, gs: np.ndarray,
             d: np.ndarray) -> None:
    on = a.qty > 0
    k, n_d = a.qty.shape
    p = g.p
    idle_ep = _idle_mask(g, a.sel, d, "idle_endpoint")
    idle_nb = _idle_mask(g, a.sel, d, "idle_notebook")
    idle_any = idle_ep | idle_nb
    for name in g.metrics:
        if name == "invocations":
            v = np.rint(p["m_inv"] * gs * rng.lognormal(0.0, 0.15, (k, n_d)))
            v[idle_ep] = 0.0
        elif name == "gpu_utilization_pct":
            lo, hi = p.get("m_gpu") or (20, 60)
            v = np.round(rng.uniform(lo, hi, (k, n_d)), 2)
            v[idle_any] = np.round(rng.uniform(0.0, 2.0, int(idle_any.sum())), 2)
        elif name == "cpu_utilization_pct":
            lo, hi = p.get("m_cpu") or (10, 45)
            v = np.round(rng.uniform(lo, hi, (k, n_d)), 2)
            v[idle_any] = np.round(rng.uniform(0.5, 3.0, int(idle_any.sum())), 2)
        elif name == "active_minutes":
            hours = np.minimum(a.qty, HOURS_PER_DAY)
            v = np.rint(hours * 60.0 * rng.uniform(0.35, 0.8, (k, n_d)))
            if g.shape == "always":  # always-on compute instance: a few hours of real use
                v = np.rint(rng.uniform(30, 240, (k, n_d)))
            v[idle_nb] = rng.integers(0, 4, int(idle_nb.sum()))
        elif name == "read_requests":
            v = np.rint(a.extra.get("reads", np.zeros((k, n_d))))
        elif name == "batch_records":
            # Records scored follow the billed instance-hours (m_rec per instance-hour, a few
            # per cent of throughput noise), so cost per 1,000 records is stable. Listed last
            # in g.metrics, so these draws never shift the other metrics' random numbers.
            v = np.rint(a.qty * p["m_rec"] * rng.lognormal(0.0, 0.05, (k, n_d)))
        else:  # pragma: no cover
            raise ValueError(name)
        a.metrics[name] = np.where(on, v, np.nan)


def line_usage(a: Activity, line: dict, n_days: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row, member, day, amount) of one catalogue line's daily usage, days without usage
    dropped; `row` indexes the group's members in `a.qty`.

    A line reads the group's running quantity or one of its extra series (`src`), scaled by
    `per`; monthly lines are spread evenly over the month's days.
    """
    q = a.qty if line.get("src", "qty") == "qty" else a.extra[line["src"]]
    amount = q * line["per"]
    if line.get("monthly"):
        amount = amount / n_days
    i, j = np.nonzero(amount > 0)
    return i, a.sel[i], a.days[j], amount[i, j]
