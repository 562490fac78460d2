"""Calendar window of the generated data (months and days)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

# Three years: every calendar month appears three times, so a forecast can learn the yearly
# seasonality (the recommendations Q4 peak). `mlcost generate` / `mlcost demo` repeat it.
DEFAULT_MONTHS = 36


def default_end_month(today: dt.date | None = None) -> dt.date:
    """Last month of the last complete calendar quarter before ``today``."""
    today = today or dt.date.today()
    quarter_first_month = (today.month - 1) // 3 * 3 + 1
    first = dt.date(today.year, quarter_first_month, 1)
    prev = first - dt.timedelta(days=1)
    return dt.date(prev.year, prev.month, 1)


def add_months(d: dt.date, n: int) -> dt.date:
    m = d.year * 12 + d.month - 1 + n
    return dt.date(m // 12, m % 12 + 1, 1)


@dataclass(frozen=True)
class Month:
    index: int
    start: dt.date
    end: dt.date  # first day of the next month (exclusive)
    day0: int  # window day index of the month's first day
    n_days: int

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m}"

    @property
    def yyyymm(self) -> str:
        return f"{self.start:%Y%m}"


@dataclass
class Window:
    months: list[Month]
    start: dt.date
    end: dt.date  # exclusive
    n_days: int
    days: np.ndarray = field(repr=False)  # datetime64[D]
    weekday: np.ndarray = field(repr=False)  # 0 = Monday
    month_of_year: np.ndarray = field(repr=False)

    def date(self, i: int) -> dt.date:
        return self.start + dt.timedelta(days=int(i))


def make_window(months: int, end_month: dt.date) -> Window:
    if months < 1:
        raise ValueError("months must be >= 1")
    end_first = dt.date(end_month.year, end_month.month, 1)
    start = add_months(end_first, -(months - 1))
    end = add_months(end_first, 1)
    out: list[Month] = []
    day0 = 0
    for i in range(months):
        s = add_months(start, i)
        e = add_months(s, 1)
        n = (e - s).days
        out.append(Month(i, s, e, day0, n))
        day0 += n
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D"))
    weekday = ((days.astype("int64") + 3) % 7).astype(np.int8)  # 1970-01-01 was a Thursday
    moy = np.array([(start + dt.timedelta(days=int(i))).month for i in range(len(days))],
                   dtype=np.int8)
    return Window(out, start, end, len(days), days, weekday, moy)
