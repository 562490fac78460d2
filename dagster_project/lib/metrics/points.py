"""Timestamps and numbers as the JSON metrics APIs write them (Cloud Monitoring, Azure
Monitor): RFC 3339 times in any offset, numbers as JSON numbers or (int64) strings."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

# RFC 3339 allows nanoseconds (Cloud Monitoring writes them); Python reads at most micro.
_FRACTION = re.compile(r"(\.\d{6})\d+")


def utc_time(text) -> datetime | None:
    """An RFC 3339 / ISO 8601 timestamp as an aware UTC datetime, or None. A time without an
    offset is taken as UTC (both APIs document UTC)."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip()).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def number_text(value) -> str | None:
    """A JSON number (or a decimal string, the proto3 JSON form of int64) as decimal text that
    reads back as the same value; None when it is not a finite number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", value.strip()):
        return value.strip()
    return None
