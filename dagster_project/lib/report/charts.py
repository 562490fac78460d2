"""The review pack's charts: Altair specs rendered to SVG offline by vl-convert.

Each function takes plain rows (floats only here: money stays Decimal everywhere else) and
returns the SVG text. vl-convert runs Vega in-process with no network access
(``allowed_base_urls=[]``); the data is inlined in the spec, and Vega's SVG renderer escapes
every text it draws, so labels taken from the warehouse cannot inject markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import altair as alt
import vl_convert as vlc

WIDTH = 760
HEIGHT = 260
_SYMBOLS = {"USD": "$", "EUR": "\u20ac", "GBP": "\u00a3"}
COLORS = {"actual": "#1f2933", "forecast": "#2563eb", "base": "#2563eb", "best": "#15803d",
          "worst": "#c2410c", "baseline": "#7c3aed"}


def money_axis(currency: str | None, title: str = "") -> alt.Axis:
    """Compact money ticks ($12.3k, $4.37; the money rule in formatting.py), never clipped:
    no label length limit, and Vega's `pad` autosize grows the view around the labels."""
    symbol = _SYMBOLS.get((currency or "USD").upper())
    # d3 SI format: 12300 -> 12.3k, 4.37 -> 4.37; the currency symbol (or code) in front
    prefix = f"'{symbol}'" if symbol else f"'{(currency or '').upper()} '"
    return alt.Axis(title=title or None, labelLimit=0, grid=True,
                    labelExpr=f"{prefix} + format(datum.value, ',.3~s')")


def month_axis() -> alt.Axis:
    return alt.Axis(title=None, format="%b %Y", labelAngle=-40, labelLimit=0,
                    labelOverlap=True, tickCount={"interval": "month", "step": 1})


def to_svg(chart: alt.TopLevelMixin) -> str:
    spec = chart.properties(width=WIDTH, height=HEIGHT).configure(
        autosize={"type": "pad", "contains": "padding"}, padding=12, background="white",
        font="Helvetica, Arial, sans-serif",
    ).configure_legend(orient="bottom", labelLimit=0, titleLimit=0).to_dict()
    svg = vlc.vegalite_to_svg(spec, allowed_base_urls=[])
    # the document sets its own size: let the SVG scale with the page (print, narrow screens)
    return svg.replace('class="marks" width=', 'class="marks" style="max-width:100%;height:auto"'
                       ' width=', 1)


def _iso(d: date) -> str:
    return d.isoformat()


def _f(v: Any) -> float | None:
    return None if v is None else float(v)


def actual_vs_forecast(actual: Sequence[tuple[date, Any]],
                       forecast: Sequence[tuple[date, Any, Any, Any]],
                       currency: str | None, forecast_name: str) -> str:
    """Monthly actual (a line that stops at the last month with data) against the locked
    forecast (point line and its 80% band)."""
    line_rows = [{"month": _iso(m), "cost": _f(v), "series": "Actual"} for m, v in actual]
    line_rows += [{"month": _iso(m), "cost": _f(p), "series": forecast_name}
                  for m, p, _lo, _hi in forecast]
    band_rows = [{"month": _iso(m), "lo": _f(lo), "hi": _f(hi),
                  "series": f"{forecast_name}, 80% band"}
                 for m, _p, lo, hi in forecast if lo is not None and hi is not None]
    names = ["Actual", forecast_name]
    color = alt.Color("series:N", title=None, scale=alt.Scale(
        domain=names, range=[COLORS["actual"], COLORS["forecast"]]))
    x = alt.X("month:T", axis=month_axis())
    lines = alt.Chart(alt.Data(values=line_rows)).mark_line(point=True).encode(
        x=x, y=alt.Y("cost:Q", axis=money_axis(currency), scale=alt.Scale(zero=False)),
        color=color)
    layers: list[alt.Chart] = []
    if band_rows:
        layers.append(alt.Chart(alt.Data(values=band_rows)).mark_area(
            opacity=0.18, color=COLORS["forecast"]).encode(x=x, y="lo:Q", y2="hi:Q"))
    return to_svg(alt.layer(*layers, lines))


