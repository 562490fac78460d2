"""Daily cost anomaly detection (docs/anomalies.md): the detector on synthetic series, the
warehouse side on a hand-made cost table (exact money, drivers, month-end rows), and precision
and recall on a small generated demo with injected anomalies and decoys."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from decimal import Decimal

import duckdb
import numpy as np
import pytest

from dagster_project.lib.anomalies.build import find_anomalies
from dagster_project.lib.anomalies.detect import Params, detect, nan_quantile_rows

START = dt.date(2026, 3, 2)  # a Monday


def weekly(n: int = 120, weekday: float = 1000.0, weekend: float = 300.0, noise: float = 0.03,
           seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    days = np.arange(n)
    level = np.where(days % 7 >= 5, weekend, weekday)  # day 0 is a Monday
    return level * (1 + noise * rng.standard_normal(n))


# ------------------------------------------------------------------ the detector
def test_weekly_pattern_alone_is_not_an_anomaly():
    # Weekends at 30 % of weekdays: a naive mean baseline would flag every weekend.
    assert detect(weekly()) == []


def test_spike_and_drop_found_on_their_days():
    x = weekly()
    x[80:82] *= 3.0  # two-day spike (days 80-81, a Thursday and Friday)
    x[100] *= 0.1  # one-day drop
    events = detect(x)
    assert [(e.start, e.end, e.direction) for e in events] == [(80, 81, "spike"),
                                                               (100, 100, "drop")]
    assert all(e.score >= Params().z for e in events)
    assert not events[0].is_open


def test_spike_on_a_weekend_day():
    x = weekly()
    x[89] *= 4.0  # a Sunday
    assert [(e.start, e.direction) for e in detect(x)] == [(89, "spike")]


def test_a_weekday_with_a_heavy_tail_keeps_its_normal_range():
    # A weekly training run spills into Thursday by a varying amount: a little most weeks, a
    # lot every fifth week. A Thursday as high as the tail has been is normal; far above it is
    # not. (Judged after the first 13 weeks: before that the tail is not known yet.)
    x = weekly(n=140)
    thursdays = np.arange(3, 140, 7)
    x[thursdays] += [300.0 + 10 * k if k % 5 == 1 else 20.0 + k for k in range(len(thursdays))]
    day = int(thursdays[-2])  # not a tail week (k = 18)
    x[day] = 1000.0 + 420.0
    assert [e for e in detect(x) if e.start >= 91] == []
    x[day] = 1000.0 + 2500.0
    assert [(e.start, e.direction) for e in detect(x) if e.start >= 91] == [(day, "spike")]


def test_step_that_persists_is_a_level_shift_not_reported():
    x = weekly()
    x[70:] *= 1.8  # a launch: the new level stays
    assert detect(x) == []
    y = weekly()
    y[70:] *= 0.4  # a retirement
    assert detect(y) == []


def test_step_at_the_end_is_reported_open():
    x = weekly()
    x[117:] *= 3.0  # three days before the end: too early to tell a spike from a step
    events = detect(x)
    assert [(e.start, e.end, e.is_open) for e in events] == [(117, 119, True)]


def test_small_changes_stay_below_the_money_and_relative_thresholds():
    # A 15 % move is not reported (below min_relative), nor is a $40 move on a small series.
    x = weekly()
    x[90] *= 1.15
    small = weekly(weekday=60.0, weekend=20.0, noise=0.01)
    small[90] += 40.0
    assert detect(x) == [] and detect(small) == []


def test_constant_series_uses_a_scale_floor():
    # One always-on instance: residuals are exactly 0, so MAD is 0; a 2 % wobble is normal.
    x = np.full(100, 500.0)
    x[60] = 510.0
    assert detect(x) == []
    x[80] = 1500.0
    assert [(e.start, e.direction) for e in detect(x)] == [(80, "spike")]


@pytest.mark.parametrize("seed", range(40))
def test_row_quantile_equals_numpys_nanpercentile(seed):
    """The vectorised quantile gives numpy's floats exactly: rows with gaps, rows all NaN,
    one column, values of very different sizes."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(int(rng.integers(1, 200)), int(rng.integers(1, 20))))
    a *= rng.choice([1e-3, 1.0, 1e4])
    a[rng.random(a.shape) < rng.random()] = np.nan
    a[0] = np.nan
    with warnings.catch_warnings():  # all-NaN rows: numpy warns, and gives NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanpercentile(a, 85, axis=1)
    assert np.array_equal(nan_quantile_rows(a, 0.85), expected, equal_nan=True)


