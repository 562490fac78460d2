"""The forecast engine: seasonality, history classes, calibrated bands, honest backtests.

Pure unit tests on synthetic series, one build on the synthetic mart of test_forecast, and
the issue's proof on a generated 36-month demo (generator -> ingest -> dbt -> forecast).
"""

from __future__ import annotations

import math
from datetime import date

import duckdb
import numpy as np
import pytest

from dagster_project.lib import forecast as fc
from dagster_project.lib.forecast import calibration, seasonal, series
from dagster_project.lib.forecast.accuracy import accuracy_rows, pooled
from dagster_project.lib.forecast.models import Backtest, SeriesForecast, history_class

from .test_forecast import make_db

Q4 = {10: 1.15, 11: 1.35, 12: 1.5, 1: 1.1}  # the demo generator's recommendation season
START_MONTH = 10  # month index 0 is an October


def seasonal_series(months: int, seed: int = 3, growth: float = 0.01, noise: float = 0.02):
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    season = np.array([Q4.get((START_MONTH - 1 + i) % 12 + 1, 1.0) for i in t])
    return 1000.0 * (1 + growth) ** t * season * rng.normal(1.0, noise, months)


def month_of(index: int) -> int:
    return (START_MONTH - 1 + index) % 12 + 1


def test_history_class_thresholds():
    assert [history_class(n) for n in (0, 2, 5, 6, 23, 24, 36)] == [
        "new", "new", "new", "short", "short", "full", "full"]


def test_forecast_carries_yearly_seasonality():
    y = seasonal_series(36)
    f = fc.forecast_series(y, 18)
    assert f.seasonal_source == "own" and f.history_class == "full" and len(f.mean) == 18
    by_month = {month_of(36 + k): f.mean[k] for k in range(12)}
    # December about 1.5x September (growth adds ~3%), not a straight line
    assert 1.35 < by_month[12] / by_month[9] < 1.7, by_month
    assert by_month[2] < by_month[12] * 0.8


def test_non_seasonal_series_gets_no_profile():
    rng = np.random.default_rng(5)
    y = 1000.0 + 20.0 * np.arange(36) + rng.normal(0, 15, 36)
    f = fc.forecast_series(y, 12)
    assert f.seasonal_source == "none"
    assert np.all(np.diff(f.mean) > -1e-6)  # a trend, no yearly wiggle


def test_short_and_new_series_borrow_the_parent_profile_and_are_labelled():
    total = seasonal_series(36)
    team = total * 0.6
    short = np.r_[np.zeros(26), (total * 0.1)[26:]]  # 10 months
    new = np.r_[np.zeros(34), (total * 0.05)[34:]]  # 2 months
    items = [(("total", ()), total), (("team", ("a",)), team),
             (("team_model", ("a", "m1")), short), (("team_model", ("a", "m2")), new),
             (("team_workload", ("a", "w")), team)]
    out = fc.forecast_all(items, 18, 1)
    s, n = out[("team_model", ("a", "m1"))], out[("team_model", ("a", "m2"))]
    assert (s.history_months, s.history_class) == (10, "short")
    assert (n.history_months, n.history_class) == (2, "new")
    assert s.seasonal_source == "team" and n.seasonal_source == "team"
    for f in (s, n):
        assert len(f.mean) == 18 and np.isfinite(f.hi_95).all()
        dec, sep = f.mean[month_of_step(12)], f.mean[month_of_step(9)]
        assert dec / sep > 1.3, (f.model, f.mean)
    # a series with no parent and under 24 months has no profile to borrow
    alone = fc.forecast_series(short, 6)
    assert alone.seasonal_source == "none"


def month_of_step(month: int) -> int:
    """Index into an 18-step forecast from 36 months of history of the first ``month``."""
    return next(k for k in range(18) if month_of(36 + k) == month)


def test_profile_uses_only_months_before_the_cut():
    y = seasonal_series(36)
    changed = y.copy()
    changed[30:] *= np.linspace(0.2, 3.0, 6)
    a, b = seasonal.resolver(y, None), seasonal.resolver(changed, None)
    assert np.array_equal(a(30)[0], b(30)[0]) and a(30)[1] == "own"
    assert not np.array_equal(a(36)[0], b(36)[0])


