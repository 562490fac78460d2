"""Forecast input: monthly effective cost per segment from ``marts.fct_costs_monthly``.

The history is read once through Arrow into a polars DataFrame; the cost and quantity
matrices (segments x months) that the models and the reconciliation work on are built from
its columns.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

from dagster_project.lib.calendar import add_months, last_closed_month, month_start, months_between

from .config import LEVEL_KEYS, MIN_HISTORY_MONTHS, SEGMENT_KEYS

if TYPE_CHECKING:  # polars is imported when a forecast runs: importing this package stays cheap
    import polars as pl

SEGMENTS_SQL = """
    SELECT CAST(date_trunc('month', billing_month) AS DATE) AS billing_month,
           team, workload, ml_model, provider, service_name, pricing_unit,
           SUM(effective_cost) AS cost,
           SUM(pricing_quantity) FILTER (WHERE pricing_unit IS NOT NULL) AS qty
    FROM marts.fct_costs_monthly
    WHERE billing_month < ?
    GROUP BY ALL
    ORDER BY ALL
"""


@dataclass
class History:
    """Actuals up to the as-of month, per segment (the finest forecast grain)."""

    months: list[date]
    segments: list[dict[str, Any]]  # segment key dicts, in first-seen order
    cost: np.ndarray  # (n_segments, n_months)
    qty: np.ndarray  # (n_segments, n_months), NaN where no quantity
    fingerprint: str
    currencies: list[str]


def fingerprint(frame: pl.DataFrame) -> str:
    """SHA-256 of the history rows as text: identical inputs give the same snapshot id.

    The text form (ISO dates, decimals at the mart's scale) is the one snapshot ids have
    always been computed from, so existing snapshots keep being reused.
    """
    digest = hashlib.sha256()
    for r in frame.iter_rows():
        digest.update(json.dumps([str(v) if v is not None else None for v in r]).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def load_history(con: duckdb.DuckDBPyConnection, as_of: date) -> History:
    """Segment x month matrices of actuals up to and including ``as_of``."""
    import polars as pl

    end = add_months(as_of, 1)
    frame = con.sql(SEGMENTS_SQL, params=[end]).pl()
    currencies = [
        c for c in con.sql(
            "SELECT DISTINCT billing_currency FROM marts.fct_costs_monthly "
            "WHERE billing_month < ? ORDER BY 1",
            params=[end],
        ).pl()["billing_currency"].to_list() if c
    ]
    digest = fingerprint(frame)
    if frame.is_empty():
        return History([], [], np.zeros((0, 0)), np.zeros((0, 0)), digest, [])
    first = month_start(frame["billing_month"].min())
    n_months = months_between(first, as_of) + 1
    months = [add_months(first, i) for i in range(n_months)]
    seg_frame = frame.select(SEGMENT_KEYS).unique(maintain_order=True).with_row_index("seg")
    cells = frame.join(
        seg_frame, on=list(SEGMENT_KEYS), how="left", nulls_equal=True, maintain_order="left"
    ).select(
        pl.col("seg"),
        ((pl.col("billing_month").dt.year().cast(pl.Int64) - first.year) * 12
         + pl.col("billing_month").dt.month().cast(pl.Int64) - first.month).alias("month"),
        # a NULL sum (no effective cost recorded) counts as zero cost
        pl.col("cost").cast(pl.Float64).fill_null(0.0),
        pl.col("qty").cast(pl.Float64),
    )
    seg = cells["seg"].to_numpy()
    col = cells["month"].to_numpy()
    cost = np.zeros((seg_frame.height, n_months))
    np.add.at(cost, (seg, col), cells["cost"].to_numpy())
    has_qty = cells["qty"].is_not_null().to_numpy()
    qty_sum = np.zeros_like(cost)
    np.add.at(qty_sum, (seg[has_qty], col[has_qty]), cells["qty"].to_numpy()[has_qty])
    seen = np.zeros(cost.shape, dtype=bool)
    seen[seg[has_qty], col[has_qty]] = True
    qty = np.where(seen, qty_sum, np.nan)
    segments = seg_frame.drop("seg").to_dicts()
    return History(months, segments, cost, qty, digest, currencies)


def level_series(hist: History) -> list[tuple[tuple[str, tuple], np.ndarray]]:
    """Monthly cost per series of every forecast level: ((level, key values), series)."""
    out: list[tuple[tuple[str, tuple], np.ndarray]] = []
    for level, keys in LEVEL_KEYS.items():
        index: dict[tuple, int] = {}
        members = [
            index.setdefault(tuple(seg[c] for c in keys), len(index)) for seg in hist.segments
        ]
        sums = np.zeros((len(index), len(hist.months)))
        np.add.at(sums, np.asarray(members, dtype=int), hist.cost)  # in segment order
        out.extend(((level, k), sums[i]) for k, i in index.items())
    return out


def default_as_of(con: duckdb.DuckDBPyConnection) -> tuple[date | None, str | None]:
    """The last closed month with actuals, or (None, reason)."""
    closed = last_closed_month()
    rows = con.execute(
        "SELECT max(billing_month) FROM marts.fct_costs_monthly WHERE billing_month <= ?",
        [closed],
    ).fetchall()
    if rows[0][0] is None:
        return None, f"no actuals in a closed month (up to {closed:%Y-%m})"
    return month_start(rows[0][0]), None


def check_history(con: duckdb.DuckDBPyConnection, as_of: date) -> str | None:
    """Why ``as_of`` cannot be forecast from (open month, no actuals, too short), or None."""
    if as_of > last_closed_month():
        return f"as_of month {as_of:%Y-%m} has not closed yet"
    rows = con.execute(
        "SELECT count(DISTINCT CAST(date_trunc('month', billing_month) AS DATE)), "
        "count(*) FILTER (WHERE CAST(date_trunc('month', billing_month) AS DATE) = ?) "
        "FROM marts.fct_costs_monthly WHERE billing_month < ?",
        [as_of, add_months(as_of, 1)],
    ).fetchall()
    n_months, at_as_of = rows[0]
    if at_as_of == 0:
        return f"no actuals for the as_of month {as_of:%Y-%m}"
    if n_months < MIN_HISTORY_MONTHS:
        return (
            f"history too short: {n_months} month(s) up to {as_of:%Y-%m}, "
            f"need at least {MIN_HISTORY_MONTHS}"
        )
    return None
