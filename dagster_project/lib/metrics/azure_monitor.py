"""Azure Monitor Metrics REST responses (``GET {resourceUri}/providers/Microsoft.Insights/
metrics``, also what ``az monitor metrics list`` prints): ``{"timespan", "interval", "value":
[{"id": "<resource id>/providers/Microsoft.Insights/metrics/<name>", "name": {"value"},
"unit", "timeseries": [{"metadatavalues", "data": [{"timeStamp", "total" | "average" | ...}]}],
"errorCode"}], "namespace", "resourceregion"}``.

The resource is the ``id`` before ``/providers/Microsoft.Insights/metrics/``, lower-cased as
the Azure cost export writes ResourceId. Counts are read from the ``total`` aggregation,
percentages from ``average``; a data point with no aggregation at all is an interval in which
nothing was emitted: 0 for a count, unknown (left out) for a percentage. ``timeStamp`` is
the start of the interval; points are summarised per UTC day like every other format.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..ingest.errors import BadInputError
from .daily import daily_rows
from .model import MetricRow
from .names import AZURE_MONITOR_NAMES, MLCOST_METRICS, mlcost_name
from .points import number_text, utc_time

_SUFFIX = "/providers/microsoft.insights/metrics/"
_AGGREGATIONS = ("total", "average", "count", "minimum", "maximum")
# An ISO 8601 duration as Azure writes time grains (PT1M ... PT12H, P1D, also PT24H).
_GRAIN = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def _grain_seconds(grain) -> int | None:
    m = _GRAIN.fullmatch(str(grain).upper())
    if not m or not any(m.groups()):
        return None  # e.g. "FULL": the whole timespan as one point
    d, h, mi, se = (int(x or 0) for x in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + se


def _resource_id(path: Path, where: str, item: dict, name: str) -> str:
    mid = item.get("id")
    cut = mid.lower().rfind(_SUFFIX) if isinstance(mid, str) else -1
    if cut <= 0:
        raise BadInputError(path, f"{where} ({name}) has id {mid!r}; Azure Monitor writes "
                                  "'<resource id>/providers/Microsoft.Insights/metrics/<name>', "
                                  "and mlcost needs the resource id to know what it measures.")
    return mid[:cut].lower()


def parse(path: Path, doc) -> list[MetricRow]:
    items = doc.get("value") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise BadInputError(path, 'has no "value" array: not an Azure Monitor metrics '
                                  "response.")
    grain = doc.get("interval")
    seconds = _grain_seconds(grain) if grain is not None else 0
    if seconds is None or seconds > 86400 or (seconds and 86400 % seconds):
        raise BadInputError(path, f"has interval {grain!r}; query with an interval that divides "
                                  "one day (P1D, PT1H, ...) so each point falls in one UTC day.")
    points = []
    for n, item in enumerate(items):
        where = f"value[{n}]"
        if not isinstance(item, dict):
            raise BadInputError(path, f"{where} is not an object.")
        label = item.get("name")
        real = label.get("value") if isinstance(label, dict) else label
        metric = mlcost_name(str(real), AZURE_MONITOR_NAMES) if real else None
        if metric is None:
            raise BadInputError(path, f"{where} measures {real!r}, a metric mlcost does not "
                                      f"read (known: {', '.join(sorted(AZURE_MONITOR_NAMES))}).")
        if item.get("errorCode") not in (None, "Success"):
            raise BadInputError(path, f"{where} ({real}) has errorCode {item.get('errorCode')!r}"
                                      f" ({item.get('errorMessage') or 'no message'}): Azure "
                                      "Monitor returned no usable data for it; query it again.")
        rid = _resource_id(path, where, item, real)
        want = "total" if MLCOST_METRICS[metric][1] == "sum" else "average"
        for s, series in enumerate(item.get("timeseries") or []):
            data = series.get("data") if isinstance(series, dict) else None
            if not isinstance(data, list):
                raise BadInputError(path, f"{where}.timeseries[{s}] has no \"data\" array.")
            for i, point in enumerate(data):
                at = f"{where}.timeseries[{s}].data[{i}]"
                if not isinstance(point, dict):
                    raise BadInputError(path, f"{at} is {point!r}, not an object.")
                stamp = utc_time(point.get("timeStamp"))
                if stamp is None:
                    raise BadInputError(path, f"{at} has timeStamp {point.get('timeStamp')!r}, "
                                              "not an ISO 8601 timestamp.")
                if point.get(want) is None:
                    if any(point.get(a) is not None for a in _AGGREGATIONS):
                        raise BadInputError(path, f"{at} ({real}) has no {want!r}; mlcost reads "
                                                  f"{real} with aggregation="
                                                  f"{want.capitalize()} (docs/metrics.md).")
                    if want == "average":
                        continue  # nothing measured: unknown, not 0
                    # A listed interval where nothing was emitted counted nothing (metrics
                    # with fillGapWithZero say 0 outright): the idle-endpoint detector's 0.
                    point = {**point, want: 0}
                text = number_text(point[want])
                if text is None:
                    raise BadInputError(path, f"{at}.{want} is {point[want]!r}, not a number.")
                points.append((stamp.date().isoformat(), "azure", rid, metric, text))
    return daily_rows(points)