def test_backtest_fits_only_see_data_before_their_origin(monkeypatch):
    monkeypatch.setattr(series, "best_model", lambda metrics, default: "Drift")
    y = seasonal_series(36)
    changed = y.copy()
    changed[30:] *= 2.0  # a jump after origin 30
    a, b = fc.forecast_series(y, 6).backtest, fc.forecast_series(changed, 6).backtest
    assert a is not None and b is not None
    early = a.origin <= 30
    assert early.any() and (~early).any()
    for name in ("point", "snaive", "drift", "level"):
        assert np.allclose(getattr(a, name)[early], getattr(b, name)[early]), name
    for name in ("point", "drift", "level", "actual"):  # later origins do see the jump
        assert not np.allclose(getattr(a, name)[~early], getattr(b, name)[~early]), name


def fake(level_errors: dict[int, float], steps: int = 3, n_series: int = 10) -> list[Backtest]:
    """Backtests whose forecast is 100 and actual 100 * (1 + e) for origin -> e (alternating
    sign), over ``n_series`` series."""
    out = []
    for i in range(n_series):
        origin, step, actual = [], [], []
        for o, e in level_errors.items():
            for s in range(1, steps + 1):
                origin.append(o)
                step.append(s)
                actual.append(100.0 * (1 + e * s * (1 if (i + o) % 2 else -1) * (1 + i / 20)))
        m = len(origin)
        out.append(Backtest(np.array(origin), np.array(step), np.array(actual), np.full(m, 100.0),
                            np.full(m, 100.0), np.full(m, 100.0), np.full(m, 100.0)))
    return out


def test_conformal_quantile_and_widening_tables():
    rec = calibration.records(fake({o: 0.05 for o in range(10, 20)}))
    table = calibration.quantile_table(rec, 18)
    assert table is not None and table.shape == (2, 18)
    errs = rec["err"][rec["step"] == 1]
    assert len(errs) == 100
    assert table[0, 0] == pytest.approx(np.sort(errs)[79] + 0.2 * (np.sort(errs)[80]
                                                                   - np.sort(errs)[79]))
    assert table[1, 0] == pytest.approx(np.quantile(errs, 0.95))
    assert np.all(np.diff(table, axis=1) >= -1e-12) and np.all(table[1] >= table[0])
    # past the last backtested step (3) the width grows as sqrt(h / 3)
    assert table[0, 11] == pytest.approx(table[0, 2] * math.sqrt(12 / 3))
    # nothing before the cut: no table; the cut drops later errors
    assert calibration.quantile_table(rec, 18, before=10) is None
    late = calibration.records(fake({o: (0.05 if o < 15 else 0.9) for o in range(10, 20)}))
    assert np.array_equal(calibration.quantile_table(late, 18, before=15),
                          calibration.quantile_table(calibration.records(
                              fake({o: 0.05 for o in range(10, 15)})), 18))


def test_reported_coverage_is_nested_not_in_sample():
    """Errors that grow over time: bands calibrated on earlier errors only under-cover, which
    in-sample calibration would hide (it would report ~80% by construction)."""
    growing = {o: 0.01 * 1.25 ** (o - 10) for o in range(10, 30)}
    fcs = {("team", (f"t{i}",)): SeriesForecast("Naive", np.ones(3), *[np.ones(3)] * 4,
                                                 backtest=b)
           for i, b in enumerate(fake(growing))}
    rows = accuracy_rows(fcs, lambda k: k[0])
    p = pooled(rows, ("team",), range(1, 4))
    assert p["n_band_points"] > 100
    assert p["coverage_80"] < 0.5, p
    steady = {("team", (f"t{i}",)): SeriesForecast("Naive", np.ones(3), *[np.ones(3)] * 4,
                                                   backtest=b)
              for i, b in enumerate(fake({o: 0.05 for o in range(10, 30)}))}
    assert 0.7 < pooled(accuracy_rows(steady, lambda k: k[0]), ("team",),
                        range(1, 4))["coverage_80"] <= 1.0


