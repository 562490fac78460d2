"""The reader's entry points: which format a JSON document is, and its rows."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from ..ingest.errors import BadInputError

# Source formats this package reads (Detection.source_format values in ingest).
CLOUDWATCH = "cloudwatch_json"
PROMETHEUS = "prometheus_json"
GCP_MONITORING = "gcp_monitoring_json"
AZURE_MONITOR = "azure_monitor_json"
METRIC_FORMATS = (CLOUDWATCH, PROMETHEUS, GCP_MONITORING, AZURE_MONITOR)


@dataclass(frozen=True)
class MetricRow:
    """One resource's metric on one UTC day, the columns of raw.utilization_metrics."""

    metric_date: str  # YYYY-MM-DD
    provider: str
    resource_id: str
    metric_name: str  # mlcost name: gpu_utilization_pct, invocations, active_minutes, ...
    value: str  # decimal text, exactly as delivered when one point makes the day
    unit: str


def sniff_format(head: bytes) -> str | None:
    """The metrics format of a JSON document from its first bytes, or None. Only the top-level
    keys are looked for: GCP billing NDJSON never has them."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return None
    if b'"MetricDataResults"' in head:
        return CLOUDWATCH
    if b'"resultType"' in head and b'"status"' in head:
        return PROMETHEUS
    if b'"timeSeries"' in head or _empty_page(text):  # Cloud Monitoring (Azure: "timeseries")
        return GCP_MONITORING
    if b'"value"' in head and (b'"timeseries"' in head or b'"timespan"' in head):
        return AZURE_MONITOR
    return None


def _empty_page(text: bytes) -> bool:
    """A Cloud Monitoring page without series ({"unit": "1"}, or only a nextPageToken): the
    API leaves the empty timeSeries array out. A bare {} stays unrecognised (ambiguous)."""
    if len(text) > 4096:
        return False
    try:
        doc = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(doc, dict) and bool(doc) and set(doc) <= {
        "unit", "nextPageToken", "executionErrors"}


def read_metrics(path: str | Path, fmt: str | None = None) -> list[MetricRow]:
    """Read a metrics file (CloudWatch GetMetricData, Prometheus query_range, Cloud Monitoring
    timeSeries.list or Azure Monitor metrics JSON) into daily rows. Raises BadInputError
    naming the file and what is wrong."""
    from . import azure_monitor, cloudwatch, gcp_monitoring, prometheus

    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    fmt = fmt or sniff_format(raw[:1 << 16])
    if fmt not in METRIC_FORMATS:
        raise BadInputError(path, "is not a CloudWatch GetMetricData, Prometheus query_range, "
                                  "Cloud Monitoring timeSeries.list or Azure Monitor metrics "
                                  "JSON response.")
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(path, f"is not valid JSON ({exc}); a {fmt} metrics file must be "
                                  "one JSON document.") from None
    parser = {CLOUDWATCH: cloudwatch, PROMETHEUS: prometheus, GCP_MONITORING: gcp_monitoring,
              AZURE_MONITOR: azure_monitor}[fmt]
    rows = parser.parse(path, doc)
    if not rows:  # said here, not as ingest's "header but no data rows", which fits CSV only
        raise BadInputError(path, f"is a metrics response ({fmt}) with no data points (no "
                                  "series, or only points without a value): nothing to load. "
                                  "Query a period with data, or leave the file out.")
    return rows
