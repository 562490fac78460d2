"""Points -> one value per resource, metric and UTC day."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, InvalidOperation

from .model import MetricRow
from .names import MLCOST_METRICS


def to_decimal(text: str) -> Decimal | None:
    try:
        d = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def daily_rows(points: list[tuple[str, str, str, str, str]]) -> list[MetricRow]:
    """`points` are (day, provider, resource_id, metric, value text). A day with one point keeps
    the text exactly; several points are summed (counts) or averaged (percentages)."""
    groups: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
    for day, provider, resource_id, metric, value in points:
        groups[(day, provider, resource_id, metric)].append(value)
    rows = []
    for (day, provider, resource_id, metric), values in sorted(groups.items()):
        unit, how = MLCOST_METRICS[metric]
        if len(values) == 1:
            value = values[0]
        else:
            total = sum((Decimal(v) for v in values), Decimal(0))
            value = str(total if how == "sum" else total / len(values))
        rows.append(MetricRow(day, provider, resource_id, metric, value, unit))
    return rows