def test_build_writes_calibrated_bands_and_backtest_accuracy():
    con = make_db(duckdb.connect())
    res = fc.build_forecasts(con, as_of_month=date(2025, 12, 1))
    assert res.status == "created"
    assert con.execute("SELECT max(step) FROM forecast.forecast_values WHERE snapshot_id = ?",
                       [res.snapshot_id]).fetchone()[0] == fc.DEFAULT_HORIZON == 18
    rows = con.execute(
        "SELECT level, method_kind, step, n_points, n_band_points, wape, coverage_80, "
        "coverage_95 FROM forecast.backtest_accuracy WHERE snapshot_id = ?",
        [res.snapshot_id]).fetchall()
    kinds = {(lv, m) for lv, m, *_ in rows}
    assert kinds == {(lv, m) for lv in fc.LEVELS for m in ("mlcost", "seasonal_naive", "drift")}
    for _lv, _m, step, n, nb, wape, c80, c95 in rows:
        assert 1 <= step <= 12 and 0 <= nb <= n and wape is not None
        if nb:
            assert 0 <= c80 <= c95 <= 1
    # relative band half-width of the total never narrows with the horizon
    band = con.execute(
        "SELECT (hi_80 - point) / point, (hi_95 - point) / point FROM forecast.forecast_values "
        "WHERE snapshot_id = ? AND scenario = 'baseline' AND level = 'total' ORDER BY step",
        [res.snapshot_id]).fetchall()
    w80 = [float(a) for a, _ in band]
    assert all(b >= a - 1e-6 for a, b in zip(w80, w80[1:], strict=False)) and w80[-1] > w80[0]


# --- the issue's proof on the demo: 36 months ending 2026-09 --------------------------------

PROOF_LEVELS = ("total", "team", "team_workload")


@pytest.fixture(scope="module")
def demo36(pinned_demo):
    """The pinned demo (36 months to 2026-09, `mlcost demo --end-month 2026-09`): its run's own
    snapshot as of 2026-09, i.e. the pipeline's output (generator -> ingest -> dbt -> forecast)."""
    con = duckdb.connect(str(pinned_demo / "wh.duckdb"), read_only=True)
    row = con.execute(
        "SELECT snapshot_id FROM forecast.forecast_snapshots WHERE as_of_month = ? "
        "ORDER BY created_at DESC LIMIT 1", [date(2026, 9, 1)]).fetchone()
    assert row, "the pinned demo has no snapshot as of 2026-09"
    yield con, row[0]
    con.close()


def test_demo_backtest_meets_the_issue_targets(demo36):
    con, snap = demo36
    cols = ["level", "method_kind", "step", "n_points", "n_band_points", "wape", "coverage_80",
            "coverage_95"]
    rows = [dict(zip(cols, [float(v) if v is not None and i >= 5 else v
                            for i, v in enumerate(r)], strict=True))
            for r in con.execute(
                "SELECT level, method_kind, step, n_points, n_band_points, wape, coverage_80, "
                "coverage_95 FROM forecast.backtest_accuracy WHERE snapshot_id = ?",
                [snap]).fetchall()]
    p = pooled(rows, PROOF_LEVELS, range(1, 4))
    assert p["n_band_points"] >= 100, p
    assert 0.70 <= p["coverage_80"] <= 0.90, p
    assert 0.85 <= p["coverage_95"] <= 0.99, p
    total = [r for r in rows if r["level"] == "total" and r["method_kind"] == "mlcost"
             and r["step"] <= 3]
    assert len(total) == 3 and all(r["wape"] <= 0.08 for r in total), total
    naive = [r for r in rows if r["level"] == "total" and r["method_kind"] == "seasonal_naive"
             and r["step"] <= 3]
    assert sum(r["wape"] for r in total) < sum(r["wape"] for r in naive)


def test_the_report_shows_the_backtest_accuracy(pinned_demo, demo36):
    """The 2026Q3 report of the pinned demo shows the out-of-sample accuracy of the snapshot
    as of 2026-09 (its latest outlook) with the pooled coverage the test above checks."""
    con, snap = demo36
    html = (pinned_demo / "reports" / "2026Q3" / "report.html").read_text(encoding="utf-8")
    assert 'id="accuracy"' in html and snap in html
    cols = ["level", "method_kind", "step", "n_points", "n_band_points", "coverage_80",
            "coverage_95"]
    rows = [dict(zip(cols, [float(v) if i >= 5 else v for i, v in enumerate(r)], strict=True))
            for r in con.execute(
                "SELECT level, method_kind, step, n_points, n_band_points, coverage_80, "
                "coverage_95 FROM forecast.backtest_accuracy WHERE snapshot_id = ?",
                [snap]).fetchall()]
    p = pooled(rows, PROOF_LEVELS, range(1, 4))
    assert f"80% band coverage {round(p['coverage_80'] * 100, 1)}%" in html
    assert f"95% band coverage {round(p['coverage_95'] * 100, 1)}%" in html
