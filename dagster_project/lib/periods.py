"""Which billing periods to rebuild. One decision for the delivery sensor and `mlcost run`:
the periods whose deliveries changed, grouped into contiguous ranges, minus (reported) the
ones outside the partitions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dagster_project.lib.families_meta import NON_BILLING_FAMILIES

PERIOD_FORMAT = "%Y-%m"


@dataclass(frozen=True)
class Rebuild:
    ranges: list[tuple[str, str]] = field(default_factory=list)  # (first, last), inclusive
    outside: list[str] = field(default_factory=list)  # changed, but not a partition

    @property
    def span(self) -> tuple[str, str] | None:
        """One range covering every range (what one `mlcost run` builds)."""
        return (self.ranges[0][0], self.ranges[-1][1]) if self.ranges else None


def contiguous_ranges(keys: Iterable[str]) -> list[tuple[str, str]]:
    """Month keys grouped into runs of consecutive months: [(first, last), ...], sorted."""
    months = sorted({date(int(k[:4]), int(k[5:7]), 1) for k in keys})
    ranges: list[tuple[date, date]] = []
    for m in months:
        if ranges:
            lo, hi = ranges[-1]
            nxt = date(hi.year + hi.month // 12, hi.month % 12 + 1, 1)
            if m == nxt:
                ranges[-1] = (lo, m)
                continue
        ranges.append((m, m))
    return [(lo.strftime(PERIOD_FORMAT), hi.strftime(PERIOD_FORMAT)) for lo, hi in ranges]


def periods_to_rebuild(changed: Iterable[str], known: Sequence[str]) -> Rebuild:
    """The billing periods to rebuild after deliveries changed `changed` (YYYY-MM keys), given
    the partition keys `known`."""
    keys = set(changed)
    known_set = set(known)
    return Rebuild(ranges=contiguous_ranges(keys & known_set), outside=sorted(keys - known_set))


def loaded_period_range(warehouse: Path) -> tuple[str, str] | None:
    """First and last billing period with a current delivery of billing data (budgets and
    utilization metrics are plan/telemetry, not billing periods); None before any load."""
    from dagster_project.lib.warehouse import connection, table_exists

    if not Path(warehouse).exists():
        return None
    with connection(warehouse, read_only=True) as con:
        if not table_exists(con, "meta", "deliveries"):
            return None
        lo, hi = con.execute(
            "select min(billing_period), max(billing_period) from meta.deliveries "
            "where is_current and not list_contains(?::varchar[], family)",
            [list(NON_BILLING_FAMILIES)]).fetchone()
    return (lo.strftime(PERIOD_FORMAT), hi.strftime(PERIOD_FORMAT)) if lo else None
