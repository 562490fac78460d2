"""Number and date formatting for the HTML report (Jinja filters).

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


FILTERS = {
    "money": money,
    "signed_money": signed_money,
    "pct": pct,
    "number": number,
    "month_label": month_label,
    "cell": cell,
}
