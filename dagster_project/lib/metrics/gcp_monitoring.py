"""Google Cloud Monitoring ``projects.timeSeries.list`` responses (JSON, API v3):
``{"timeSeries": [{"metric": {"type", "labels"}, "resource": {"type", "labels"}, "metricKind",
"valueType", "points": [{"interval": {"startTime", "endTime"}, "value": {"int64Value" |
"doubleValue"}}]}], "nextPageToken", "unit", "executionErrors"}``.

The monitored resource names what was measured; mlcost builds from its labels the
ResourceId the billing export gives the same resource, e.g. a Vertex AI endpoint
(``aiplatform.googleapis.com/Endpoint``: resource_container, location, endpoint_id) ->
``//aiplatform.googleapis.com/projects/<project number>/locations/<location>/endpoints/<id>``.
A point belongs to the UTC day its interval starts (an aligned daily point runs from midnight
to midnight); points are summarised per day like every other format. Counts have no point
for an interval with nothing counted, so a count series' missing days inside the response's
span of days are 0. (A GAUGE point, start = end, takes its end's day: a gauge aligned per day
is stamped at the period's end, so map one only with that in mind.)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..ingest.errors import BadInputError
from .daily import daily_rows
from .model import MetricRow
from .names import GCP_MONITORING_NAMES, MLCOST_METRICS, mlcost_name
from .points import number_text, utc_time

_UNKNOWN = ("NaN", "Infinity", "-Infinity")  # proto3 JSON doubles that are not numbers


def _vertex_endpoint(labels: dict) -> str | None:
    project = str(labels.get("resource_container") or "").removeprefix("projects/")
    location, endpoint = labels.get("location"), labels.get("endpoint_id")
    if not (project.isdigit() and location and endpoint):
        return None
    return (f"//aiplatform.googleapis.com/projects/{project}/locations/{location}/"
            f"endpoints/{endpoint}")


# Monitored resource type -> (billing ResourceId from its labels, labels it needs).
RESOURCE_IDS = {
    "aiplatform.googleapis.com/Endpoint": (
        _vertex_endpoint, "resource_container (the project number), location and endpoint_id"),
}


def _resource_id(path: Path, where: str, series: dict) -> str:
    resource = series.get("resource")
    kind = resource.get("type") if isinstance(resource, dict) else None
    labels = resource.get("labels") if isinstance(resource, dict) else None
    if kind not in RESOURCE_IDS:
        raise BadInputError(path, f"{where} measures monitored resource type {kind!r}; mlcost "
                                  "knows the billing id of "
                                  f"{', '.join(sorted(RESOURCE_IDS))} only (docs/metrics.md).")
    build, needs = RESOURCE_IDS[kind]
    rid = build(labels) if isinstance(labels, dict) else None
    if rid is None:
        raise BadInputError(path, f"{where} ({kind}) has resource labels {labels!r}; mlcost "
                                  f"needs {needs} to name the resource as the billing export "
                                  "does. A project ID in place of the number cannot be matched "
                                  "to the bill.")
    return rid


def _day(path: Path, where: str, point) -> str:
    interval = point.get("interval") if isinstance(point, dict) else None
    end = utc_time(interval.get("endTime")) if isinstance(interval, dict) else None
    if end is None:
        raise BadInputError(path, f"{where}.interval.endTime is missing or not an RFC 3339 "
                                  "timestamp.")
    start = utc_time(interval.get("startTime")) if interval.get("startTime") else end
    if start is None:
        raise BadInputError(path, f"{where}.interval.startTime {interval.get('startTime')!r} "
                                  "is not an RFC 3339 timestamp.")
    if (end - start).total_seconds() > 86400:
        raise BadInputError(path, f"{where} covers {start.isoformat()} to {end.isoformat()}, "
                                  "more than one day; query with an alignmentPeriod of at "
                                  "most 86400s so each point falls in one UTC day.")
    return start.date().isoformat()


def _value(path: Path, where: str, point) -> str | None:
    value = point.get("value") if isinstance(point, dict) else None
    raw = None
    if isinstance(value, dict):
        raw = value.get("int64Value", value.get("doubleValue"))
    if raw in _UNKNOWN:
        return None  # unknown, not zero: left out like Prometheus NaN
    text = number_text(raw)
    if text is None:
        raise BadInputError(path, f"{where}.value is {value!r}; mlcost reads int64Value or "
                                  "doubleValue points.")
    return text


def parse(path: Path, doc) -> list[MetricRow]:
    series_list = doc.get("timeSeries", []) if isinstance(doc, dict) else None
    if not isinstance(series_list, list):
        raise BadInputError(path, 'has no "timeSeries" array: not a Cloud Monitoring '
                                  "timeSeries.list response.")
    errors = doc.get("executionErrors")
    if errors:
        first = errors[0] if isinstance(errors, list) else errors
        reason = (first.get("message") if isinstance(first, dict) else None) or repr(first)
        raise BadInputError(path, f"reports executionErrors (first: {reason}): its "
                                  "time series may be incomplete; query again before landing "
                                  "the file.")
    points: list[tuple[str, str, str, str, str]] = []
    counted: set[tuple[str, str]] = set()  # count series (resource, metric)
    days: set[str] = set()  # every day any point of the response falls on
    seen: set[tuple[str, str, str]] = set()  # (resource, metric, day) with a point, NaN too
    for n, series in enumerate(series_list):
        where = f"timeSeries[{n}]"
        metric = series.get("metric") if isinstance(series, dict) else None
        mtype = metric.get("type") if isinstance(metric, dict) else None
        name = mlcost_name(str(mtype), GCP_MONITORING_NAMES) if mtype else None
        if name is None:
            raise BadInputError(path, f"{where} measures {mtype!r}, a metric mlcost does not "
                                      f"read (known: {', '.join(sorted(GCP_MONITORING_NAMES))}).")
        if series.get("metricKind") == "CUMULATIVE" and MLCOST_METRICS[name][1] == "sum":
            raise BadInputError(path, f"{where} ({mtype}) is CUMULATIVE: its points are running "
                                      "totals, not counts per interval; query it with an "
                                      "aligner (ALIGN_DELTA or ALIGN_SUM, alignmentPeriod "
                                      "86400s).")
        rid = _resource_id(path, where, series)
        pts = series.get("points")
        if not isinstance(pts, list):
            raise BadInputError(path, f"{where} has no \"points\" array.")
        if MLCOST_METRICS[name][1] == "sum":
            counted.add((rid, name))
        for i, point in enumerate(pts):
            at = f"{where}.points[{i}]"
            day, text = _day(path, at, point), _value(path, at, point)
            days.add(day)
            seen.add((rid, name, day))
            if text is not None:
                points.append((day, "gcp", rid, name, text))
    return daily_rows(points + _zero_days(seen, counted, days))


def _zero_days(seen: set, counted: set, days: set) -> list:
    """Cloud Monitoring writes no point for an interval in which nothing was counted: inside
    the span of days the response covers, a day a count series has no point on is 0 (what the
    idle-endpoint detector needs), not unknown. Days outside the span stay unknown."""
    if not days:
        return []
    first, last = dt.date.fromisoformat(min(days)), dt.date.fromisoformat(max(days))
    span = [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    return [(day, "gcp", rid, name, "0") for rid, name in sorted(counted) for day in span
            if (rid, name, day) not in seen]
