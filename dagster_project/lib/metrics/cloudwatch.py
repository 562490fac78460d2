"""CloudWatch ``GetMetricData`` responses (JSON, as ``aws cloudwatch get-metric-data`` writes
them): ``{"MetricDataResults": [{"Id", "Label", "Timestamps", "Values", "StatusCode"}],
"Messages": [...]}``.

The response names neither the resource nor the metric except through ``Label``, which the
request sets: mlcost reads a Label of the form ``<resource id> <MetricName>`` (the resource's
FOCUS ResourceId, e.g. the endpoint ARN, then the CloudWatch metric name; a request can build
it with the dynamic label ``${PROP('MetricName')}``). Points are summarised per UTC day.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

from ..ingest.errors import BadInputError
from .daily import daily_rows
from .model import MetricRow
from .names import CLOUDWATCH_NAMES, mlcost_name

# A result with these codes holds data; InternalError / Forbidden results must be fetched again.
_USABLE = ("Complete", "PartialData", None)


def _day(ts) -> str | None:
    if isinstance(ts, bool):
        return None
    if isinstance(ts, (int, float)):
        return datetime.fromtimestamp(ts, tz=UTC).date().isoformat()
    if isinstance(ts, str):
        try:
            parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC)
        return parsed.date().isoformat()
    return None


def _text(value) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value) if isinstance(value, int) else repr(value)


def parse(path: Path, doc) -> list[MetricRow]:
    results = doc.get("MetricDataResults") if isinstance(doc, dict) else None
    if not isinstance(results, list):
        raise BadInputError(path, 'has no "MetricDataResults" array: not a CloudWatch '
                                  "GetMetricData response.")
    points = []
    for n, result in enumerate(results, start=1):
        where = f"MetricDataResults[{n - 1}]"
        if not isinstance(result, dict):
            raise BadInputError(path, f"{where} is not an object.")
        status = result.get("StatusCode")
        if status not in _USABLE:
            raise BadInputError(path, f"{where} (Id {result.get('Id')!r}) has StatusCode "
                                      f"{status!r}: CloudWatch returned no usable data for it; "
                                      "request it again before landing the file.")
        label = result.get("Label")
        parts = label.rsplit(" ", 1) if isinstance(label, str) else []
        if len(parts) != 2 or not parts[0].strip():
            raise BadInputError(path, f"{where} has Label {label!r}; mlcost needs the Label "
                                      "'<resource id> <MetricName>' (set it in the request, "
                                      "see docs/metrics.md) to know which resource it measures.")
        resource_id, cw_name = parts[0].strip(), parts[1]
        metric = mlcost_name(cw_name, CLOUDWATCH_NAMES)
        if metric is None:
            raise BadInputError(path, f"{where} measures {cw_name!r}, a metric mlcost does not "
                                      f"read (known: {', '.join(sorted(CLOUDWATCH_NAMES))}).")
        stamps, values = result.get("Timestamps") or [], result.get("Values") or []
        if not isinstance(stamps, list) or not isinstance(values, list) \
                or len(stamps) != len(values):
            raise BadInputError(path, f"{where} has {len(stamps)} Timestamps and "
                                      f"{len(values)} Values; CloudWatch pairs them one to one.")
        for i, (ts, value) in enumerate(zip(stamps, values, strict=True)):
            day, text = _day(ts), _text(value)
            if day is None:
                raise BadInputError(path, f"{where}.Timestamps[{i}] is {ts!r}, not an ISO 8601 "
                                          "timestamp or a Unix time.")
            if text is None:
                raise BadInputError(path, f"{where}.Values[{i}] is {value!r}, not a number.")
            points.append((day, "aws", resource_id, metric, text))
    return daily_rows(points)
