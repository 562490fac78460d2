"""What every what-if question shares: the month range of its inputs, the model check, the
read-only queries on the marts (bind parameters only) and the rounding of its answers.

Errors are ``ExitError``: a bad option value or an unknown model is USAGE (64); a table the
question needs that does not exist, or a model without the rows the question needs, is
MISSING_INPUT (66); inputs that exist but cannot be used (mixed currencies) are DATA_ERROR (65).
docs/whatif.md, *Errors and exit codes*.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import duckdb

from dagster_project.exit_codes import DATA_ERROR, MISSING_INPUT, USAGE, ExitError
from dagster_project.lib.calendar import add_months, month_start, months_between
from dagster_project.lib.warehouse import table_exists

DEFAULT_MONTHS = 3  # the default range: the last 3 complete months with data
HOURS_PER_MONTH = Decimal(730)  # 8,760 hours a year / 12: the providers' own monthly hours
CENT = Decimal("0.01")
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class MonthRange:
    first: date
    last: date

    @property
    def months(self) -> int:
        return months_between(self.first, self.last) + 1

    @property
    def end(self) -> date:
        """First day after the range (exclusive bound for queries)."""
        return add_months(self.last, 1)

    @property
    def hours(self) -> Decimal:
        """Calendar hours of the range (instances running all the time)."""
        return Decimal((self.end - self.first).days * 24)

    def header(self) -> dict:
        return {"from_month": f"{self.first:%Y-%m}", "to_month": f"{self.last:%Y-%m}",
                "months": self.months}


def number(text: str) -> Decimal:
    """argparse type of every numeric what-if flag: a finite decimal number."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def money(value: Decimal | None) -> Decimal | None:
    """Money in an answer: rounded half-up to cents (the inputs stay exact until here)."""
    return None if value is None else Decimal(value).quantize(CENT, ROUND_HALF_UP)


def ratio(value: Decimal | float | None, places: int = 4) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def positive(name: str, value, *, allow_zero: bool = False, above: float | None = None):
    """A flag value that must be > 0 (or >= 0, or > ``above``): else a usage error."""
    if value is None:
        return None
    bound = above if above is not None else 0
    bad = value < bound or (value == bound and not allow_zero)
    if bad:
        need = f"greater than {above}" if above is not None else (
            "zero or more" if allow_zero else "greater than zero")
        raise ExitError(f"{name} {value}: must be {need}.", USAGE)
    return value


def fraction(name: str, value):
    """A probability or share flag: 0 <= value < 1."""
    if value is not None and not 0 <= value < 1:
        raise ExitError(f"{name} {value}: must be a fraction from 0 to below 1 (e.g. 0.05).",
                        USAGE)
    return value


def require_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, why: str) -> None:
    if not table_exists(con, schema, table):
        raise ExitError(f"table {schema}.{table} does not exist in this warehouse, and {why}. "
                        "Run `mlcost run` (which builds it) first.", MISSING_INPUT)


def parse_month(flag: str, value: str | None) -> date | None:
    if value is None:
        return None
    if not _MONTH_RE.match(value):
        raise ExitError(f"{flag} {value!r}: expected YYYY-MM, e.g. 2026-07.", USAGE)
    return date(int(value[:4]), int(value[5:]), 1)


def last_complete_month(con: duckdb.DuckDBPyConnection) -> date | None:
    """The newest month that has cost data and has ended (marts.dim_calendar, the one owner of
    closed months)."""
    require_table(con, "marts", "dim_calendar", "the default --to (the last complete month) "
                  "comes from it; or pass --to YYYY-MM")
    ((m,),) = con.execute("select max(month) from marts.dim_calendar "
                          "where has_cost_data and is_closed").fetchall()
    return month_start(m) if m else None


def month_range(con: duckdb.DuckDBPyConnection, first: str | None, last: str | None
                ) -> MonthRange:
    """--from/--to (YYYY-MM, inclusive); defaults: --to the last complete month with data,
    --from two months before --to (3 months)."""
    f, t = parse_month("--from", first), parse_month("--to", last)
    if t is None:
        if f is not None:
            t = add_months(f, DEFAULT_MONTHS - 1)
        else:
            t = last_complete_month(con)
            if t is None:
                raise ExitError("marts.fct_costs_monthly has no complete month of cost data: "
                                "nothing to answer from. Load billing exports with "
                                "`mlcost run` first.", MISSING_INPUT)
    if f is None:
        f = add_months(t, -(DEFAULT_MONTHS - 1))
    if f > t:
        raise ExitError(f"--from {f:%Y-%m} is after --to {t:%Y-%m}.", USAGE)
    return MonthRange(f, t)


def known_models(con: duckdb.DuckDBPyConnection) -> list[str]:
    require_table(con, "marts", "fct_costs_monthly", "every what-if question reads it")
    return [m for (m,) in con.execute(
        "select distinct ml_model from marts.fct_costs_monthly "
        "where ml_model is not null and ml_model <> 'none' order by 1").fetchall()]


def check_model(con: duckdb.DuckDBPyConnection, model: str | None) -> str:
    if not model:
        raise ExitError("--model is required: name the ML model (e.g. --model query-ranker).",
                        USAGE)
    models = known_models(con)
    if model not in models:
        shown = ", ".join(models[:20]) + (" ..." if len(models) > 20 else "")
        raise ExitError(f"--model {model!r}: no such ML model in marts.fct_costs_monthly "
                        f"(models with cost: {shown or 'none'}).", USAGE)
    return model


def one_currency(currencies, what: str) -> str | None:
    """The single currency of a set of inputs; several is a data error (no FX here)."""
    found = sorted({c for c in currencies if c})
    if len(found) > 1:
        raise ExitError(f"{what} is billed in several currencies ({', '.join(found)}); a what-if "
                        "answer adds amounts, so it needs one currency. Narrow the input "
                        "(--provider, --from/--to).", DATA_ERROR)
    return found[0] if found else None


def monthly_workload_cost(con: duckdb.DuckDBPyConnection, model: str, workload: str,
                          rng: MonthRange) -> tuple[Decimal, Decimal, str | None]:
    """(total, per month, currency) of a model's workload effective cost over the range,
    summed exactly as marts.fct_costs_monthly (= `mlcost export costs`) holds it; months without
    cost count as zero."""
    rows = con.execute(
        """select billing_currency, sum(effective_cost) from marts.fct_costs_monthly
           where ml_model = ? and workload = ? and billing_month >= ? and billing_month < ?
           group by billing_currency""", [model, workload, rng.first, rng.end]).fetchall()
    currency = one_currency([c for c, _ in rows], f"{model}'s {workload} cost")
    total = sum((Decimal(v) for _, v in rows if v is not None), Decimal(0))
    return total, total / rng.months, currency
