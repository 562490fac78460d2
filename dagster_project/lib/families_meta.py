"""Which source families are billing data. The rest (plan and telemetry) feed the
whole-history marts but never define billing periods, partitions or source freshness."""

from __future__ import annotations

NON_BILLING_FAMILIES: tuple[str, ...] = ("budgets", "utilization_metrics")


def is_billing_family(family: str) -> bool:
    return family not in NON_BILLING_FAMILIES
