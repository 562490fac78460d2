"""Number and date formatting for the review pack (Jinja filters).

The money rule (docs/review-pack.md, "Numbers"): tables and cards show every amount with two
decimals ($4.37, $1,234,567.89: never rounded to whole units, so a small amount is never "$4");
sentences and chart axes use the compact form: below 1,000 with two decimals ($4.37), from
1,000 one decimal and a k/M/B suffix ($12.3k). Percentages have one decimal.
Filters return plain ``str`` (never ``Markup``) so Jinja's autoescape still applies to them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

MINUS = "\u2212"
DASH = "\u2014"
_SYMBOLS = {"USD": "$", "EUR": "\u20ac", "GBP": "\u00a3", "JPY": "\u00a5", "INR": "\u20b9"}


def _num(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        return Decimal(repr(value))
    return Decimal(value)


def money(value: Any, currency: str | None = "USD", digits: int = 2, signed: bool = False) -> str:
    """``1234567.891`` -> ``$1,234,567.89``; unknown currencies as ``1,234.50 CAD``."""
    v = _num(value)
    if v is None:
        return DASH
    q = Decimal(1).scaleb(-digits)
    v = v.quantize(q)
    sign = ""
    if v < 0:
        sign = MINUS
    elif signed and v > 0:
        sign = "+"
    body = f"{abs(v):,.{digits}f}"
    cur = (currency or "").upper()
    if cur in _SYMBOLS:
        return f"{sign}{_SYMBOLS[cur]}{body}"
    return f"{sign}{body} {cur}".rstrip()


def compact_money(value: Any, currency: str | None = "USD", signed: bool = False) -> str:
    """``12345.6`` -> ``$12.3k``; ``4.374`` -> ``$4.37`` (the compact half of the money rule)."""
    v = _num(value)
    if v is None:
        return DASH
    for div, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(1000), "k")):
        if abs(v) >= div:
            return money(v / div, currency, 1, signed) + suffix
    return money(v, currency, 2, signed)


def signed_money(value: Any, currency: str | None = "USD", digits: int = 2) -> str:
    return money(value, currency, digits, signed=True)


def pct(value: Any, digits: int = 1, signed: bool = True) -> str:
    """A percentage value (``12.345`` -> ``+12.3%``)."""
    v = _num(value)
    if v is None:
        return DASH
    v = v.quantize(Decimal(1).scaleb(-digits))
    sign = MINUS if v < 0 else ("+" if signed and v > 0 else "")
    return f"{sign}{abs(v):,.{digits}f}%"


def number(value: Any, digits: int = 0) -> str:
    v = _num(value)
    if v is None:
        return DASH
    v = v.quantize(Decimal(1).scaleb(-digits))
    return f"{MINUS if v < 0 else ''}{abs(v):,.{digits}f}"


def month_label(value: date | datetime | str | None) -> str:
    if value is None:
        return DASH
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%b %Y")


def cell(value: Any, column: str = "") -> str:
    """Generic table cell: numbers with separators, dates ISO, None as a dash."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return number(value)
    if isinstance(value, Decimal | float):
        text = number(value, 2)
        return f"{text}%" if column.endswith("_pct") else text
    return str(value)


def typed(value: Any, kind: str = "text", currency: str | None = "USD") -> str:
    """A table cell by its column's kind (sections/base.py Column.kind)."""
    if value is None:
        return DASH
    if kind == "money":
        return money(value, currency)
    if kind == "money4":  # unit costs: a cost per prediction is often below a cent
        return money(value, currency, 4)
    if kind == "pct":
        return pct(value)
    if kind == "pct0":
        return pct(value, signed=False)
    if kind == "share":  # a fraction (0.42) shown as a percentage
        return pct(_num(value) * 100)
    if kind in ("int", "num"):
        return number(value, 0 if kind == "int" else 2)
    if kind == "month":
        return month_label(value)
    if kind == "flag":
        return str(value).replace("_", " ")
    return cell(value)


FILTERS = {
    "typed": typed,
    "money": money,
    "signed_money": signed_money,
    "compact_money": compact_money,
    "pct": pct,
    "number": number,
    "month_label": month_label,
    "cell": cell,
}