def test_new_series_is_not_judged_before_it_has_history():
    x = np.concatenate([np.zeros(40), weekly(80)])
    assert detect(x, first=40) == []


# ------------------------------------------------------------------ the warehouse side
COLUMNS = """provider varchar, billing_currency varchar, billing_account_id varchar,
    sub_account_id varchar, team varchar, service_name varchar, resource_id varchar,
    charge_category varchar, commitment_discount_status varchar, charge_date date,
    charge_period_start timestamp, charge_period_end timestamp, effective_cost decimal(38,24)"""
INSERT = "insert into marts.fct_cost_allocations values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


@pytest.fixture
def cost_table():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(f"create table marts.fct_cost_allocations ({COLUMNS})")
    rows = []
    rng = np.random.default_rng(3)
    for i in range(112):
        day = START + dt.timedelta(days=i)
        start = dt.datetime.combine(day, dt.time())
        for rid, base in (("i-big", Decimal("400")), ("i-small", Decimal("100"))):
            cost = base * (Decimal("0.3") if day.weekday() >= 5 else 1)
            cost += Decimal(str(round(float(rng.normal(0, 4)), 6)))
            if rid == "i-big" and i == 95:
                cost += Decimal("1234.5")  # the planted spike (a Friday)
            rows.append(("aws", "USD", "payer", "acct-1", "team-a", "EC2", rid, "Usage", None,
                         day, start, start + dt.timedelta(days=1), cost))
        if day.day == 1:  # month-end effects: a monthly fee, the month's tax, unused commitment
            end = dt.datetime(day.year + day.month // 12, day.month % 12 + 1, 1)
            rows.append(("aws", "USD", "payer", "acct-1", "team-a", "EC2", "fee", "Usage", None,
                         day, start, end, Decimal("9000")))
            rows.append(("aws", "USD", "payer", "acct-1", "team-a", "EC2", None, "Tax", None,
                         day, start, start + dt.timedelta(days=1), Decimal("5000")))
            rows.append(("aws", "USD", "payer", "acct-1", "team-a", "EC2", "sp", "Usage",
                         "Unused", day, start, start + dt.timedelta(days=1), Decimal("3000")))
    con.executemany(INSERT, rows)
    yield con, rows
    con.close()


def test_warehouse_anomaly_has_exact_money_and_its_driver(cost_table):
    con, rows = cost_table
    found = find_anomalies(con)
    # The spike, once per series kind; no month-start anomaly (fee, tax, unused commitment).
    assert sorted((a.series_kind, a.start_date, a.direction) for a in found) == [
        ("account_service", START + dt.timedelta(95), "spike"),
        ("team_service", START + dt.timedelta(95), "spike")]
    a = found[0]
    day = START + dt.timedelta(95)
    daily = {}
    for r in rows:
        if r[7] == "Usage" and r[8] is None and r[11] - r[10] == dt.timedelta(days=1):
            daily[r[9]] = daily.get(r[9], Decimal(0)) + r[12]
    expected = sorted(daily[day - dt.timedelta(7 * k)] for k in range(1, 5))
    assert a.actual_cost == daily[day]
    assert a.expected_cost == (expected[1] + expected[2]) / 2  # exact median of four
    assert a.cost_impact == a.actual_cost - a.expected_cost
    assert isinstance(a.cost_impact, Decimal) and Decimal("1150") < a.cost_impact < Decimal("1320")
    assert a.top_resource_id == "i-big" and a.team == "team-a" and a.sub_account_id == "acct-1"
    assert Decimal("1200") < a.top_resource_impact < Decimal("1270")
    drivers = json.loads(a.top_resources)
    assert drivers[0]["resource_id"] == "i-big" and Decimal(drivers[0]["impact"]) > 1200
    assert all(Decimal(d["impact"]) > 0 for d in drivers)  # a spike lists only increases
