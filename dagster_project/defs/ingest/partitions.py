"""Billing periods: how exports are delivered (one month per provider/billing account), so the
unit of re-delivery, of incremental rebuilds and of backfills."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import dagster as dg

from dagster_project import settings

PERIOD_FORMAT = "%Y-%m"

# end_offset=1: the current month is a partition too (exports of the open month arrive daily).
billing_periods = dg.MonthlyPartitionsDefinition(
    start_date=settings.first_billing_period(), fmt=PERIOD_FORMAT, end_offset=1,
    timezone="UTC")


def _month_start(value: date | datetime | str) -> date:
    if isinstance(value, str):
        value = datetime.strptime(value[:7], PERIOD_FORMAT)
    if isinstance(value, datetime):
        value = value.date()
    if value.day != 1:
        raise ValueError(f"{value}: a billing-period bound must be the first day of a month")
    return value


def dbt_window_vars(start: date | datetime | str, end: date | datetime | str) -> dict[str, str]:
    """dbt `--vars` for the billing periods in [start, end): first days of months, end
    exclusive, as the incremental models and the reconciliation expect."""
    lo, hi = _month_start(start), _month_start(end)
    if hi <= lo:
        raise ValueError(f"empty billing-period window [{lo}, {hi})")
    return {"billing_period_start": lo.isoformat(), "billing_period_end": hi.isoformat()}


def period_key(value: date | datetime | str) -> str:
    """The partition key (YYYY-MM) of a billing period."""
    return _month_start(value if not isinstance(value, str) else value[:7]).strftime(
        PERIOD_FORMAT)


def period_keys(periods: Iterable[date | datetime | str]) -> list[str]:
    return sorted({period_key(p) for p in periods})


def run_window(tags: dict[str, str]) -> dict[str, str] | None:
    """The billing-period window (`dbt_window_vars`) of a run over a partition or a range,
    from its tags; None for a run over every period (or over another kind of partition)."""
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
        PARTITION_NAME_TAG,
    )

    first = tags.get(ASSET_PARTITION_RANGE_START_TAG) or tags.get(PARTITION_NAME_TAG)
    last = tags.get(ASSET_PARTITION_RANGE_END_TAG) or tags.get(PARTITION_NAME_TAG)
    if not first or not last:
        return None
    try:
        lo, hi = _month_start(first), _month_start(last)
    except ValueError:  # not a billing period (e.g. a review quarter, 2026-Q3)
        return None
    return dbt_window_vars(lo, date(hi.year + hi.month // 12, hi.month % 12 + 1, 1))
