"""The rows of a snapshot as polars DataFrames: forecast values and backtest metrics.

Values are collected one series at a time as numpy columns (a block of ``horizon`` rows) and
assembled column by column; nothing is built row by row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import LEVEL_KEYS, SEGMENT_KEYS
from .models import ModelMetrics, SeriesForecast
from .snapshots import series_id

if TYPE_CHECKING:
    import polars as pl

_BOUNDS = ("lo_80", "hi_80", "lo_95", "hi_95")
_FLOATS = ("point", *_BOUNDS, "base_point", "pricing_quantity")


def exact_floats(values: np.ndarray) -> pl.Series:
    """Floats rounded to 12 decimals, NaN/inf as NULL, ready for the DECIMAL casts.

    Python's ``round`` is correctly rounded (numpy's multiplies by 1e12 and is not), and the
    stored decimals must not move by a unit in the last place, so it is applied per value.
    """
    import polars as pl

    return pl.Series(
        [round(v, 12) if math.isfinite(v) else None for v in values.tolist()], dtype=pl.Float64
    )


@dataclass
class _Block:
    scenario: str
    level: str
    key: dict[str, Any]
    method: str | None
    columns: dict[str, np.ndarray]
    history_class: str | None = None


class ValueFrame:
    """Collects the ``forecast_values`` rows of a snapshot, one series block at a time."""

    def __init__(self, months: list[date]) -> None:
        self.months = months
        self.blocks: list[_Block] = []

    def add(
        self,
        scenario: str,
        level: str,
        key: dict[str, Any],
        method: str | None,
        points: np.ndarray,
        *,
        base: SeriesForecast | None = None,
        qty: np.ndarray | None = None,
        shift: np.ndarray | None = None,
        scale: np.ndarray | None = None,
    ) -> None:
        """One series: ``points`` per month; bands scaled from the model's ``base`` forecast
        (to the reconciled point), then -- in a scenario -- scaled by the ``scale`` of its
        multipliers and moved by the ``shift`` of its added cost; plan quantities."""
        h = len(self.months)
        point = np.asarray(points, dtype=float)
        empty = np.full(h, np.nan)
        cols = {name: empty for name in _FLOATS}
        if base is not None:
            b = np.asarray(base.mean, dtype=float)
            nonzero = b != 0
            ratio = np.divide(point, b, out=np.ones(h), where=nonzero)
            move = np.asarray(shift, dtype=float) if shift is not None else 0.0
            times = np.asarray(scale, dtype=float) if scale is not None else 1.0
            for name in _BOUNDS:
                bound = np.asarray(getattr(base, name), dtype=float)
                cols[name] = np.where(nonzero, bound * ratio, point) * times + move
            point = point * times + move
            cols["base_point"] = b
        cols["point"] = point
        if qty is not None:
            cols["pricing_quantity"] = np.asarray(qty, dtype=float)
        history_class = getattr(base, "history_class", None) if base is not None else None
        self.blocks.append(_Block(scenario, level, key, method, cols, history_class))

    def add_level(
        self,
        scenario: str,
        fc: dict[tuple[str, tuple], SeriesForecast],
        reconciled: dict[tuple[str, tuple], np.ndarray],
        shifts: dict[tuple[str, tuple], np.ndarray] | None = None,
        scales: dict[tuple[str, tuple], np.ndarray] | None = None,
    ) -> None:
        """Every forecast level series: reconciled point, the model's bands, a scenario's
        scale and shift."""
        for (level, keyvals), f in fc.items():
            key = dict(zip(LEVEL_KEYS[level], keyvals, strict=True))
            shift = shifts[(level, keyvals)] if shifts is not None else None
            scale = scales[(level, keyvals)] if scales is not None else None
            self.add(scenario, level, key, f.model, reconciled[(level, keyvals)], base=f,
                     shift=shift, scale=scale)

    def points_by_series(self, scenarios: tuple[str, ...]) -> dict[tuple, dict[str, Any]]:
        """(level, series_id) -> {scenario: points} for the given scenarios."""
        out: dict[tuple, dict[str, Any]] = {}
        for b in self.blocks:
            if b.scenario in scenarios:
                out.setdefault((b.level, series_id(b.level, b.key)), {})[b.scenario] = \
                    b.columns["point"]
        return out

    def frame(self) -> pl.DataFrame:
        """All rows: block by block, month by month."""
        import polars as pl

        h = len(self.months)
        series = pl.DataFrame(
            {
                "scenario": [b.scenario for b in self.blocks],
                "level": [b.level for b in self.blocks],
                "series_id": [series_id(b.level, b.key) for b in self.blocks],
                **{c: [b.key.get(c) for b in self.blocks] for c in SEGMENT_KEYS},
                "method": [b.method for b in self.blocks],
                "history_class": [b.history_class for b in self.blocks],
            },
            schema={c: pl.String for c in ("scenario", "level", "series_id", *SEGMENT_KEYS,
                                           "method", "history_class")},
        )
        steps = pl.DataFrame(
            {"month": self.months, "step": list(range(1, h + 1))},
            schema={"month": pl.Date, "step": pl.Int32},
        )
        out = series.join(steps, how="cross", maintain_order="left_right")
        floats = {
            name: exact_floats(
                np.concatenate([b.columns[name] for b in self.blocks])
                if self.blocks else np.zeros(0)
            )
            for name in _FLOATS
        }
        return out.with_columns(**floats)


_METRIC_FLOATS = ("mae", "mape_pct", "smape_pct", "mase", "coverage_80", "coverage_95")


def metrics_frame(fc: dict[tuple[str, tuple], SeriesForecast]) -> pl.DataFrame:
    """``backtest_metrics`` rows: every candidate of every level series."""
    import polars as pl

    keyed: list[tuple[str, dict[str, Any], ModelMetrics]] = [
        (level, dict(zip(LEVEL_KEYS[level], keyvals, strict=True)), m)
        for (level, keyvals), f in fc.items()
        for m in f.metrics
    ]
    cols: dict[str, Any] = {
        "level": pl.Series([lv for lv, _, _ in keyed], dtype=pl.String),
        "series_id": pl.Series([series_id(lv, k) for lv, k, _ in keyed], dtype=pl.String),
        **{c: pl.Series([k.get(c) for _, k, _ in keyed], dtype=pl.String)
           for c in ("team", "workload", "ml_model")},
    }
    for f in fields(ModelMetrics):
        raw = [getattr(m, f.name) for _, _, m in keyed]
        if f.name in _METRIC_FLOATS:
            cols[f.name] = exact_floats(np.array([np.nan if v is None else v for v in raw],
                                                 dtype=float))
        else:
            dtype = {"model": pl.String, "note": pl.String, "selected": pl.Boolean}.get(
                f.name, pl.Int32)
            cols[f.name] = pl.Series(raw, dtype=dtype)
    return pl.DataFrame(cols)
