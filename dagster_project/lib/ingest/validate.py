"""Check a loaded (uncommitted) file: what makes it unusable raises `BadInputError`, what is
only suspicious becomes a ledger warning. The order of the checks is the order of
docs/bad-input.md: the first problem that makes the file unusable is the one named."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .detect import Detection
from .errors import BadInputError
from .families import MONEY, FamilySpec
from .read import present_columns, tag_columns
from .sql import quote_ident

# A line item whose absolute amount reaches this (in its billing currency) is flagged, not
# dropped: no real single charge is that large, but a unit or decimal-point bug produces it.
DEFAULT_ABSURD_AMOUNT = "1000000000"
# Tags larger than this (characters of JSON per row) are flagged; they still load verbatim.
HUGE_TAGS_CHARS = 65536


def absurd_amount() -> str:
    return os.environ.get("MLCOST_ABSURD_AMOUNT", DEFAULT_ABSURD_AMOUNT)


def _first_bad(con, table: str, file_id: str, predicate: str, column: str | None = None):
    col = quote_ident(column) if column else "null"
    return con.execute(
        f"select _row_number, {col} from raw.{table} where _file_id = ? and ({predicate}) "
        "order by _row_number limit 1",
        [file_id],
    ).fetchone()


def validate_rows(con, path: Path, det: Detection, spec: FamilySpec, file_id: str) -> int:
    table = spec.raw_table
    missing = [c for c in spec.required_columns if c not in present_columns(det)]
    if missing:
        named = ", ".join(
            f"{c} (`{HEADER_SPELLING[c]}`)" if c in HEADER_SPELLING and det.source_format == "csv"
            else c for c in missing)
        raise BadInputError(
            path,
            f"is missing mandatory column(s) {named} for a {det.family} "
            f"export (schema version {det.schema_version}).",
        )
    (rows,) = con.execute(
        f"select count(*) from raw.{table} where _file_id = ?", [file_id]
    ).fetchone()
    if rows == 0:
        raise BadInputError(path, "has a header but no data rows.")
    for col in spec.money_columns:
        if col not in present_columns(det):
            continue
        q = quote_ident(col)
        bad = _first_bad(con, table, file_id,
                         f"{q} is not null and try_cast({q} as {MONEY}) is null", col)
        if bad:
            (is_number,) = con.execute("select try_cast(? as double) is not null",
                                       [bad[1]]).fetchone()
            if is_number:
                raise BadInputError(
                    path, f"has an amount {bad[1]!r} outside the exact money range (at most 14 "
                    "integer digits): it cannot be stored without rounding.",
                    row=bad[0], column=col)
            raise BadInputError(path, f"has a non-numeric amount {bad[1]!r}; expected a "
                                "decimal number such as 12.50.", row=bad[0], column=col)
    for col in spec.date_columns:
        if col not in present_columns(det):
            continue
        q = quote_ident(col)
        bad = _first_bad(con, table, file_id,
                         f"{q} is not null and mlcost_ts({q}) is null "
                         f"and mlcost_date({q}) is null", col)
        if bad:
            raise BadInputError(path, f"has an unparseable date {bad[1]!r}; expected a date "
                                "or timestamp such as 2024-09-01T00:00:00Z.",
                                row=bad[0], column=col)
    period_col = _expr_column(spec, spec.period_expr)
    bad = _first_bad(con, table, file_id, "_billing_period is null", period_col)
    if bad:
        value = f" from {bad[1]!r}" if bad[1] is not None else " (the cell is empty)"
        raise BadInputError(path, f"has a row whose billing period cannot be determined{value}"
                            f"; expected {PERIOD_FORMS.get(period_col, 'a date')}.",
                            row=bad[0], column=period_col)
    if spec.is_billing:
        bad = _first_bad(con, table, file_id, "_billing_account_id is null")
        if bad:
            raise BadInputError(path, "has a row with no billing account id.", row=bad[0])
        _check_currency_present(con, path, spec, file_id)
        # One billing account bills in one currency per period; two means concatenated or
        # corrupt exports, and the reconciliation (per currency) could not catch the mix-up.
        mixed = con.execute(
            "select _billing_account_id, _billing_period, "
            "string_agg(distinct _currency, ', ' order by _currency), "
            "arg_min(_currency, _row_number) "
            f"from raw.{table} where _file_id = ? group by all "
            "having count(distinct _currency) > 1 limit 1",
            [file_id],
        ).fetchone()
        if mixed:
            # Name the first row that departs from the slice's first currency.
            (first_other,) = con.execute(
                f"select min(_row_number) from raw.{table} where _file_id = ? "
                "and _billing_account_id is not distinct from ? and _billing_period = ? "
                "and _currency is distinct from ?",
                [file_id, mixed[0], mixed[1], mixed[3]],
            ).fetchone()
            raise BadInputError(
                path,
                f"mixes currencies ({mixed[2]}) in billing account {mixed[0]} for billing "
                f"period {mixed[1]:%Y-%m}; one account and period must have one billing "
                "currency.",
                row=first_other,
            )
    _check_header(path, det, spec)
    return rows


# How the CSV exports write the mandatory columns, for messages (canonical names are ours).
HEADER_SPELLING = {
    "bill_payer_account_id": "bill/PayerAccountId",
    "line_item_unblended_cost": "lineItem/UnblendedCost",
    "line_item_line_item_type": "lineItem/LineItemType",
    "line_item_usage_start_date": "lineItem/UsageStartDate",
    "bill_billing_period_start_date": "bill/BillingPeriodStartDate",
    "line_item_currency_code": "lineItem/CurrencyCode",
    "cost_my_cost": "cost/myCost",
    "line_item_interval_usage_start": "lineItem/intervalUsageStart",
    "cost_currency_code": "cost/currencyCode",
    "billed_cost": "BilledCost", "effective_cost": "EffectiveCost",
    "billing_account_id": "BillingAccountId", "billing_currency": "BillingCurrency",
    "billing_period_start": "BillingPeriodStart", "charge_period_start": "ChargePeriodStart",
    "charge_category": "ChargeCategory", "provider_name": "ProviderName",
    "meter_category": "MeterCategory", "charge_type": "ChargeType", "date": "Date",
}


# What a billing period column holds, for messages.
PERIOD_FORMS = {"invoice_month": "a month as YYYYMM, such as 202209",
                "fiscal_quarter": "a quarter as YYYYQn, such as 2026Q2"}


def _expr_column(spec: FamilySpec, expr: str) -> str | None:
    """The raw column a family expression reads first (fixed code, so a plain name search)."""
    names = [c for c in spec.known_columns if re.search(rf"\b{c}\b", expr)]
    return min(names, key=expr.index) if names else None


def _check_currency_present(con, path: Path, spec: FamilySpec, file_id: str) -> None:
    """Every billing row has a currency once zero-cost rows were filled (land.py)."""
    if spec.billed_expr is None:
        return
    bad = con.execute(
        f"select _row_number, coalesce({spec.billed_expr}, 0) from raw.{spec.raw_table} "
        "where _file_id = ? and _currency is null order by _row_number limit 1",
        [file_id]).fetchone()
    if not bad:
        return
    if bad[1] != 0:
        problem = (f"has a cost row with a blank currency and a non-zero cost "
                   f"({bad[1].normalize():f}); "
                   "expected its billing currency (e.g. USD). Only rows that cost nothing "
                   "take their billing account's currency from the same file.")
    else:
        problem = ("has a zero-cost row with a blank currency and no other row of its billing "
                   "account with a currency to take it from; expected a billing currency "
                   "(e.g. USD).")
    raise BadInputError(path, problem, row=bad[0],
                        column=_expr_column(spec, spec.currency_expr))


def _check_header(path: Path, det: Detection, spec: FamilySpec) -> None:
    """Header problems, checked last so that a more basic problem of the file is named first.

    Headers that fold to one canonical name are only a problem when staging reads that name
    (it could not tell which one is meant); two tag columns are two tags, and other extra
    columns are kept side by side. A tag header given twice verbatim is ambiguous.
    """
    for first, later, snake in det.duplicates:
        if snake in spec.known_columns and not (
                spec.tag_prefix and snake.startswith(spec.tag_prefix)):
            raise BadInputError(
                path,
                f"has duplicate column names: {first!r} and {later!r} (both read as "
                f"{snake!r}); mlcost reads this column and cannot tell which one is meant.",
                column=snake,
            )
    if det.nameless:
        raise BadInputError(path, f"header column {det.nameless[0]} has no name; expected a "
                            "column name in every header field.")
    keys = [k for k, _ in tag_columns(det, spec)]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise BadInputError(path, f"has the tag column for key {repeated[0]!r} twice (the same "
                            "header, verbatim); which value counts is ambiguous.")


def _tags_braced(q: str, family: str) -> str:
    # Azure writes tags without the outer braces ("k": "v"); staging adds them the same way.
    if family == "azure_cost_details":
        return f"case when left(trim({q}), 1) = '{{' then {q} else '{{' || {q} || '}}' end"
    return q


def _warning_checks(det: Detection, spec: FamilySpec) -> list[tuple[str, str, str, list]]:
    """(kind, column, SQL predicate, its parameters) for every flag that applies to the file."""
    present = present_columns(det)
    checks: list[tuple[str, str, str, list]] = []
    for col in (c for c in spec.money_columns if c in present):
        checks.append(("absurd", col, f"abs(try_cast({quote_ident(col)} as {MONEY})) >= "
                       f"?::{MONEY}", [absurd_amount()]))
    for col in (c for c in spec.usage_columns if c in present):
        checks.append(("negative_usage", col, f"try_cast({quote_ident(col)} as {MONEY}) < 0 "
                       f"and ({spec.usage_row_expr})", []))
    for col in (c for c in spec.tag_json_columns if c in present):
        q = quote_ident(col)
        braced = _tags_braced(q, det.family)
        checks.append(("tags_invalid", col, f"nullif(trim({q}), '') is not null and "
                       f"json_type(try_cast({braced} as json)) is distinct from 'OBJECT'", []))
        checks.append(("tags_nested", col, "list_bool_or(list_transform(map_values(try_cast("
                       f"try_cast({braced} as json) as map(varchar, json))), "
                       "lambda v: json_type(v) in ('OBJECT', 'ARRAY')))", []))
        checks.append(("tags_huge", col, f"length({q}) > ?", [HUGE_TAGS_CHARS]))
        # A key given twice: the tag set is ambiguous (FOCUS Tags keys are unique).
        checks.append(("tags_duplicate_keys", col, f"json_type(try_cast({braced} as json)) = "
                       f"'OBJECT' and len(json_keys(try_cast({braced} as json))) <> "
                       f"len(list_distinct(json_keys(try_cast({braced} as json))))", []))
    return checks


def row_warnings(con, path: str, det: Detection, spec: FamilySpec, file_id: str) -> list[str]:
    """Suspicious but loadable rows: flagged in the ledger, loaded as they are.

    Dropping them would make the source totals disagree with the provider's invoice; the
    message names the first such row so it can be checked at the source. One scan of the file's
    rows computes every flag.
    """
    checks = _warning_checks(det, spec)
    if not checks:
        return []
    exprs, params = [], []
    for _, col, predicate, p in checks:
        q = quote_ident(col)
        for agg in ("count(*)", f"arg_min({q}, _row_number)", "min(_row_number)"):
            exprs.append(f"{agg} filter (where {predicate})")
            params += p
    found = con.execute(
        f"select {', '.join(exprs)} from raw.{spec.raw_table} where _file_id = ?",
        [*params, file_id]).fetchone()
    messages = []
    for i, (kind, col, _, _) in enumerate(checks):
        n, value, row = found[3 * i: 3 * i + 3]
        if not n:
            continue
        if kind == "absurd":
            problem = (f"has {n} row(s) with an amount of {absurd_amount()} or more in absolute "
                       f"value (first: {value}); loaded as is. Check the export, or raise "
                       "MLCOST_ABSURD_AMOUNT if such amounts are real.")
        elif kind == "negative_usage":
            problem = (f"has {n} usage row(s) with a negative usage quantity (first: {value}); "
                       "loaded as is.")
        elif kind == "tags_invalid":
            shown = value if len(value) <= 60 else value[:57] + "..."
            problem = f"has {n} row(s) whose tags are not a JSON object (first: {shown!r})"
            if spec.tag_json_strict:
                raise BadInputError(path, problem + "; this export writes tags as JSON, so the "
                                    "file is corrupt.", row=row, column=col)
            problem += "; loaded verbatim, but these tags cannot be used for attribution."
        elif kind == "tags_nested":
            problem = (f"has {n} row(s) whose tags nest objects or lists (tags are flat "
                       "key/value pairs); loaded verbatim.")
        elif kind == "tags_duplicate_keys":
            problem = (f"has {n} row(s) whose tags give the same key twice; loaded verbatim, "
                       "but which value counts is ambiguous: check the export.")
        else:
            problem = (f"has {n} row(s) whose tags are longer than {HUGE_TAGS_CHARS} "
                       "characters; loaded verbatim.")
        messages.append(BadInputError(path, problem, row=row, column=col).message)
    return messages


def dataset_type_of(con, det: Detection, spec: FamilySpec, file_id: str) -> str:
    if det.family == "focus":
        return "focus"
    if det.family != "azure_cost_details":
        return "cost"
    row = con.execute(
        f"""select
            count(*) filter (where charge_type in ('UnusedReservation', 'UnusedSavingsPlan')),
            count(*) filter (where pricing_model in ('Reservation', 'SavingsPlan')
                and charge_type = 'Usage'
                and coalesce(try_cast(cost_in_billing_currency as {MONEY}),
                             try_cast(cost as {MONEY}), 0) <> 0)
           from raw.azure_cost_details where _file_id = ?""",
        [file_id],
    ).fetchone()
    # Amortized data shows unused commitment and prices covered usage; actual data does not.
    return "amortized" if (row[0] or row[1]) else "actual"

