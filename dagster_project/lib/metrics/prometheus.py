"""Prometheus HTTP API ``query_range`` responses (JSON): ``{"status": "success", "data":
{"resultType": "matrix", "result": [{"metric": {labels}, "values": [[unix_time, "value"],
...]}]}}`` - e.g. DCGM-exporter's ``DCGM_FI_DEV_GPU_UTIL`` queried with ``step=1d``.

The series labels must say which cloud resource a series measures: ``provider`` (aws, gcp,
azure, oci) and ``resource_id`` (the FOCUS ResourceId), added by relabelling or
``label_replace`` (docs/metrics.md). The metric is ``__name__``, or a ``mlcost_metric`` label
when the query drops the name (``avg_over_time(...)``). NaN points are unknown, not zero, and
are left out. Points are summarised per UTC day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ..ingest.errors import BadInputError
from .daily import daily_rows, to_decimal
from .model import MetricRow
from .names import PROMETHEUS_NAMES, mlcost_name

PROVIDERS = ("aws", "gcp", "azure", "oci")


def parse(path: Path, doc) -> list[MetricRow]:
    if not isinstance(doc, dict) or doc.get("status") != "success":
        error = doc.get("error") if isinstance(doc, dict) else None
        raise BadInputError(path, "is a Prometheus response whose status is not \"success\""
                                  + (f" ({error})" if error else "")
                                  + "; land the result of a successful query.")
    data = doc.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        kind = data.get("resultType") if isinstance(data, dict) else None
        raise BadInputError(path, f"has resultType {kind!r}; mlcost reads query_range "
                                  "responses (resultType \"matrix\").")
    points = []
    for n, series in enumerate(data.get("result") or []):
        where = f"data.result[{n}]"
        labels = series.get("metric") if isinstance(series, dict) else None
        if not isinstance(labels, dict):
            raise BadInputError(path, f"{where} has no \"metric\" labels object.")
        provider = str(labels.get("provider", "")).lower()
        resource_id = labels.get("resource_id")
        if provider not in PROVIDERS or not resource_id:
            raise BadInputError(path, f"{where} ({_show(labels)}) lacks the provider "
                                      f"({'/'.join(PROVIDERS)}) or resource_id label that says "
                                      "which cloud resource it measures (docs/metrics.md).")
        name = labels.get("mlcost_metric") or labels.get("__name__")
        metric = mlcost_name(str(name), PROMETHEUS_NAMES) if name else None
        if metric is None:
            raise BadInputError(path, f"{where} measures {name!r}, a metric mlcost does not "
                                      f"read (known: {', '.join(sorted(PROMETHEUS_NAMES))}).")
        values = series.get("values")
        if not isinstance(values, list):
            raise BadInputError(path, f"{where} has no \"values\" array.")
        for i, pair in enumerate(values):
            if not (isinstance(pair, list) and len(pair) == 2
                    and isinstance(pair[0], (int, float)) and isinstance(pair[1], str)):
                raise BadInputError(path, f"{where}.values[{i}] is {pair!r}, not "
                                          "[unix_time, \"value\"].")
            if pair[1] in ("NaN", "+Inf", "-Inf"):
                continue
            if to_decimal(pair[1]) is None:
                raise BadInputError(path, f"{where}.values[{i}] has value {pair[1]!r}, not a "
                                          "number.")
            day = datetime.fromtimestamp(pair[0], tz=UTC).date().isoformat()
            points.append((day, provider, str(resource_id), metric, pair[1]))
    return daily_rows(points)


def _show(labels: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in list(labels.items())[:4])
