"""One what-if answer and its two renderings: a readable text block and one JSON object.

JSON: the result keys (e.g. ``current_monthly_cost``) sit at the top level beside
``question``, ``from_month``, ``to_month``; the sections ``inputs``, ``assumptions``,
``formula``, ``sensitivity`` and ``notes`` follow. Money is a JSON number rounded to cents (the
Decimal is rounded half-up to 0.01 and written without binary noise); ratios carry 4 decimals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass
class Answer:
    question: str
    header: dict  # model/provider, from_month, to_month, months, currency
    results: dict  # the answer's own keys, at the top level of the JSON object
    inputs: dict = field(default_factory=dict)  # what was read from the mart
    assumptions: dict = field(default_factory=dict)  # value and where it came from
    formula: list[str] = field(default_factory=list)
    sensitivity: dict = field(default_factory=dict)  # {"assumption": name, "cases": [...]}
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"question": self.question, **self.header, **self.results,
                "inputs": self.inputs, "assumptions": self.assumptions,
                "formula": self.formula, "sensitivity": self.sensitivity,
                "notes": self.notes}

    def to_json(self) -> str:
        return dumps(self.as_dict())

    def render(self) -> str:
        h = self.header
        scope = "  ".join(f"{k} {h[k]}" for k in ("model", "provider") if h.get(k))
        lines = [f"what-if: {self.question}  {scope}".rstrip(),
                 f"  inputs from {h['from_month']} to {h['to_month']} ({h['months']} months), "
                 f"currency {h.get('currency') or 'n/a'}", "", "inputs (from the mart)"]
        lines += _pairs(self.inputs)
        if self.assumptions:
            lines += ["", "assumptions"] + _pairs(self.assumptions)
        lines += ["", "formula"] + [f"  {f}" for f in self.formula]
        lines += ["", "result"] + _pairs(self.results)
        if self.sensitivity:
            lines += ["", f"sensitivity to {self.sensitivity['assumption']}"]
            for case in self.sensitivity["cases"]:
                lines.append("  " + ", ".join(f"{k} {_text(v)}" for k, v in case.items()))
        if self.notes:
            lines += ["", "notes"] + [f"  - {n}" for n in self.notes]
        return "\n".join(lines)


def _pairs(d: dict) -> list[str]:
    width = max((len(k) for k in d), default=0)
    out = []
    for k, v in d.items():
        if isinstance(v, list):
            out.append(f"  {k}:")
            out += [f"    {_text(item)}" for item in v]
        else:
            out.append(f"  {k:<{width}}  {_text(v)}")
    return out


def _text(v) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k} {_text(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return " / ".join(_text(x) for x in v)
    if isinstance(v, Decimal):
        return f"{v:,}"
    if v is None:
        return "n/a"
    return str(v)


def _plain(v):
    """JSON-ready copy: Decimal -> number (exact decimal text), dates -> ISO text."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, Decimal):
        return _Num(v)
    if isinstance(v, date):
        return v.isoformat()
    return v


class _Num:
    """A number whose JSON text is the Decimal's own (no binary float noise)."""

    def __init__(self, d: Decimal):
        self.text = format(d, "f")


def dumps(obj) -> str:
    return _encode(_plain(obj))


def _encode(obj) -> str:
    if isinstance(obj, _Num):
        return obj.text
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {_encode(v)}"
                               for k, v in obj.items()) + "}"
    if isinstance(obj, list):
        return "[" + ", ".join(_encode(v) for v in obj) + "]"
    return json.dumps(obj, allow_nan=False)
