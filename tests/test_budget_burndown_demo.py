"""The demo behind the burn-down: 36 months by default, and budgets near each team's spend with
the planted postures (two under, one a few % over, one materially over), future quarters
included with their seasonality."""

from __future__ import annotations

import datetime as dt
import inspect
from decimal import Decimal

from dagster_project import cli
from dagster_project.lib.generate import budgets as B
from dagster_project.lib.generate import company as C
from dagster_project.lib.generate.core import generate
from dagster_project.lib.generate.window import DEFAULT_MONTHS, add_months


def test_the_demo_generates_36_months_by_default():
    assert DEFAULT_MONTHS == 36
    assert inspect.signature(generate).parameters["months"].default == DEFAULT_MONTHS
    parser = cli.build_parser()
    for command in (["generate", "--out", "x"], ["demo"]):
        assert parser.parse_args(command).months == DEFAULT_MONTHS
    # the pinned demo's window: 2023-10 .. 2026-09
    end = dt.date(2026, 9, 1)
    assert add_months(end, -(DEFAULT_MONTHS - 1)) == dt.date(2023, 10, 1)


def _history(months: list[dt.date]) -> dict[tuple[str, int], float]:
    """Synthetic generator costs: 2%/month growth, recommendations x1.5 in December."""
    out = {}
    for i, m in enumerate(months):
        for k, team in enumerate(C.TEAM_NAMES):
            season = 1.5 if team == "recommendations" and m.month == 12 else 1.0
            out[(team, i)] = (10_000 + 1000 * k) * 1.02 ** i * season
    return out


def test_future_quarters_keep_growth_and_seasonality():
    months = [add_months(dt.date(2023, 10, 1), i) for i in range(36)]
    spend = B.expected_spend(_history(months), months)
    team = "recommendations"
    now, year_ago = spend[(team, (2026, 3))], spend[(team, (2025, 3))]
    assert spend[(team, (2026, 4))] == now * spend[(team, (2025, 4))] / year_ago
    assert spend[(team, (2027, 1))] == now * spend[(team, (2026, 1))] / year_ago
    # the December peak stays in the plan: Q4 well above Q3, and above the Q1 after it
    assert spend[(team, (2026, 4))] > 1.1 * spend[(team, (2026, 3))]
    assert spend[(team, (2026, 4))] > spend[(team, (2027, 1))]
    # a team without a peak: plain 2% a month
    flat = spend[("fraud-detection", (2026, 4))] / spend[("fraud-detection", (2026, 3))]
    assert abs(flat - 1.02 ** 3) < 1e-9
    assert len({q for _, q in spend}) == 12 + B.FUTURE_QUARTERS


def test_short_windows_fall_back_to_the_last_quarter():
    months = [add_months(dt.date(2026, 6, 1), i) for i in range(4)]  # Jun..Sep
    spend = B.expected_spend(_history(months), months)
    last = spend[("ml-platform", (2026, 3))]
    assert spend[("ml-platform", (2026, 4))] == last * 1.04 ** 3
    # 2026Q2 holds only June: its budget is for the whole quarter (June x 3)
    assert spend[("ml-platform", (2026, 2))] == \
        _history(months)[("ml-platform", 0)] * 3 * B.ATTRIBUTION["ml-platform"]


def test_marketplace_seat_shares_match_the_seed():
    import csv

    from dagster_project import settings

    with open(settings.PROJECT_ROOT / "seeds" / "shared_cost_fixed_shares.csv") as fh:
        seed = {r["team"]: Decimal(r["share"]) * 100 for r in csv.DictReader(fh)
                if r["rule_id"] == "ml_tooling_marketplace"}
    assert seed == {t: Decimal(s) for t, s in C.MARKETPLACE_SEAT_SHARES.items()}


def test_budgets_follow_each_teams_posture():
    months = [add_months(dt.date(2023, 10, 1), i) for i in range(36)]
    history = _history(months)
    spend = B.expected_spend(history, months)
    lines = B.budget_lines(history, months, seed=42)
    assert len(lines) == len(C.TEAM_NAMES) * 14
    for line in lines:
        quarter, team, amount, currency = line.strip().split(",")
        q = (int(quarter[:4]), int(quarter[5]))
        ratio = float(Decimal(amount)) / spend[(team, q)]
        posture = B.POSTURE[team]
        assert currency == "USD" and Decimal(amount) % 100 == 0
        # +-1% jitter, and rounding to 100 moves a >10k budget by at most 0.5%
        assert posture * (1 - B.JITTER) - 0.005 <= ratio <= posture * (1 + B.JITTER) + 0.005
    # two teams under budget, one a few % over, one materially over
    assert B.POSTURE["search-ranking"] > 1 and B.POSTURE["ml-platform"] > 1
    assert 0.95 <= B.POSTURE["fraud-detection"] < 1
    assert B.POSTURE["recommendations"] <= 0.9
    assert B.budget_lines(history, months, seed=42) == lines  # deterministic
