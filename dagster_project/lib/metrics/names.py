"""Real metric names -> mlcost metric names, and how a day is summarised.

mlcost's waste detectors read four metrics (docs/waste.md); unit economics reads
``invocations`` (real-time requests) and ``batch_records`` (records scored in batch). A
real metric not listed here is refused by name (docs/metrics.md), so a typo never silently
drops telemetry.
"""

from __future__ import annotations

# mlcost metric -> (unit, how several points of one UTC day combine)
MLCOST_METRICS: dict[str, tuple[str, str]] = {
    "gpu_utilization_pct": ("Percent", "mean"),
    "cpu_utilization_pct": ("Percent", "mean"),
    "invocations": ("Count", "sum"),
    "active_minutes": ("Minutes", "sum"),
    "read_requests": ("Count", "sum"),
    # Records a batch-inference job / batch fleet member scored that day: no provider publishes
    # it as a metric, so it arrives in mlcost's CSV (docs/metrics.md, "Batch record counts").
    "batch_records": ("Count", "sum"),
}

# CloudWatch MetricName (the last word of the result Label) -> mlcost metric.
CLOUDWATCH_NAMES: dict[str, str] = {
    "Invocations": "invocations",  # AWS/SageMaker endpoints
    "GPUUtilization": "gpu_utilization_pct",  # /aws/sagemaker/Endpoints, training jobs
    "nvidia_smi_utilization_gpu": "gpu_utilization_pct",  # CloudWatch agent (CWAgent)
    "CPUUtilization": "cpu_utilization_pct",  # AWS/EC2, SageMaker endpoints
    "GetRequests": "read_requests",  # AWS/S3 request metrics
    "VolumeReadOps": "read_requests",  # AWS/EBS
}

# Prometheus __name__ -> mlcost metric.
PROMETHEUS_NAMES: dict[str, str] = {
    "DCGM_FI_DEV_GPU_UTIL": "gpu_utilization_pct",  # DCGM-exporter, percent 0-100
    "dcgm_gpu_utilization": "gpu_utilization_pct",  # older dcgm-exporter name
}

# Cloud Monitoring metric.type -> mlcost metric.
GCP_MONITORING_NAMES: dict[str, str] = {
    # Vertex AI online prediction requests, per deployed model (summed per endpoint and day).
    "aiplatform.googleapis.com/prediction/online/prediction_count": "invocations",
}

# Azure Monitor metric name (name.value) -> mlcost metric.
AZURE_MONITOR_NAMES: dict[str, str] = {
    # Azure ML managed online endpoints; aggregation Total = requests in the interval.
    "RequestsPerMinute": "invocations",
    "Percentage CPU": "cpu_utilization_pct",  # Microsoft.Compute/virtualMachines, Average
}


def mlcost_name(name: str, table: dict[str, str]) -> str | None:
    """The mlcost metric for a real name; mlcost's own names pass through."""
    if name in MLCOST_METRICS:
        return name
    return table.get(name)
