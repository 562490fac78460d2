"""Deterministic demo data generator: multi-cloud ML billing exports, utilisation
telemetry, budgets and the ground truth behind them (see docs/demo-data.md)."""

from .core import GenerateSummary, generate
from .window import default_end_month

__all__ = ["GenerateSummary", "default_end_month", "generate"]
