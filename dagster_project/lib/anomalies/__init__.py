"""Daily cost anomaly detection (docs/anomalies.md): the detector (``detect``), the series and
events of the warehouse (``build``), the published table (``persistence``) and the scoring
against the demo's injected truth (``truth``)."""

from .detect import Params
from .persistence import RECENT_DAYS, AnomalyResult, recent_anomalies, write_anomalies
from .truth import Score, read_truth, score

__all__ = ["RECENT_DAYS", "AnomalyResult", "Params", "Score", "read_truth", "recent_anomalies",
           "score", "write_anomalies"]
