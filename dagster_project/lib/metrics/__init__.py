"""One metrics reader for utilisation and request metrics in real formats (docs/metrics.md).

Besides mlcost's own CSV (read by the ingest CSV path), it reads:

* CloudWatch ``GetMetricData`` responses (JSON, as the AWS CLI / SDKs return them):
  :mod:`.cloudwatch`;
* Prometheus HTTP API ``query_range`` responses (JSON, resultType ``matrix``), e.g. of
  DCGM-exporter GPU metrics: :mod:`.prometheus`;
* Google Cloud Monitoring ``projects.timeSeries.list`` responses (JSON), e.g. Vertex AI
  endpoint prediction counts: :mod:`.gcp_monitoring`;
* Azure Monitor Metrics REST responses (JSON), e.g. Azure ML online endpoint requests:
  :mod:`.azure_monitor`.

All give :class:`MetricRow` rows, one per resource, metric and UTC day, in mlcost's metric
names (:mod:`.names`); ingest lands them in ``raw.utilization_metrics`` like the CSV, with the
file's lineage. Unit economics reads invocation and batch record counts from the staged rows.
"""

from __future__ import annotations

from .model import METRIC_FORMATS, MetricRow, read_metrics, sniff_format

__all__ = ["METRIC_FORMATS", "MetricRow", "read_metrics", "sniff_format"]
