"""Geometry for the report's inline SVG charts.

Only numbers and pre-formatted label strings leave this module; the SVG markup itself is in
the Jinja template, so every label goes through autoescaping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .formatting import money, month_label


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    return [round(k * step, 10) for k in range(first, max(last, first + 1) + 1)]


def _short_money(v: float, currency: str | None) -> str:
    a = abs(v)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return money(Decimal(repr(round(v / div, 1))), currency, 1) + suffix
    return money(Decimal(repr(round(v))), currency, 0)


@dataclass
class LineSeries:
    name: str
    kind: str  # actual | forecast | outlook
    points: dict[date, float]
    lo: dict[date, float] = field(default_factory=dict)
    hi: dict[date, float] = field(default_factory=dict)


def line_chart(
    series: list[LineSeries],
    *,
    currency: str | None,
    highlight: tuple[date, date] | None = None,
    width: int = 820,
    height: int = 300,
) -> dict[str, Any] | None:
    """Monthly lines with optional bands; ``highlight`` shades a month range (the quarter)."""
    months = sorted({m for s in series for m in (*s.points, *s.lo, *s.hi)})
    if not months:
        return None
    left, right, top, bottom = 78, 16, 16, 46
    pw, ph = width - left - right, height - top - bottom
    values = [v for s in series for d in (s.points, s.lo, s.hi) for v in d.values()]
    lo_v = min(0.0, min(values))
    hi_v = max(values) * 1.05 if max(values) > 0 else 1.0
    ticks = nice_ticks(lo_v, hi_v)
    y0, y1 = ticks[0], ticks[-1]
    step = pw / max(len(months) - 1, 1)

    def x(m: date) -> float:
        return round(left + months.index(m) * step, 1)

    def y(v: float) -> float:
        return round(top + ph - (v - y0) / (y1 - y0) * ph, 1)

    out_series = []
    for s in series:
        pts = " ".join(f"{x(m)},{y(v)}" for m, v in sorted(s.points.items()))
        band = ""
        if s.lo and s.hi:
            upper = [f"{x(m)},{y(v)}" for m, v in sorted(s.hi.items())]
            lower = [f"{x(m)},{y(v)}" for m, v in sorted(s.lo.items(), reverse=True)]
            band = " ".join(upper + lower)
        dots = [{"x": x(m), "y": y(v)} for m, v in sorted(s.points.items())]
        out_series.append({"name": s.name, "kind": s.kind, "points": pts, "band": band,
                           "dots": dots})
    label_every = max(1, math.ceil(len(months) / 12))
    shade = None
    if highlight:
        inq = [m for m in months if highlight[0] <= m <= highlight[1]]
        if inq:
            shade = {"x": round(x(inq[0]) - step / 2, 1),
                     "w": round(x(inq[-1]) - x(inq[0]) + step, 1),
                     "y": top, "h": ph}
    return {
        "width": width, "height": height, "left": left, "top": top, "plot_w": pw,
        "plot_h": ph, "bottom": top + ph,
        "yticks": [{"y": y(t), "label": _short_money(t, currency)} for t in ticks],
        "xticks": [{"x": x(m), "label": month_label(m)}
                   for i, m in enumerate(months) if i % label_every == 0],
        "series": out_series,
        "shade": shade,
    }


def waterfall_chart(
    steps: list[tuple[str, float]],
    *,
    start: tuple[str, float],
    end: tuple[str, float],
    currency: str | None,
    width: int = 820,
    height: int = 300,
) -> dict[str, Any]:
    """Bars: ``start`` total, each step floating from the running total, ``end`` total."""
    left, right, top, bottom = 78, 16, 24, 46
    pw, ph = width - left - right, height - top - bottom
    running = start[1]
    levels = [0.0, running]
    bars_raw = [(start[0], 0.0, start[1], "total")]
    for label, v in steps:
        bars_raw.append((label, running, running + v, "up" if v > 0 else "down"))
        running += v
        levels.append(running)
    bars_raw.append((end[0], 0.0, end[1], "total"))
    levels.append(end[1])
    lo, hi = min(levels[1:]), max(levels[1:])
    # A bridge whose steps are small next to the totals is unreadable from zero: start the
    # axis below the lowest running total instead (the template says so).
    base = 0.0
    if lo > 0:
        span = hi - lo if hi > lo else hi * 0.05
        base = max(0.0, lo - 1.5 * span)
    ticks = nice_ticks(min(base, lo), hi + 0.08 * (hi - min(base, lo)) if hi > 0 else 1.0)
    y0, y1 = ticks[0], ticks[-1]
    bars_raw = [(label, max(a, y0), max(b, y0), kind) if kind == "total" else (label, a, b, kind)
                for label, a, b, kind in bars_raw]

    def y(v: float) -> float:
        return round(top + ph - (v - y0) / (y1 - y0) * ph, 1)

    slot = pw / len(bars_raw)
    bars = []
    for i, (label, a, b, kind) in enumerate(bars_raw):
        value = b if kind == "total" else b - a
        text = money(Decimal(repr(round(value, 2))), currency, 0, signed=kind != "total")
        bars.append({
            "x": round(left + i * slot + slot * 0.15, 1),
            "w": round(slot * 0.7, 1),
            "y": min(y(a), y(b)),
            "h": max(round(abs(y(a) - y(b)), 1), 1.0),
            "kind": kind,
            "label": label,
            "value": text,
            "cx": round(left + i * slot + slot / 2, 1),
            "ty": round(min(y(a), y(b)) - 6, 1),
        })
    return {
        "width": width, "height": height, "left": left, "top": top, "plot_w": pw,
        "bottom": top + ph, "truncated": y0 > 0, "axis_from": _short_money(y0, currency),
        "yticks": [{"y": y(t), "label": _short_money(t, currency)} for t in ticks],
        "bars": bars,
    }