def waterfall(steps: Sequence[tuple[str, Any]], start: tuple[str, Any], end: tuple[str, Any],
              currency: str | None) -> str:
    """Forecast -> each effect floating from the running total -> actual."""
    data = []
    running = float(start[1] or 0)
    data.append({"label": start[0], "lo": 0.0, "hi": running, "kind": "total", "order": 0})
    for i, (label, value) in enumerate(steps, start=1):
        v = float(value or 0)
        data.append({"label": label, "lo": running, "hi": running + v,
                     "kind": "increase" if v > 0 else "decrease", "order": i})
        running += v
    data.append({"label": end[0], "lo": 0.0, "hi": float(end[1] or 0), "kind": "total",
                 "order": len(data)})
    kinds = ["total", "increase", "decrease"]
    # Effects small next to the totals are unreadable from zero: the axis starts below the
    # lowest running total (the totals' bars are cut at the axis; the numbers table is exact).
    levels = [v for d in data for v in (d["lo"], d["hi"]) if d["kind"] != "total"]
    levels += [d["hi"] for d in data if d["kind"] == "total"]
    low, high = min(levels), max(levels)
    base = max(0.0, low - 1.5 * (high - low)) if low > 0 else min(0.0, low)
    chart = alt.Chart(alt.Data(values=data)).mark_bar(size=40, clip=True).encode(
        x=alt.X("label:N", sort=[d["label"] for d in data],
                axis=alt.Axis(title=None, labelAngle=0, labelLimit=0)),
        y=alt.Y("lo:Q", axis=money_axis(currency),
                scale=alt.Scale(domain=[base, high + 0.05 * (high - base)], nice=False)),
        y2="hi:Q",
        color=alt.Color("kind:N", title=None, scale=alt.Scale(
            domain=kinds, range=["#64748b", COLORS["worst"], COLORS["best"]])),
    )
    return to_svg(chart)


def accuracy_by_horizon(points: Sequence[dict[str, Any]]) -> str:
    """WAPE (%) per horizon (months ahead), one line per level."""
    data = [{"horizon": int(p["horizon"]), "wape": _f(p["wape"]), "level": str(p["level"])}
            for p in points if p["wape"] is not None]
    chart = alt.Chart(alt.Data(values=data)).mark_line(point=True).encode(
        x=alt.X("horizon:O", axis=alt.Axis(title="months ahead", labelAngle=0)),
        y=alt.Y("wape:Q", axis=alt.Axis(title="WAPE (%)", labelLimit=0)),
        color=alt.Color("level:N", title="level"),
    )
    return to_svg(chart)


def fan_chart(rows: Sequence[dict[str, Any]], currency: str | None) -> str:
    """Outlook: actuals, then base/best/worst lines with the base case's 80% and 95% bands."""
    lines = [{"month": _iso(r["month"]), "cost": _f(r["point"]), "scenario": r["scenario"]}
             for r in rows if r["point"] is not None]
    base = "base" if any(r["scenario"] == "base" for r in rows) else "baseline"
    bands = [{"month": _iso(r["month"]), "lo80": _f(r["lo_80"]), "hi80": _f(r["hi_80"]),
              "lo95": _f(r["lo_95"]), "hi95": _f(r["hi_95"])}
             for r in rows if r["scenario"] == base and r["lo_80"] is not None]
    names = [n for n in ("actual", "base", "baseline", "best", "worst")
             if any(r["scenario"] == n for r in rows)]
    x = alt.X("month:T", axis=month_axis())
    layers: list[alt.Chart] = []
    if bands:
        band = alt.Chart(alt.Data(values=bands))
        layers.append(band.mark_area(opacity=0.10, color=COLORS["base"]).encode(
            x=x, y="lo95:Q", y2="hi95:Q"))
        layers.append(band.mark_area(opacity=0.20, color=COLORS["base"]).encode(
            x=x, y="lo80:Q", y2="hi80:Q"))
    layers.append(alt.Chart(alt.Data(values=lines)).mark_line().encode(
        x=x, y=alt.Y("cost:Q", axis=money_axis(currency), scale=alt.Scale(zero=False)),
        color=alt.Color("scenario:N", title=None, scale=alt.Scale(
            domain=names, range=[COLORS[n] for n in names])),
        strokeDash=alt.condition(alt.datum.scenario == "actual", alt.value([1, 0]),
                                 alt.value([5, 3]))))
    return to_svg(alt.layer(*layers))


def trend(rows: Sequence[dict[str, Any]], series: str, value: str, currency: str | None,
          x_field: str = "quarter") -> str:
    """A small multi-series trend by quarter (unit costs)."""
    data = [{"x": str(r[x_field]), "y": _f(r[value]), "series": str(r[series])}
            for r in rows if r[value] is not None]
    chart = alt.Chart(alt.Data(values=data)).mark_line(point=True).encode(
        x=alt.X("x:O", axis=alt.Axis(title=None, labelAngle=0, labelLimit=0)),
        y=alt.Y("y:Q", axis=money_axis(currency), scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", title=None),
    )
    return to_svg(chart)
