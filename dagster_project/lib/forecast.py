"""Monthly ML cost forecasts stored as immutable, lockable snapshots.

Input is ``marts.fct_costs_monthly`` (see docs/architecture.md). Effective (amortized) cost is
forecast per series at four levels -- ``total``, ``team``, ``team_workload`` and
``team_model`` -- with a small statsforecast model set chosen per series by a rolling-origin
backtest. The level forecasts are reconciled top-down so that they add up, and a fifth
``segment`` level (team x workload x ml_model x provider x service x pricing unit) carries the
plan cost and plan quantity used by the quarterly price/volume/mix variance.

Results are written to the ``forecast`` schema:

* ``forecast_snapshots`` -- one row per snapshot, append-only;
* ``forecast_values``    -- forecast rows of a snapshot (money as DECIMAL(38,6));
* ``backtest_metrics``   -- per series and candidate model backtest metrics;
* ``forecast_runs``      -- a log of every call, including ``skipped`` runs and why;
* ``forecast_locks``     -- which snapshot is the locked plan of a fiscal quarter.

A snapshot is identified by (as_of_month, method, params hash, data fingerprint); running again
on the same inputs reuses it, different data creates a new one, and no existing row is ever
updated or deleted. See docs/forecasting.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import math
import os
import re
import sys
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from dagster_project.lib.warehouse import arrow_views, transaction

# statsforecast itself is imported lazily (it takes seconds); its version is part of METHOD.
METHOD = f"mlcost-forecast/v1 statsforecast-{importlib.metadata.version('statsforecast')}"
MIN_HISTORY_MONTHS = 3
DEFAULT_HORIZON = 6
BACKTEST_HORIZON = 3
BACKTEST_WINDOWS = 3
MIN_TRAIN_MONTHS = 6
SEASON_LENGTH = 12
RECENT_MONTHS = 3
IPF_ITERATIONS = 100
# Worker processes for the per-series model fits (fork, Linux); 1 = in-process.
N_JOBS = max(1, int(os.environ.get("MLCOST_FORECAST_JOBS", "1") or 1))
PARALLEL_MIN_SERIES = 60
LEVELS = ("total", "team", "team_workload", "team_model")
SEGMENT_LEVEL = "segment"
BASELINE = "baseline"
INTERVAL_LEVELS = (80, 95)

_QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")
_LEVEL_KEYS = {
    "total": (),
    "team": ("team",),
    "team_workload": ("team", "workload"),
    "team_model": ("team", "ml_model"),
}
_SEGMENT_KEYS = ("team", "workload", "ml_model", "provider", "service_name", "pricing_unit")

_DDL = (
    "CREATE SCHEMA IF NOT EXISTS forecast",
    """
    CREATE TABLE IF NOT EXISTS forecast.forecast_snapshots (
        snapshot_id      VARCHAR PRIMARY KEY,
        created_at       TIMESTAMP NOT NULL,
        as_of_month      DATE NOT NULL,
        first_month      DATE NOT NULL,
        horizon          INTEGER NOT NULL,
        method           VARCHAR NOT NULL,
        params_hash      VARCHAR NOT NULL,
        data_fingerprint VARCHAR NOT NULL,
        params_json      VARCHAR NOT NULL,
        currencies       VARCHAR,
        n_series         INTEGER NOT NULL,
        n_segments       INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS forecast.forecast_values (
        snapshot_id      VARCHAR NOT NULL,
        scenario         VARCHAR NOT NULL,
        level            VARCHAR NOT NULL,
        series_id        VARCHAR NOT NULL,
        team             VARCHAR,
        workload         VARCHAR,
        ml_model         VARCHAR,
        provider         VARCHAR,
        service_name     VARCHAR,
        pricing_unit     VARCHAR,
        month            DATE NOT NULL,
        step             INTEGER NOT NULL,
        model            VARCHAR,
        point            DECIMAL(38,6) NOT NULL,
        lo_80            DECIMAL(38,6),
        hi_80            DECIMAL(38,6),
        lo_95            DECIMAL(38,6),
        hi_95            DECIMAL(38,6),
        base_point       DECIMAL(38,6),
        pricing_quantity DECIMAL(38,12),
        PRIMARY KEY (snapshot_id, scenario, series_id, month)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS forecast.backtest_metrics (
        snapshot_id      VARCHAR NOT NULL,
        level            VARCHAR NOT NULL,
        series_id        VARCHAR NOT NULL,
        team             VARCHAR,
        workload         VARCHAR,
        ml_model         VARCHAR,
        model            VARCHAR NOT NULL,
        selected         BOOLEAN NOT NULL,
        n_obs            INTEGER NOT NULL,
        n_windows        INTEGER NOT NULL,
        backtest_horizon INTEGER NOT NULL,
        n_points         INTEGER NOT NULL,
        mae              DECIMAL(38,6),
        mape_pct         DECIMAL(18,6),
        smape_pct        DECIMAL(18,6),
        mase             DECIMAL(18,6),
        coverage_80      DECIMAL(9,6),
        coverage_95      DECIMAL(9,6),
        note             VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS forecast.forecast_runs (
        run_id           VARCHAR PRIMARY KEY,
        started_at       TIMESTAMP NOT NULL,
        finished_at      TIMESTAMP NOT NULL,
        context          VARCHAR NOT NULL,
        requested_as_of  DATE,
        as_of_month      DATE,
        horizon          INTEGER,
        status           VARCHAR NOT NULL,
        snapshot_id      VARCHAR,
        reason           VARCHAR,
        n_series         INTEGER,
        duration_ms      INTEGER
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS forecast.forecast_locks (
        quarter          VARCHAR PRIMARY KEY,
        snapshot_id      VARCHAR NOT NULL,
        as_of_month      DATE NOT NULL,
        locked_at        TIMESTAMP NOT NULL
    )
    """,
)


# --------------------------------------------------------------------------------------------
# Small date helpers (also used by variance and report)
# --------------------------------------------------------------------------------------------


def add_months(month: date, n: int) -> date:
    """First day of the month ``n`` months after ``month``."""
    idx = month.year * 12 + month.month - 1 + n
    return date(idx // 12, idx % 12 + 1, 1)


def month_start(value: date | datetime | str) -> date:
    """First day of the month of ``value`` (date, datetime or ISO text)."""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return date(value.year, value.month, 1)


def parse_quarter(quarter: str) -> tuple[date, date, date]:
    """``'2026Q2'`` -> (first month, second month, third month) of the calendar quarter."""
    m = _QUARTER_RE.match(quarter or "")
    if not m:
        raise ValueError(f"fiscal quarter must look like 2026Q2, got {quarter!r}")
    first = date(int(m.group(1)), 3 * (int(m.group(2)) - 1) + 1, 1)
    return first, add_months(first, 1), add_months(first, 2)


def quarter_of(month: date) -> str:
    return f"{month.year}Q{(month.month - 1) // 3 + 1}"


def _today() -> date:
    """Current UTC date (a function so tests can monkeypatch the clock)."""
    return datetime.now(UTC).date()


def last_closed_month() -> date:
    """The most recent month that has ended (billing data of later months is partial)."""
    return add_months(month_start(_today()), -1)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchall()
    return bool(rows[0][0])


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``forecast`` schema and its tables if they do not exist."""
    for ddl in _DDL:
        con.execute(ddl)


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------

_ADJUSTMENT_KINDS = ("growth_pct", "launch", "commitment_coverage")


@dataclass(frozen=True)
class Adjustment:
    """One what-if change applied on top of the baseline segment forecasts.

    kind:
      * ``growth_pct`` -- multiply matching cost (and quantity) by ``1 + pct/100`` from
        ``from_month``; with ``compounding=True`` the uplift compounds monthly
        (``(1 + pct/100) ** k`` in the k-th month from ``from_month``).
      * ``launch`` -- add ``monthly_cost`` per month from ``from_month`` as a new segment
        (team, workload, ml_model, provider ``scenario``, service ``launch``).
      * ``commitment_coverage`` -- move ``pct`` percentage points of matching spend from
        on-demand to commitments priced ``discount_pct`` % below on-demand: cost is multiplied
        by ``1 - pct/100 * discount_pct/100`` (usage unchanged; a negative ``pct`` removes
        coverage).
    Filters ``team``/``workload``/``ml_model``/``provider`` match exactly; ``None`` = all.
    """

    kind: str
    team: str | None = None
    workload: str | None = None
    ml_model: str | None = None
    provider: str | None = None
    from_month: date | None = None
    pct: float = 0.0
    monthly_cost: float = 0.0
    discount_pct: float = 0.0
    compounding: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _ADJUSTMENT_KINDS:
            raise ValueError(f"unknown adjustment kind {self.kind!r}; use {_ADJUSTMENT_KINDS}")
        if self.from_month is not None:
            object.__setattr__(self, "from_month", month_start(self.from_month))
        if self.kind == "launch" and not self.team:
            raise ValueError("a launch adjustment needs a team")

    def matches(self, seg: Mapping[str, Any]) -> bool:
        for key in ("team", "workload", "ml_model", "provider"):
            want = getattr(self, key)
            if want is not None and seg[key] != want:
                return False
        return True

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["from_month"] = self.from_month.isoformat() if self.from_month else None
        return d


@dataclass(frozen=True)
class Scenario:
    """A named set of adjustments; the ``baseline`` scenario is always produced."""

    name: str
    adjustments: tuple[Adjustment, ...] = ()
    description: str = ""

    @classmethod
    def from_obj(cls, obj: Scenario | Mapping[str, Any]) -> Scenario:
        if isinstance(obj, Scenario):
            return obj
        adjustments = tuple(
            a if isinstance(a, Adjustment) else Adjustment(**dict(a))
            for a in obj.get("adjustments", ())
        )
        return cls(str(obj["name"]), adjustments, str(obj.get("description", "")))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "adjustments": [a.to_json() for a in self.adjustments],
        }


def _normalise_scenarios(
    scenarios: Iterable[Scenario | Mapping[str, Any]] | None,
) -> list[Scenario]:
    out = [Scenario.from_obj(s) for s in (scenarios or ())]
    names = [s.name for s in out]
    if BASELINE in names:
        raise ValueError("'baseline' is reserved for the unadjusted forecast")
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate scenario names: {names}")
    return out


# --------------------------------------------------------------------------------------------
# Per-series model selection
# --------------------------------------------------------------------------------------------


def _candidate_specs(min_train: int, seasonal: bool = False) -> list[tuple[str, Any]]:
    """Candidate models (name, factory) usable with at least ``min_train`` training points.

    Listed simplest first: on equal backtest scores the simpler model wins. Seasonal models are
    only offered when the series passes the lag-12 autocorrelation test (``_is_seasonal``).
    """
    from statsforecast.models import (
        AutoETS,
        Naive,
        OptimizedTheta,
        RandomWalkWithDrift,
        SeasonalNaive,
    )

    specs: list[tuple[str, Any]] = [
        ("Naive", Naive),
        ("Drift", RandomWalkWithDrift),
    ]
    if min_train >= MIN_TRAIN_MONTHS:
        specs.append(("AutoETS", lambda: AutoETS(season_length=1, model="ZZN")))
        specs.append(("Theta", OptimizedTheta))
    if seasonal and min_train >= SEASON_LENGTH + 1:
        specs.append(("SeasonalNaive", lambda: SeasonalNaive(season_length=SEASON_LENGTH)))
    if seasonal and min_train >= 2 * SEASON_LENGTH:
        specs.append(
            (
                "SeasonalETS",
                lambda: AutoETS(season_length=SEASON_LENGTH, model="AAA", damped=False),
            )
        )
    return specs


SEASONAL_STRENGTH_MIN = 0.6


def _is_seasonal(y: np.ndarray, m: int = SEASON_LENGTH) -> bool:
    """Seasonal strength of the linearly detrended series >= ``SEASONAL_STRENGTH_MIN``.

    Strength ``F_s = max(0, 1 - Var(R) / Var(S + R))`` (Wang, Smith & Hyndman 2006; FPP3
    section 4.3), with S the mean detrended value per calendar position and R the remainder.
    Needs two full seasons. This only gates which candidates are backtested (speed); the
    backtest still decides whether a seasonal model is used.
    """
    n = len(y)
    if n < 2 * m:
        return False
    t = np.arange(n, dtype=float)
    resid = y - np.polyval(np.polyfit(t, y, 1), t)
    total = float(np.var(resid))
    if total <= 0:
        return False
    pos = np.arange(n) % m
    seasonal = np.array([resid[pos == k].mean() for k in range(m)])[pos]
    strength = max(0.0, 1.0 - float(np.var(resid - seasonal)) / total)
    return strength >= SEASONAL_STRENGTH_MIN


CANDIDATE_MODELS = ("Naive", "Drift", "AutoETS", "Theta", "SeasonalNaive", "SeasonalETS")


@dataclass
class ModelMetrics:
    model: str
    n_obs: int
    n_windows: int
    backtest_horizon: int
    n_points: int
    mae: float | None = None
    mape_pct: float | None = None
    smape_pct: float | None = None
    mase: float | None = None
    coverage_80: float | None = None
    coverage_95: float | None = None
    selected: bool = False
    note: str | None = None


@dataclass
class SeriesForecast:
    model: str
    mean: np.ndarray
    lo_80: np.ndarray
    hi_80: np.ndarray
    lo_95: np.ndarray
    hi_95: np.ndarray
    metrics: list[ModelMetrics] = field(default_factory=list)


@contextlib.contextmanager
def _cached_normal_quantiles() -> Iterator[None]:
    """Memoise statsforecast's normal interval quantiles while forecasting.

    ``statsforecast.utils._quantiles`` builds a scipy frozen distribution on every call
    (~1 ms, more than fitting Naive/Drift/Theta on a short series). The z-values for
    levels (80, 95) are constants, so they are cached -- results are identical. Other
    distributions are passed through, and the original function is restored on exit.
    """
    from statsforecast import utils as sf_utils

    original = getattr(sf_utils, "_quantiles", None)
    if original is None:  # a statsforecast version without the helper: nothing to do
        yield
        return
    cache: dict[tuple[float, ...], np.ndarray] = {}

    def quantiles(level: Any, distribution: str = "normal", dist_params: Any = None) -> Any:
        if distribution != "normal" or dist_params is not None:
            return original(level, distribution=distribution, dist_params=dist_params)
        key = tuple(float(x) for x in np.atleast_1d(level))
        if key not in cache:
            cache[key] = np.asarray(original(level, distribution=distribution))
        return cache[key].copy()

    sf_utils._quantiles = quantiles
    try:
        yield
    finally:
        sf_utils._quantiles = original


def _forecast_chunk(items: list[tuple[Any, np.ndarray]], horizon: int) -> list[tuple[Any, Any]]:
    with _cached_normal_quantiles():
        return [(k, forecast_series(y, horizon)) for k, y in items]


def _forecast_all(
    items: list[tuple[Any, np.ndarray]], horizon: int, n_jobs: int
) -> dict[Any, SeriesForecast]:
    """Forecast every series, in ``n_jobs`` forked worker processes when worthwhile.

    Workers are forked (Linux only) so they inherit the imported statsforecast instead of
    paying its multi-second import; they only run numpy/statsforecast, never DuckDB. Results
    do not depend on ``n_jobs``.
    """
    if n_jobs <= 1 or len(items) < PARALLEL_MIN_SERIES or sys.platform != "linux":
        return dict(_forecast_chunk(items, horizon))
    import concurrent.futures
    import multiprocessing

    chunks = [items[i::n_jobs] for i in range(n_jobs)]
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as pool:
        parts = list(pool.map(_forecast_chunk, chunks, [horizon] * n_jobs))
    done = {k: f for part in parts for k, f in part}
    return {k: done[k] for k, _ in items}  # keep the input order


def _run_model(factory: Any, y: np.ndarray, h: int) -> dict[str, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = factory().forecast(y=y.astype(float), h=h, level=list(INTERVAL_LEVELS))
    out = {k: np.asarray(res[k], dtype=float) for k in res}
    if not all(np.isfinite(out[k]).all() for k in ("mean", "lo-80", "hi-80", "lo-95", "hi-95")):
        raise FloatingPointError("non-finite forecast")
    return out


def _finish(res: dict[str, np.ndarray], nonneg: bool) -> dict[str, np.ndarray]:
    """Order the bounds around the point and clip at zero for non-negative series."""
    mean = res["mean"]
    lo95 = np.minimum.reduce([res["lo-95"], res["lo-80"], mean])
    lo80 = np.clip(res["lo-80"], lo95, mean)
    hi95 = np.maximum.reduce([res["hi-95"], res["hi-80"], mean])
    hi80 = np.clip(res["hi-80"], mean, hi95)
    out = {"mean": mean, "lo-80": lo80, "hi-80": hi80, "lo-95": lo95, "hi-95": hi95}
    if nonneg:
        out = {k: np.maximum(v, 0.0) for k, v in out.items()}
    return out


def _backtest(
    name: str, factory: Any, y: np.ndarray, origins: Sequence[int], h: int
) -> ModelMetrics:
    errs, ape, sape, scaled, cov80, cov95 = [], [], [], [], [], []
    for origin in origins:
        train, test = y[:origin], y[origin : origin + h]
        res = _finish(_run_model(factory, train, h), bool((train >= 0).all()))
        f = res["mean"]
        e = test - f
        errs.extend(np.abs(e))
        ape.extend(np.abs(e[test != 0]) / np.abs(test[test != 0]) * 100.0)
        denom = np.abs(test) + np.abs(f)
        sape.extend(np.where(denom > 0, 2.0 * np.abs(e) / np.where(denom > 0, denom, 1), 0.0) * 100)
        scale = float(np.mean(np.abs(np.diff(train)))) if len(train) > 1 else 0.0
        scaled.append(float(np.mean(np.abs(e))) / scale if scale > 0 else math.nan)
        cov80.extend((test >= res["lo-80"] - 1e-9) & (test <= res["hi-80"] + 1e-9))
        cov95.extend((test >= res["lo-95"] - 1e-9) & (test <= res["hi-95"] + 1e-9))
    return ModelMetrics(
        model=name,
        n_obs=len(y),
        n_windows=len(origins),
        backtest_horizon=h,
        n_points=len(errs),
        mae=float(np.mean(errs)),
        mape_pct=float(np.mean(ape)) if ape else None,
        smape_pct=float(np.mean(sape)),
        mase=None if any(math.isnan(s) for s in scaled) else float(np.mean(scaled)),
        coverage_80=float(np.mean(cov80)),
        coverage_95=float(np.mean(cov95)),
    )


def forecast_series(
    y: np.ndarray,
    horizon: int,
    *,
    backtest_horizon: int = BACKTEST_HORIZON,
    backtest_windows: int = BACKTEST_WINDOWS,
) -> SeriesForecast:
    """Select a model for one monthly series by rolling-origin backtest and forecast it.

    Leading zero months are dropped (the series starts at its first non-zero month).
    Series shorter than ``MIN_TRAIN_MONTHS + backtest_horizon`` months get the Naive model
    without a backtest; an all-zero series gets a zero forecast.
    """
    y = np.asarray(y, dtype=float)
    nz = np.flatnonzero(y)
    if nz.size == 0:
        zeros = np.zeros(horizon)
        return SeriesForecast(
            "Zero", zeros, zeros, zeros, zeros, zeros,
            [ModelMetrics("Zero", len(y), 0, 0, 0, selected=True, note="all-zero history")],
        )
    y = y[nz[0] :]
    n = len(y)
    nonneg = bool((y >= 0).all())
    h_bt = max(1, min(backtest_horizon, horizon))
    windows = min(backtest_windows, n - MIN_TRAIN_MONTHS - h_bt + 1)
    metrics: list[ModelMetrics] = []
    chosen = "Naive"
    seasonal = _is_seasonal(y)
    specs: dict[str, Any] = dict(_candidate_specs(n, seasonal))
    if windows >= 1:
        origins = [n - h_bt - (windows - 1) + k for k in range(windows)]
        for name, factory in _candidate_specs(origins[0], seasonal):
            try:
                metrics.append(_backtest(name, factory, y, origins, h_bt))
            except Exception as exc:  # a candidate that cannot fit is simply not eligible
                metrics.append(
                    ModelMetrics(name, n, windows, h_bt, 0, note=f"not eligible: {exc}"[:200])
                )
        scored = [m for m in metrics if m.mae is not None]
        use_mase = all(m.mase is not None for m in scored)

        def score(m: ModelMetrics) -> float:
            return float(m.mase if use_mase else m.mae)  # type: ignore[arg-type]

        if scored:
            chosen = min(scored, key=score).model  # min() keeps the first (simplest) on ties
    else:
        metrics.append(
            ModelMetrics(
                "Naive", n, 0, h_bt, 0,
                note=f"{n} months of history: too short to backtest, naive fallback",
            )
        )
    try:
        res = _finish(_run_model(specs[chosen], y, horizon), nonneg)
    except Exception as exc:
        note = f"{chosen} failed on full history ({exc}); naive fallback"[:200]
        chosen = "Naive"
        res = _finish(_run_model(specs["Naive"], y, horizon), nonneg)
        metrics.append(ModelMetrics("Naive", n, 0, h_bt, 0, note=note))
    selected = [m for m in metrics if m.model == chosen and m.mae is not None]
    (selected[0] if selected and metrics[-1].n_windows else metrics[-1]).selected = True
    return SeriesForecast(
        chosen, res["mean"], res["lo-80"], res["hi-80"], res["lo-95"], res["hi-95"], metrics
    )


# --------------------------------------------------------------------------------------------
# Input data
# --------------------------------------------------------------------------------------------

_SEGMENTS_SQL = """
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
class _History:
    months: list[date]
    segments: list[dict[str, Any]]  # segment key dicts
    cost: np.ndarray  # (n_segments, n_months)
    qty: np.ndarray  # (n_segments, n_months), NaN where no quantity
    fingerprint: str
    currencies: list[str]


def _load_history(con: duckdb.DuckDBPyConnection, as_of: date) -> _History:
    rows = con.execute(_SEGMENTS_SQL, [add_months(as_of, 1)]).fetchall()
    currencies = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT billing_currency FROM marts.fct_costs_monthly "
            "WHERE billing_month < ? ORDER BY 1",
            [add_months(as_of, 1)],
        ).fetchall()
    ]
    digest = hashlib.sha256()
    for r in rows:
        digest.update(json.dumps([str(v) if v is not None else None for v in r]).encode())
        digest.update(b"\n")
    if not rows:
        return _History([], [], np.zeros((0, 0)), np.zeros((0, 0)), digest.hexdigest(), [])
    first = min(r[0] for r in rows)
    n_months = (as_of.year - first.year) * 12 + as_of.month - first.month + 1
    months = [add_months(first, i) for i in range(n_months)]
    seg_index: dict[tuple, int] = {}
    for r in rows:
        seg_index.setdefault(tuple(r[1:7]), len(seg_index))
    cost = np.zeros((len(seg_index), n_months))
    qty = np.full((len(seg_index), n_months), np.nan)
    for r in rows:
        i = seg_index[tuple(r[1:7])]
        j = (r[0].year - first.year) * 12 + r[0].month - first.month
        cost[i, j] += float(r[7])
        if r[8] is not None:
            qty[i, j] = (0.0 if np.isnan(qty[i, j]) else qty[i, j]) + float(r[8])
    segments = [dict(zip(_SEGMENT_KEYS, k, strict=True)) for k in seg_index]
    return _History(months, segments, cost, qty, digest.hexdigest(), [c for c in currencies if c])


def _series_id(level: str, key: Mapping[str, Any]) -> str:
    return json.dumps([level, *[key.get(k) for k in _SEGMENT_KEYS if k in key]])


# --------------------------------------------------------------------------------------------
# Reconciliation
# --------------------------------------------------------------------------------------------


def _null_last(v: Any) -> tuple[bool, str]:
    return (v is None, "" if v is None else str(v))


def _allocate(target: np.ndarray, weights: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Split ``target`` (H,) across children in proportion to ``weights`` (C, H).

    Where all weights of a month are zero, ``fallback`` (C,) shares are used, then equal shares.
    """
    weights = np.maximum(weights, 0.0)
    out = np.zeros_like(weights)
    fb = np.maximum(fallback, 0.0)
    fb = fb / fb.sum() if fb.sum() > 0 else np.full(len(fb), 1.0 / len(fb))
    for t in range(weights.shape[1]):
        w = weights[:, t]
        share = w / w.sum() if w.sum() > 0 else fb
        out[:, t] = target[t] * share
    return out


def _ipf(seed: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Iterative proportional fitting of seed (R, C, H) to row (R, H) and column (C, H) totals.

    Each month (last axis) is fitted independently. Ends with a row step so the row totals
    are met exactly; column totals are met as far as the seed's zero pattern allows.
    """
    x = seed.astype(float).copy()
    tol = 1e-10 * max(1.0, float(np.abs(cols).max(initial=0.0)))
    for _ in range(IPF_ITERATIONS):
        cs = x.sum(axis=0)
        x *= np.divide(cols, cs, out=np.ones_like(cols), where=cs > 0)[None, :, :]
        rs = x.sum(axis=1)
        x *= np.divide(rows, rs, out=np.ones_like(rows), where=rs > 0)[:, None, :]
        if float(np.abs(x.sum(axis=0) - cols).max(initial=0.0)) <= tol:
            break
    return x


def _reconcile(
    hist: _History, fc: dict[tuple[str, tuple], SeriesForecast], horizon: int
) -> tuple[dict[tuple[str, tuple], np.ndarray], np.ndarray]:
    """Top-down forecast-proportions reconciliation.

    Returns reconciled points per (level, key) and segment points (n_segments, H).
    """
    segs = hist.segments
    recent = np.maximum(hist.cost[:, -RECENT_MONTHS:].sum(axis=1), 0.0)
    full = np.maximum(hist.cost.sum(axis=1), 0.0)
    out: dict[tuple[str, tuple], np.ndarray] = {}
    total = fc[("total", ())].mean
    out[("total", ())] = total
    teams = sorted({s["team"] for s in segs}, key=_null_last)
    team_w = np.array([fc[("team", (t,))].mean for t in teams])
    team_fb = np.array([sum(full[i] for i, s in enumerate(segs) if s["team"] == t) for t in teams])
    team_pts = _allocate(total, team_w, team_fb)
    seg_pts = np.zeros((len(segs), horizon))
    for ti, team in enumerate(teams):
        tp = team_pts[ti]
        out[("team", (team,))] = tp
        idx = [i for i, s in enumerate(segs) if s["team"] == team]
        workloads = sorted({segs[i]["workload"] for i in idx}, key=_null_last)
        models = sorted({segs[i]["ml_model"] for i in idx}, key=_null_last)

        def margin(
            level: str, names: list[str], attr: str, idx=idx, tp=tp, team=team
        ) -> np.ndarray:
            weights = np.array([fc[(level, (team, n))].mean for n in names])
            fallback = np.array([sum(full[i] for i in idx if segs[i][attr] == n) for n in names])
            return _allocate(tp, weights, fallback)

        rows = margin("team_workload", workloads, "workload")
        cols = margin("team_model", models, "ml_model")
        cell_of = {i: (workloads.index(segs[i]["workload"]), models.index(segs[i]["ml_model"]))
                   for i in idx}
        exists = np.zeros((len(workloads), len(models)), dtype=bool)
        seed_recent = np.zeros(exists.shape)
        seed_full = np.zeros(exists.shape)
        for i, (r, c) in cell_of.items():
            exists[r, c] = True
            seed_recent[r, c] += recent[i]
            seed_full[r, c] += full[i]
        seeds = np.repeat(seed_recent[:, :, None], horizon, axis=2)
        for t in range(horizon):
            seed = seeds[:, :, t]  # a view: fallbacks below edit ``seeds`` in place
            for r in range(seed.shape[0]):  # rows needing cost but without a recent seed
                if rows[r, t] > 0 and seed[r].sum() == 0:
                    seed[r] = seed_full[r] if seed_full[r].sum() > 0 else exists[r].astype(float)
            for c in range(seed.shape[1]):
                if cols[c, t] > 0 and seed[:, c].sum() == 0:
                    seed[:, c] = (
                        seed_full[:, c] if seed_full[:, c].sum() > 0 else exists[:, c].astype(float)
                    )
        cells = _ipf(seeds, rows, cols)
        for r, w in enumerate(workloads):
            out[("team_workload", (team, w))] = cells[r].sum(axis=0)
        for c, m in enumerate(models):
            out[("team_model", (team, m))] = cells[:, c].sum(axis=0)
        # split each cell across its segments by recent (then full-history, then equal) share
        for r in range(len(workloads)):
            for c in range(len(models)):
                members = [i for i, rc in cell_of.items() if rc == (r, c)]
                if not members:
                    continue
                w = np.array([recent[i] for i in members])
                if w.sum() <= 0:
                    w = np.array([full[i] for i in members])
                if w.sum() <= 0:
                    w = np.ones(len(members))
                for k, i in enumerate(members):
                    seg_pts[i] = cells[r, c] * (w[k] / w.sum())
    return out, seg_pts


def _reference_prices(hist: _History) -> np.ndarray:
    """Unit price per segment at the as-of run rate (last 3 months; else all history)."""
    prices = np.full(len(hist.segments), np.nan)
    for i, seg in enumerate(hist.segments):
        if seg["pricing_unit"] is None:
            continue
        for window in (slice(-RECENT_MONTHS, None), slice(None)):
            q = hist.qty[i, window]
            ok = ~np.isnan(q) & (q > 0)
            if ok.any():
                c = hist.cost[i, window][ok].sum()
                price = c / q[ok].sum()
                if price > 0:
                    prices[i] = price
                break
    return prices


# --------------------------------------------------------------------------------------------
# Scenarios on segments
# --------------------------------------------------------------------------------------------


def _apply_scenario(
    scenario: Scenario,
    segments: list[dict[str, Any]],
    points: np.ndarray,
    qty: np.ndarray,
    months: list[date],
) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    segs = list(segments)
    pts = points.copy()
    q = qty.copy()
    for adj in scenario.adjustments:
        start = adj.from_month or months[0]
        active = np.array([m >= start for m in months])
        k = np.cumsum(active)  # 1, 2, ... from the start month
        if adj.kind == "launch":
            seg = {
                "team": adj.team,
                "workload": adj.workload or "shared",
                "ml_model": adj.ml_model or "none",
                "provider": adj.provider or "scenario",
                "service_name": "launch",
                "pricing_unit": None,
            }
            added = np.where(active, adj.monthly_cost, 0.0)
            if seg in segs:  # a second launch of the same segment adds up
                pts[segs.index(seg)] += added
            else:
                segs.append(seg)
                pts = np.vstack([pts, added])
                q = np.vstack([q, np.full(len(months), np.nan)])
            continue
        if adj.kind == "growth_pct":
            g = 1.0 + adj.pct / 100.0
            factor = np.where(active, g**k if adj.compounding else g, 1.0)
            qty_factor = factor
        else:  # commitment_coverage
            factor = np.where(active, 1.0 - adj.pct / 100.0 * adj.discount_pct / 100.0, 1.0)
            qty_factor = np.ones(len(months))
        for i, seg in enumerate(segs):
            if adj.matches(seg):
                pts[i] = pts[i] * factor
                q[i] = q[i] * qty_factor
    return segs, pts, q


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass
class ForecastResult:
    status: str  # created | reused | skipped
    snapshot_id: str | None
    as_of_month: date | None
    reason: str | None = None
    run_id: str | None = None
    n_series: int = 0
    duration_s: float = 0.0
    scenarios: list[str] = field(default_factory=list)
    models: dict[str, int] = field(default_factory=dict)


def _params(horizon: int, scenarios: list[Scenario]) -> dict[str, Any]:
    return {
        "method": METHOD,
        "horizon": horizon,
        "levels": list(LEVELS) + [SEGMENT_LEVEL],
        "target": "effective_cost",
        "candidates": list(CANDIDATE_MODELS),
        "selection": "lowest backtest MASE (MAE when the naive scale is zero)",
        "backtest": {
            "horizon": BACKTEST_HORIZON,
            "windows": BACKTEST_WINDOWS,
            "min_train": MIN_TRAIN_MONTHS,
        },
        "intervals": list(INTERVAL_LEVELS),
        "reconciliation": "top-down forecast proportions; segments by IPF on recent mix",
        "recent_months": RECENT_MONTHS,
        "min_history_months": MIN_HISTORY_MONTHS,
        "scenarios": [s.to_json() for s in scenarios],
    }


def _snapshot_id(as_of: date, params_hash: str, fingerprint: str) -> str:
    digest = hashlib.sha256(f"{as_of}|{METHOD}|{params_hash}|{fingerprint}".encode()).hexdigest()
    return f"fc_{as_of:%Y%m}_{digest[:16]}"


def _record_run(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    started: datetime,
    t0: float,
    context: str,
    requested: date | None,
    result: ForecastResult,
    horizon: int,
) -> None:
    result.duration_s = time.perf_counter() - t0
    result.run_id = run_id
    con.execute(
        "INSERT INTO forecast.forecast_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            started,
            utcnow(),
            context,
            requested,
            result.as_of_month,
            horizon,
            result.status,
            result.snapshot_id,
            result.reason,
            result.n_series,
            int(result.duration_s * 1000),
        ],
    )


def _default_as_of(con: duckdb.DuckDBPyConnection) -> tuple[date | None, str | None]:
    closed = last_closed_month()
    rows = con.execute(
        "SELECT max(billing_month) FROM marts.fct_costs_monthly WHERE billing_month <= ?",
        [closed],
    ).fetchall()
    if rows[0][0] is None:
        return None, f"no actuals in a closed month (up to {closed:%Y-%m})"
    return month_start(rows[0][0]), None


def _check_history(con: duckdb.DuckDBPyConnection, as_of: date) -> str | None:
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


def build_forecasts(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of_month: date | None = None,
    horizon: int = DEFAULT_HORIZON,
    scenarios: Iterable[Scenario | Mapping[str, Any]] | None = None,
    context: str = "build",
    n_jobs: int | None = None,
) -> ForecastResult:
    """Forecast monthly effective cost from actuals up to ``as_of_month`` into a snapshot.

    ``as_of_month`` defaults to the last closed month present in ``marts.fct_costs_monthly``.
    Returns the snapshot id with status ``created`` (new snapshot written), ``reused`` (the
    same inputs were already forecast) or ``skipped`` (with ``reason``; nothing raised).
    ``n_jobs`` (default ``MLCOST_FORECAST_JOBS`` or 1) only changes speed, never results.
    """
    n_jobs = N_JOBS if n_jobs is None else max(1, n_jobs)
    if horizon < 1:
        raise ValueError("horizon must be >= 1")
    t0 = time.perf_counter()
    started = utcnow()
    run_id = uuid.uuid4().hex
    scen = _normalise_scenarios(scenarios)
    ensure_schema(con)
    requested = month_start(as_of_month) if as_of_month else None

    def done(result: ForecastResult) -> ForecastResult:
        _record_run(
            con, run_id=run_id, started=started, t0=t0, context=context,
            requested=requested, result=result, horizon=horizon,
        )
        return result

    if not table_exists(con, "marts", "fct_costs_monthly"):
        return done(ForecastResult("skipped", None, None, "marts.fct_costs_monthly not found"))
    as_of = requested
    if as_of is None:
        as_of, reason = _default_as_of(con)
        if as_of is None:
            return done(ForecastResult("skipped", None, None, reason))
    reason = _check_history(con, as_of)
    if reason:
        return done(ForecastResult("skipped", None, as_of, reason))

    hist = _load_history(con, as_of)
    params = _params(horizon, scen)
    params_json = json.dumps(params, sort_keys=True)
    params_hash = hashlib.sha256(params_json.encode()).hexdigest()
    snapshot_id = _snapshot_id(as_of, params_hash, hist.fingerprint)
    existing = con.execute(
        "SELECT n_series FROM forecast.forecast_snapshots WHERE snapshot_id = ?", [snapshot_id]
    ).fetchall()
    names = [BASELINE] + [s.name for s in scen]
    if existing:
        return done(
            ForecastResult("reused", snapshot_id, as_of, None, n_series=existing[0][0],
                           scenarios=names)
        )

    fmonths = [add_months(as_of, k) for k in range(1, horizon + 1)]
    # level series
    level_keys: dict[tuple[str, tuple], np.ndarray] = {}
    for level, keys in _LEVEL_KEYS.items():
        for i, seg in enumerate(hist.segments):
            k = (level, tuple(seg[c] for c in keys))
            if k not in level_keys:
                level_keys[k] = np.zeros(len(hist.months))
            level_keys[k] = level_keys[k] + hist.cost[i]
    fc = _forecast_all(list(level_keys.items()), horizon, n_jobs)
    reconciled, seg_pts = _reconcile(hist, fc, horizon)
    prices = _reference_prices(hist)
    with np.errstate(divide="ignore", invalid="ignore"):
        seg_qty = np.where(np.isfinite(prices)[:, None], seg_pts / prices[:, None], np.nan)

    value_rows: list[dict[str, Any]] = []

    def add_rows(scenario: str, level: str, key: dict[str, Any], model: str | None,
                 pts: np.ndarray, base: SeriesForecast | None, qty: np.ndarray | None,
                 shift: np.ndarray | None = None) -> None:
        sid = _series_id(level, key)
        for step, month in enumerate(fmonths):
            row = {c: key.get(c) for c in _SEGMENT_KEYS}
            row.update(scenario=scenario, level=level, series_id=sid, month=month,
                       step=step + 1, model=model, point=float(pts[step]))
            if base is not None:
                b = float(base.mean[step])
                ratio = float(pts[step]) / b if b != 0 else 1.0
                bounds = {
                    "lo_80": base.lo_80[step], "hi_80": base.hi_80[step],
                    "lo_95": base.lo_95[step], "hi_95": base.hi_95[step],
                }
                for name, v in bounds.items():
                    v = float(v) * ratio if b != 0 else float(pts[step])
                    row[name] = v + (float(shift[step]) if shift is not None else 0.0)
                row["point"] += float(shift[step]) if shift is not None else 0.0
                row["base_point"] = b
            if qty is not None and np.isfinite(qty[step]):
                row["pricing_quantity"] = float(qty[step])
            value_rows.append(row)

    for (level, keyvals), f in fc.items():
        key = dict(zip(_LEVEL_KEYS[level], keyvals, strict=True))
        add_rows(BASELINE, level, key, f.model, reconciled[(level, keyvals)], f, None)
    for i, seg in enumerate(hist.segments):
        add_rows(BASELINE, SEGMENT_LEVEL, seg, "allocation", seg_pts[i], None, seg_qty[i])

    for s in scen:
        segs, pts, q = _apply_scenario(s, hist.segments, seg_pts, seg_qty, fmonths)
        delta = pts.copy()
        delta[: len(hist.segments)] -= seg_pts
        for (level, keyvals), f in fc.items():
            keys = _LEVEL_KEYS[level]
            members = [i for i, sg in enumerate(segs) if tuple(sg[c] for c in keys) == keyvals]
            shift = delta[members].sum(axis=0) if members else np.zeros(horizon)
            key = dict(zip(keys, keyvals, strict=True))
            add_rows(s.name, level, key, f.model, reconciled[(level, keyvals)], f, None, shift)
        # launches may introduce new teams / team x workload / team x model series
        for level, keys in _LEVEL_KEYS.items():
            extra: dict[tuple, np.ndarray] = {}
            for i in range(len(hist.segments), len(segs)):
                kv = tuple(segs[i][c] for c in keys)
                if (level, kv) not in fc:
                    extra[kv] = extra.get(kv, np.zeros(horizon)) + pts[i]
            for kv, p in extra.items():
                add_rows(s.name, level, dict(zip(keys, kv, strict=True)), "scenario", p,
                         None, None)
        for i, seg in enumerate(segs):
            add_rows(s.name, SEGMENT_LEVEL, seg,
                     "allocation" if i < len(hist.segments) else "scenario", pts[i], None, q[i])

    metric_rows: list[dict[str, Any]] = []
    for (level, keyvals), f in fc.items():
        key = dict(zip(_LEVEL_KEYS[level], keyvals, strict=True))
        for m in f.metrics:
            metric_rows.append(
                {"level": level, "series_id": _series_id(level, key),
                 "team": key.get("team"), "workload": key.get("workload"),
                 "ml_model": key.get("ml_model"), **asdict(m)}
            )

    models: dict[str, int] = {}
    for f in fc.values():
        models[f.model] = models.get(f.model, 0) + 1
    result = ForecastResult("created", snapshot_id, as_of, None, n_series=len(fc),
                            scenarios=names, models=models)
    snapshot_row = [
        snapshot_id, utcnow(), as_of, hist.months[0], horizon, METHOD, params_hash,
        hist.fingerprint, params_json, ",".join(hist.currencies), len(fc), len(hist.segments),
    ]
    try:
        _write_snapshot(con, snapshot_id, snapshot_row, value_rows, metric_rows)
    except duckdb.ConstraintException:
        # a concurrent run wrote the same snapshot first: identical inputs, so reuse it
        if not con.execute(
            "SELECT count(*) FROM forecast.forecast_snapshots WHERE snapshot_id = ?",
            [snapshot_id],
        ).fetchall()[0][0]:
            raise
        result.status = "reused"
    return done(result)


_VALUE_COLS = (
    "scenario", "level", "series_id", "team", "workload", "ml_model", "provider",
    "service_name", "pricing_unit", "month", "step", "model", "point", "lo_80", "hi_80",
    "lo_95", "hi_95", "base_point", "pricing_quantity",
)
_METRIC_COLS = (
    "level", "series_id", "team", "workload", "ml_model", "model", "selected", "n_obs",
    "n_windows", "backtest_horizon", "n_points", "mae", "mape_pct", "smape_pct", "mase",
    "coverage_80", "coverage_95", "note",
)
_FLOAT_COLS = {
    "point", "lo_80", "hi_80", "lo_95", "hi_95", "base_point", "pricing_quantity", "mae",
    "mape_pct", "smape_pct", "mase", "coverage_80", "coverage_95",
}


def _arrow(rows: list[dict[str, Any]], cols: Sequence[str]) -> pa.Table:
    data: dict[str, list[Any]] = {c: [] for c in cols}
    for r in rows:
        for c in cols:
            v = r.get(c)
            if c in _FLOAT_COLS and v is not None:
                v = float(v)
                v = round(v, 12) if math.isfinite(v) else None
            data[c].append(v)
    arrays = {
        c: pa.array(v, type=pa.float64()) if c in _FLOAT_COLS else pa.array(v)
        for c, v in data.items()
    }
    return pa.table(arrays)


def _write_snapshot(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: str,
    snapshot_row: list[Any],
    value_rows: list[dict[str, Any]],
    metric_rows: list[dict[str, Any]],
) -> None:
    values = _arrow(value_rows, _VALUE_COLS)
    metrics = _arrow(metric_rows, _METRIC_COLS)
    with transaction(con), arrow_views(con, _mlcost_fc_values=values,
                                        _mlcost_fc_metrics=metrics):
        con.execute(
            "INSERT INTO forecast.forecast_snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            snapshot_row,
        )
        con.execute(
            """
            INSERT INTO forecast.forecast_values
            SELECT ?, scenario, level, series_id, team, workload, ml_model, provider,
                   service_name, pricing_unit, month, step, model,
                   CAST(point AS DECIMAL(38,6)), CAST(lo_80 AS DECIMAL(38,6)),
                   CAST(hi_80 AS DECIMAL(38,6)), CAST(lo_95 AS DECIMAL(38,6)),
                   CAST(hi_95 AS DECIMAL(38,6)), CAST(base_point AS DECIMAL(38,6)),
                   CAST(pricing_quantity AS DECIMAL(38,12))
            FROM _mlcost_fc_values
            """,
            [snapshot_id],
        )
        con.execute(
            """
            INSERT INTO forecast.backtest_metrics
            SELECT ?, level, series_id, team, workload, ml_model, model, selected, n_obs,
                   n_windows, backtest_horizon, n_points, CAST(mae AS DECIMAL(38,6)),
                   CAST(mape_pct AS DECIMAL(18,6)), CAST(smape_pct AS DECIMAL(18,6)),
                   CAST(mase AS DECIMAL(18,6)), CAST(coverage_80 AS DECIMAL(9,6)),
                   CAST(coverage_95 AS DECIMAL(9,6)), note
            FROM _mlcost_fc_metrics
            """,
            [snapshot_id],
        )


def locked_snapshot(con: duckdb.DuckDBPyConnection, quarter: str) -> str | None:
    """Snapshot id locked for ``quarter``, or None (never creates anything)."""
    parse_quarter(quarter)
    if not table_exists(con, "forecast", "forecast_locks"):
        return None
    rows = con.execute(
        "SELECT snapshot_id FROM forecast.forecast_locks WHERE quarter = ?", [quarter]
    ).fetchall()
    return rows[0][0] if rows else None


def ensure_locked_forecast(
    con: duckdb.DuckDBPyConnection, quarter: str, *, horizon: int = DEFAULT_HORIZON
) -> str | None:
    """Return the snapshot locked as the plan of ``quarter``, creating and locking it if needed.

    The locked forecast of quarter Q is forecast from actuals up to the last month before Q
    starts (data of later months is ignored, so past quarters can be locked honestly from a
    longer history). A lock is written once and never changed. Returns None -- with a
    ``skipped`` row in ``forecast.forecast_runs`` -- when there is not enough history.
    """
    first, _, _ = parse_quarter(quarter)
    ensure_schema(con)
    existing = locked_snapshot(con, quarter)
    if existing:
        return existing
    as_of = add_months(first, -1)
    result = build_forecasts(
        con, as_of_month=as_of, horizon=max(horizon, 3), context=f"lock:{quarter}"
    )
    if result.snapshot_id is None:
        return None
    try:
        con.execute(
            "INSERT INTO forecast.forecast_locks VALUES (?, ?, ?, ?)",
            [quarter, result.snapshot_id, as_of, utcnow()],
        )
    except duckdb.ConstraintException:
        pass  # locked concurrently; the first lock wins
    return locked_snapshot(con, quarter)


def skipped_runs(con: duckdb.DuckDBPyConnection, limit: int = 20) -> list[dict[str, Any]]:
    """Most recent skipped forecast runs (for the report)."""
    if not table_exists(con, "forecast", "forecast_runs"):
        return []
    cur = con.execute(
        "SELECT started_at, context, requested_as_of, as_of_month, reason "
        "FROM forecast.forecast_runs WHERE status = 'skipped' "
        "ORDER BY started_at DESC LIMIT ?",
        [limit],
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

