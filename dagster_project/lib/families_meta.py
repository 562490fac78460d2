"""Which source families are billing data. The rest (plan and telemetry) feed the
whole-history marts but never define billing periods, partitions or source freshness.

Derived from the family specs (lib/ingest/families.py, `is_billing`), the one owner; dbt's
macro `non_billing_families()` is checked against it by tests/test_single_owner.py."""

from __future__ import annotations

from dagster_project.lib.ingest.families import FAMILIES

NON_BILLING_FAMILIES: tuple[str, ...] = tuple(
    sorted(name for name, spec in FAMILIES.items() if not spec.is_billing))
