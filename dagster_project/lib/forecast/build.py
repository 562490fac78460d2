"""``build_forecasts``: one forecast run from the mart to a stored snapshot."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import duckdb
import numpy as np

from dagster_project.lib.calendar import month_start, utcnow
from dagster_project.lib.warehouse import table_exists

from . import config
from .accuracy import write_backtest_accuracy
from .config import BASELINE, DEFAULT_HORIZON, LEVEL_KEYS, METHOD, SEGMENT_LEVEL, ForecastConfig
from .hierarchy import reconcile, reference_prices
from .history import History, check_history, default_as_of, level_series, load_history
from .models import SeriesForecast
from .scenario_file import ScenarioFile, ScenarioFileError, check_slices
from .scenarios import CASES, Scenario, apply_scenario, normalise_scenarios
from .series import forecast_all
from .snapshots import (
    ForecastResult,
    ensure_schema,
    existing_series_count,
    params_json,
    record_run,
    snapshot_id,
    write_snapshot,
)
from .values import ValueFrame, metrics_frame


def build_forecasts(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of_month: date | None = None,
    horizon: int = DEFAULT_HORIZON,
    scenarios: ScenarioFile | Iterable[Scenario | Mapping[str, Any]] | None = None,
    context: str = "build",
    n_jobs: int | None = None,
) -> ForecastResult:
    """Forecast monthly effective cost from actuals up to ``as_of_month`` into a snapshot.

    ``as_of_month`` defaults to the last closed month present in ``marts.fct_costs_monthly``.
    Returns the snapshot id with status ``created`` (new snapshot written), ``reused`` (the
    same inputs were already forecast) or ``skipped`` (with ``reason``; nothing raised).
    ``n_jobs`` (default ``MLCOST_FORECAST_JOBS`` or 1) only changes speed, never results.

    Every snapshot has the scenarios ``baseline``, ``base``, ``best`` and ``worst`` (the last
    three from ``scenarios``, a validated ``ScenarioFile``, or equal to the baseline), plus any
    other named scenarios given. A file whose slices name nothing known, or whose cases come
    out of order (best ≤ base ≤ worst), raises ``ScenarioFileError`` before anything is written.
    """
    n_jobs = config.N_JOBS if n_jobs is None else max(1, n_jobs)
    if horizon < 1:
        raise ValueError("horizon must be >= 1")
    t0 = time.perf_counter()
    started = utcnow()
    run_id = uuid.uuid4().hex
    if isinstance(scenarios, ScenarioFile) and table_exists(con, "marts", "fct_costs_monthly"):
        scenarios = check_slices(con, scenarios)  # raises before anything is written
    scen = normalise_scenarios(scenarios)
    ensure_schema(con)
    requested = month_start(as_of_month) if as_of_month else None

    def done(result: ForecastResult) -> ForecastResult:
        return record_run(con, run_id=run_id, started=started, t0=t0, context=context,
                          requested=requested, result=result, horizon=horizon)

    if not table_exists(con, "marts", "fct_costs_monthly"):
        return done(ForecastResult("skipped", None, None, "marts.fct_costs_monthly not found"))
    as_of = requested
    if as_of is None:
        as_of, reason = default_as_of(con)
        if as_of is None:
            return done(ForecastResult("skipped", None, None, reason))
    reason = check_history(con, as_of)
    if reason:
        return done(ForecastResult("skipped", None, as_of, reason))

    cfg = ForecastConfig(as_of=as_of, horizon=horizon, n_jobs=n_jobs)
    hist = load_history(con, as_of)
    text, params_hash = params_json(horizon, scen)
    snapshot = snapshot_id(as_of, params_hash, hist.fingerprint)
    names = [BASELINE] + [s.name for s in scen]
    n_existing = existing_series_count(con, snapshot)
    if n_existing is not None:
        return done(ForecastResult("reused", snapshot, as_of, None, n_series=n_existing,
                                   scenarios=names))

    fc = forecast_all(level_series(hist), cfg.horizon, cfg.n_jobs)
    values = _values(cfg, hist, fc, scen)
    _check_case_order(values, scenarios)
    result = ForecastResult("created", snapshot, as_of, None, n_series=len(fc),
                            scenarios=names, models=dict(Counter(f.model for f in fc.values())))
    snapshot_row = [
        snapshot, utcnow(), as_of, hist.months[0], horizon, METHOD, params_hash,
        hist.fingerprint, text, ",".join(hist.currencies), len(fc), len(hist.segments),
    ]
    try:
        write_snapshot(con, snapshot_row, values.frame(), metrics_frame(fc))
        write_backtest_accuracy(con, snapshot, fc)
    except duckdb.ConstraintException:
        # a concurrent run wrote the same snapshot first: identical inputs, so reuse it
        if existing_series_count(con, snapshot) is None:
            raise
        result.status = "reused"
    return done(result)


def _values(
    cfg: ForecastConfig,
    hist: History,
    fc: dict[tuple[str, tuple], SeriesForecast],
    scenarios: list[Scenario],
) -> ValueFrame:
    """Baseline rows (reconciled levels, allocated segments) and each scenario's rows."""
    reconciled, seg_pts = reconcile(hist, fc)
    prices = reference_prices(hist)
    with np.errstate(divide="ignore", invalid="ignore"):
        seg_qty = np.where(np.isfinite(prices)[:, None], seg_pts / prices[:, None], np.nan)
    out = ValueFrame(cfg.months)
    out.add_level(BASELINE, fc, reconciled)
    for i, seg in enumerate(hist.segments):
        out.add(BASELINE, SEGMENT_LEVEL, seg, "allocation", seg_pts[i], qty=seg_qty[i])

    n_base = len(hist.segments)
    series = {level: [kv for lv, kv in fc if lv == level] for level in LEVEL_KEYS}
    index = {level: {kv: j for j, kv in enumerate(kvs)} for level, kvs in series.items()}
    base_group = {level: [index[level].get(tuple(sg[c] for c in keys), -1)
                          for sg in hist.segments] for level, keys in LEVEL_KEYS.items()}
    for s in scenarios:
        applied = apply_scenario(s, hist.segments, seg_pts, seg_qty, cfg.months)
        segs, pts, q = applied.segments, applied.points, applied.qty
        # what the scenario changed, per segment: the multiplied baseline minus the baseline
        # (exactly zero where nothing applies, so untouched series keep the baseline's values)
        changed = applied.scaled.copy()
        changed[:n_base] -= seg_pts
        shifts, scales = {}, {}
        for level, keys in LEVEL_KEYS.items():
            group = np.array(base_group[level] + [
                index[level].get(tuple(sg[c] for c in keys), -1) for sg in segs[n_base:]])
            ok = group >= 0
            d_scaled = np.zeros((len(series[level]), cfg.horizon))
            d_added = np.zeros_like(d_scaled)
            np.add.at(d_scaled, group[ok], changed[ok])
            np.add.at(d_added, group[ok], applied.added[ok])
            for j, kv in enumerate(series[level]):
                rec = reconciled[(level, kv)]
                # multipliers scale the level's bands, added cost shifts them; where the
                # baseline point is zero a ratio is undefined and the change shifts instead
                nonzero = rec != 0
                scales[(level, kv)] = 1.0 + np.divide(d_scaled[j], rec,
                                                      out=np.zeros(cfg.horizon), where=nonzero)
                shifts[(level, kv)] = d_added[j] + np.where(nonzero, 0.0, d_scaled[j])
        out.add_level(s.name, fc, reconciled, shifts, scales)
        # launches may introduce new teams / team x workload / team x model series
        for level, keys in LEVEL_KEYS.items():
            extra: dict[tuple, np.ndarray] = {}
            for i in range(n_base, len(segs)):
                kv = tuple(segs[i][c] for c in keys)
                if (level, kv) not in fc:
                    extra[kv] = extra.get(kv, np.zeros(cfg.horizon)) + pts[i]
            for kv, p in extra.items():
                out.add(s.name, level, dict(zip(keys, kv, strict=True)), "scenario", p)
        for i, seg in enumerate(segs):
            out.add(s.name, SEGMENT_LEVEL, seg, "allocation" if i < n_base else "scenario",
                    pts[i], qty=q[i])
    return out


def _check_case_order(values: ValueFrame, scenarios: Any) -> None:
    """best ≤ base ≤ worst at every level, series and month, or a file error (a multiplier
    below 1 in the worst case on a credit, say, would invert the cases)."""
    bad = []
    for (level, sid), pts in values.points_by_series(CASES).items():
        best, base, worst = pts["best"], pts["base"], pts["worst"]
        tol = 1e-6 * np.maximum(1.0, np.abs(base))
        wrong = np.flatnonzero((best > base + tol) | (base > worst + tol))
        if wrong.size:
            t = int(wrong[0])
            bad.append(f"level {level}, series {sid}, {values.months[t]:%Y-%m}: best "
                       f"{best[t]:,.2f}, base {base[t]:,.2f}, worst {worst[t]:,.2f}")
    if bad:
        path = getattr(scenarios, "path", "scenarios")
        raise ScenarioFileError(path, [
            f"the cases come out of order (best ≤ base ≤ worst is required) in {len(bad)} "
            f"series, e.g. {bad[0]}; check the assumptions on that slice (a multiplier on a "
            "slice with negative cost, such as credits, inverts its cases)"])
