"""Load landed files into the raw layer, one atomic transaction per file.

A file is identified by the sha256 of its content: loading it again is a no-op. Each file is
split into delivery slices (provider, billing account, billing period, dataset type, currency).
A newer delivery of a (provider, billing account, billing period) supersedes the older one,
which stays in raw and in the ledger, marked not current (see `_supersede` for parts of one
delivery, Azure's complementary actual/amortized exports and conflicting exports of one slice
in one folder). Bad files are quarantined (ledger row with the reason) and never stop good
files from loading; suspicious rows are loaded and flagged (ledger `warnings`). Files younger
than the settle time, or changing while read, are left for the next run.
The catalogue of bad inputs and what happens to each is docs/bad-input.md.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import logging
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from .detect import Detection, detect
from .errors import BadInputError, NotAnExport
from .families import FAMILIES, MONEY, FamilySpec
from .sql import install, quote_ident

LINEAGE_COLUMNS = {
    "_file_id": "varchar",
    "_row_number": "bigint",
    "_billing_account_id": "varchar",
    "_billing_period": "date",
    "_provider": "varchar",
    "_currency": "varchar",
    "_loaded_at": "timestamp",
}

META_DDL = [
    "create schema if not exists raw",
    "create schema if not exists meta",
    """create table if not exists meta.load_ledger (
        file_id varchar not null, path varchar not null, file_name varchar, directory varchar,
        size_bytes bigint, modified_at timestamp, family varchar, provider varchar,
        source_format varchar, schema_version varchar, dataset_type varchar,
        status varchar not null, row_count bigint, billed_total decimal(38, 24),
        effective_total decimal(38, 24), error varchar, loaded_at timestamp not null,
        warnings varchar)""",
    # Warehouses made before warnings existed.
    "alter table meta.load_ledger add column if not exists warnings varchar",
    """create table if not exists meta.deliveries (
        file_id varchar not null, path varchar not null, directory varchar not null,
        family varchar not null, provider varchar not null, billing_account_id varchar,
        billing_period date, dataset_type varchar not null, currency varchar,
        row_count bigint not null, billed_total decimal(38, 24),
        effective_total decimal(38, 24), is_current boolean not null, superseded_by varchar,
        loaded_at timestamp not null)""",
]

GCP_STRUCTS = {
    "service": ("id", "description"),
    "sku": ("id", "description"),
    "project": ("id", "number", "name", "labels", "ancestry_numbers", "ancestors"),
    "location": ("location", "country", "region", "zone"),
    "resource": ("name", "global_name"),
    "usage": ("amount", "unit", "amount_in_pricing_units", "pricing_unit"),
    "invoice": ("month", "publisher_type"),
    "price": ("effective_price", "tier_start_amount", "unit", "pricing_unit_quantity"),
}
GCP_LIST_COLUMNS = ("credits", "labels", "system_labels", "project_labels", "tags",
                    "project_ancestors")


# Never billing data: checksums, partial downloads, documentation beside the exports.
SKIPPED_SUFFIXES = (".crc", ".tmp", ".part", ".md", ".txt", ".pdf", ".sha256", ".manifest")

log = logging.getLogger(__name__)

# A file modified less than this many seconds ago may still be being written: leave it for the
# next run. Demo and tests, which write their files before loading them, set it to 0.
DEFAULT_SETTLE_SECONDS = 10.0
# A line item whose absolute amount reaches this (in its billing currency) is flagged, not
# dropped: no real single charge is that large, but a unit or decimal-point bug produces it.
DEFAULT_ABSURD_AMOUNT = "1000000000"
# Tags larger than this (characters of JSON per row) are flagged; they still load verbatim.
HUGE_TAGS_CHARS = 65536
# Leading rows compared when checking whether a same-folder file repeats another's rows (a
# second copy of an export repeats its first rows; another part of it does not).
OVERLAP_SAMPLE_ROWS = 200
# Test hook for the crash-recovery test: touch this file after the rows are inserted and before
# the commit, then wait to be killed. Never set in production.
HOLD_ENV = "MLCOST_TEST_HOLD_LOAD_AFTER_INSERT"


def settle_seconds() -> float:
    return float(os.environ.get("MLCOST_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS))


def absurd_amount() -> str:
    return os.environ.get("MLCOST_ABSURD_AMOUNT", DEFAULT_ABSURD_AMOUNT)


@dataclass
class FileOutcome:
    path: str
    file_id: str | None
    status: str  # loaded | duplicate | quarantined | skipped | waiting
    family: str | None = None
    source_format: str | None = None
    schema_version: str | None = None
    dataset_type: str | None = None
    rows: int = 0
    error: str | None = None
    slices: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestResult:
    outcomes: list[FileOutcome]

    def by_status(self, status: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def errors(self) -> list[str]:
        return [o.error for o in self.outcomes if o.status == "quarantined" and o.error]

    @property
    def warnings(self) -> list[str]:
        return [w for o in self.outcomes if o.status == "loaded" for w in o.warnings]


def ensure_meta(con: duckdb.DuckDBPyConnection) -> None:
    install(con)
    for ddl in META_DDL:
        con.execute(ddl)
    for spec in FAMILIES.values():
        ensure_raw_table(con, spec)


def ensure_raw_table(con: duckdb.DuckDBPyConnection, spec: FamilySpec) -> None:
    cols = [f"{quote_ident(c)} {t}" for c, t in LINEAGE_COLUMNS.items()]
    cols += [f"{quote_ident(c)} varchar" for c in spec.known_columns]
    con.execute(f"create table if not exists raw.{spec.raw_table} ({', '.join(cols)})")
    # A warehouse made by an older mlcost lacks columns that staging now reads.
    existing = {r[0] for r in con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = ?", [spec.raw_table]).fetchall()}
    for col in spec.known_columns:
        if col not in existing:
            con.execute(f"alter table raw.{spec.raw_table} add column {quote_ident(col)} varchar")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def discover(landing: Path) -> list[Path]:
    """Every regular file below `landing` (hidden files and folders skipped), oldest first.

    Symlinked folders are followed once; a link back into a visited folder is ignored, so a
    symlink loop cannot hang the scan.
    """
    landing = Path(landing)
    if not landing.exists():
        raise BadInputError(landing, "does not exist.", hint="Set --landing or MLCOST_LANDING.")
    if landing.is_file():
        return [landing]
    found: list[Path] = []
    seen_dirs: set[tuple[int, int]] = set()
    for root, dirs, files in os.walk(landing, followlinks=True):
        st = os.stat(root)
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            dirs[:] = []
            continue
        seen_dirs.add(key)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or name.lower().endswith(SKIPPED_SUFFIXES):
                continue
            p = Path(root) / name
            if p.is_file():
                found.append(p)
    found.sort(key=lambda p: (p.stat().st_mtime, str(p)))
    return found


# ---------------------------------------------------------------------------------------------
# Reading a file into canonical text columns


def _csv_source(det: Detection) -> tuple[str, list]:
    nullstr = ["", "NULL"] if det.family == "focus" else [""]
    sql = (
        "select row_number() over () as _row_number, * from read_csv(?, header = true, "
        "all_varchar = true, names = ?, delim = ',', quote = '\"', escape = '\"', "
        "nullstr = ?, compression = ?, strict_mode = ?)"
    )
    compression = "gzip" if det.compression == "gzip" else "none"
    return sql, [det.canonical, nullstr, compression]


def _parquet_select(con: duckdb.DuckDBPyConnection, path: Path, det: Detection) -> tuple[str, list]:
    described = con.execute(
        "select column_name, column_type from "
        "(describe select * from read_parquet(?, hive_partitioning = false))",
        [str(path)],
    ).fetchall()
    exprs = []
    for (name, ctype), snake in zip(described, det.canonical, strict=True):
        q = quote_ident(name)
        upper = ctype.upper()
        if det.family == "gcp_billing" and upper.startswith("STRUCT") and snake in GCP_STRUCTS:
            for sub in GCP_STRUCTS[snake]:
                if f"{sub} " in ctype or f'"{sub}"' in ctype:
                    exprs.append(
                        f"to_json({q}.{quote_ident(sub)})::varchar as "
                        f"{quote_ident(snake + '_' + sub)}"
                        if sub in ("labels", "ancestors")
                        else f"cast({q}.{quote_ident(sub)} as varchar) as "
                        f"{quote_ident(snake + '_' + sub)}"
                    )
            continue
        if upper.startswith(("MAP", "STRUCT")) or upper.endswith("]"):
            exprs.append(f"to_json({q})::varchar as {quote_ident(snake)}")
        else:
            exprs.append(f"cast({q} as varchar) as {quote_ident(snake)}")
    sql = (
        f"select file_row_number + 1 as _row_number, {', '.join(exprs)} "
        "from read_parquet(?, file_row_number = true, hive_partitioning = false)"
    )
    return sql, [str(path)]


# Top-level keys of the GCP billing export. BigQuery's JSON export omits NULL fields, so the
# first line alone does not say which keys the file has: read all of these, plus any other
# key the first line shows.
GCP_TOP_LEVEL = ("billing_account_id", "service", "sku", "usage_start_time", "usage_end_time",
                 "project", "labels", "system_labels", "location", "resource", "tags",
                 "export_time", "cost", "cost_at_list", "currency", "currency_conversion_rate",
                 "usage", "credits", "invoice", "cost_type", "adjustment_info",
                 "transaction_type", "seller_name", "price", "subscription",
                 "cost_at_effective_price_default", "consumption_model")


def _ndjson_keys(det: Detection) -> list[tuple[str, str]]:
    pairs = dict(zip(det.columns, det.canonical, strict=True))
    for key in GCP_TOP_LEVEL:
        pairs.setdefault(key, key)
    return list(pairs.items())


def _ndjson_select(det: Detection) -> tuple[str, list]:
    # One parse per row: json_extract(_string) with a list of paths parses the document once
    # and returns a list, where one call per key re-parsed the ~2 KB row 45 times (6x slower).
    text_paths: list[str] = []
    json_paths: list[str] = []
    exprs = []
    for raw_name, snake in _ndjson_keys(det):
        if snake in GCP_STRUCTS:
            keys = [(snake + "_" + sub, f"$.{raw_name}.{sub}", sub in ("labels", "ancestors"))
                    for sub in GCP_STRUCTS[snake]]
        else:
            keys = [(snake, f'$."{raw_name}"',
                     snake in GCP_LIST_COLUMNS or snake == "adjustment_info")]
        for name, path, as_json in keys:
            paths, var = (json_paths, "j") if as_json else (text_paths, "t")
            paths.append(path)
            exprs.append(f"{var}[{len(paths)}]::varchar as {quote_ident(name)}")
    sql = (
        f"select _row_number, {', '.join(exprs)} from ("
        "select row_number() over () as _row_number, json_extract_string(json, ?::varchar[]) "
        "as t, json_extract(json, ?::varchar[]) as j from read_ndjson_objects(?))"
    )
    return sql, [text_paths, json_paths or ["$.__none__"]]


def _tag_columns(det: Detection, spec: FamilySpec) -> list[tuple[str, str]]:
    """(tag key, canonical column) for sources with one column per tag."""
    if not spec.tag_prefix:
        return []
    out = []
    for raw_name, snake in zip(det.columns, det.canonical, strict=True):
        if not snake.startswith(spec.tag_prefix) or snake == "_tags_json":
            continue
        if "/" in raw_name:  # CSV headers keep the real key: resourceTags/user:team
            key = raw_name.split("/", 1)[1]
        else:  # Athena names: resource_tags_user_team -> user:team
            rest = snake[len(spec.tag_prefix):]
            prefix, _, tail = rest.partition("_")
            key = f"{prefix}:{tail}" if prefix in ("user", "aws") and tail else rest
        out.append((key, snake))
    return out


def _stage_query(con, path: Path, det: Detection, spec: FamilySpec) -> tuple[str, list]:
    if det.source_format == "parquet":
        base, params = _parquet_select(con, path, det)
        present = set(det.canonical)
        if det.family == "gcp_billing":
            present = _gcp_present(con, base, params)
    elif det.source_format == "ndjson":
        base, params = _ndjson_select(det)
        params = params + [str(path)]
        present = _gcp_flat_names(det)
    else:
        base, params = _csv_source(det)
        params = [str(path)] + params + [_csv_strict(con, path, base, params)]
        present = set(det.canonical)

    select = ["s.*"]
    sel_params: list = []
    for col in spec.known_columns:
        if col.startswith("_"):
            continue
        if col not in present:
            select.append(f"null::varchar as {quote_ident(col)}")
    if det.family == "gcp_billing" and det.source_format == "csv":
        # Python-literal lists -> JSON; replace the text columns in place.
        replaced = [c for c in GCP_LIST_COLUMNS if c in present]
        if replaced:
            select[0] = "s.* replace (" + ", ".join(
                f"mlcost_pylit_to_json({quote_ident(c)}) as {quote_ident(c)}" for c in replaced
            ) + ")"
    tag_cols = _tag_columns(det, spec)
    if tag_cols:
        entries = ", ".join(
            f"struct_pack(k := ?::varchar, v := {quote_ident(c)})" for _, c in tag_cols
        )
        sel_params += [k for k, _ in tag_cols]
        select.append(
            "case when len(list_filter([" + entries + "], lambda e: e.v is not null and "
            "e.v <> '')) = 0 then null else to_json(map_from_entries(list_filter([" + entries
            + "], lambda e: e.v is not null and e.v <> '')))::varchar end as _tags_json"
        )
        sel_params += [k for k, _ in tag_cols]
    elif "_tags_json" in spec.known_columns:
        select.append("null::varchar as _tags_json")
    if det.family == "azure_cost_details":
        select.append("?::varchar as _agreement")
        sel_params.append(det.agreement)
    return f"select {', '.join(select)} from ({base}) s", sel_params + params


def _csv_strict(con, path: Path, base: str, params: list) -> bool:
    """Use DuckDB's strict CSV dialect unless the file needs the lenient one.

    Azure MCA exports mix CRLF and LF line endings, which the strict sniffer rejects. Binding
    the query (`describe`) runs the sniffer without reading the whole file. The lenient reader
    is only accepted when it yields exactly the rows Python's csv module counts.
    """
    try:
        con.execute(f"describe select * from ({base})", [str(path)] + params + [True]).fetchall()
        return True
    except duckdb.Error:
        pass
    (lenient_rows,) = con.execute(
        f"select count(*) from ({base})", [str(path)] + params + [False]
    ).fetchone()
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            python_rows = sum(1 for _ in csv.reader(fh)) - 1
    except UnicodeDecodeError as exc:
        raise BadInputError(path, "is not UTF-8 text" + _first_non_utf8(path) + ".",
                            hint="Billing exports are UTF-8; re-export or convert the file."
                            ) from exc
    except csv.Error as exc:
        raise BadInputError(path, f"is not well-formed CSV ({exc}).") from exc
    if lenient_rows != python_rows:
        ragged, row = _first_ragged(path)
        raise BadInputError(
            path,
            f"is not well-formed CSV: a strict reader rejects it and a lenient one reads "
            f"{lenient_rows} rows where there are {python_rows}{ragged}.",
            row=row, hint="Check for unbalanced quotes or rows with the wrong number of fields.",
        )
    return False


def _gcp_flat_names(det: Detection) -> set[str]:
    names = set()
    keys = [snake for _, snake in _ndjson_keys(det)] if det.source_format == "ndjson" \
        else det.canonical
    for snake in keys:
        if snake in GCP_STRUCTS:
            names.update(f"{snake}_{sub}" for sub in GCP_STRUCTS[snake])
        else:
            names.add(snake)
    return names


def _gcp_present(con, base: str, params: list) -> set[str]:
    rows = con.execute(f"select column_name from (describe {base})", params).fetchall()
    return {r[0] for r in rows}


# ---------------------------------------------------------------------------------------------
# Validation of a loaded (uncommitted) file


def _first_bad(con, table: str, file_id: str, predicate: str, column: str | None = None):
    col = quote_ident(column) if column else "null"
    return con.execute(
        f"select _row_number, {col} from raw.{table} where _file_id = ? and ({predicate}) "
        "order by _row_number limit 1",
        [file_id],
    ).fetchone()


def _validate(con, path: Path, det: Detection, spec: FamilySpec, file_id: str) -> int:
    table = spec.raw_table
    missing = [c for c in spec.required_columns if c not in _present_columns(det)]
    if missing:
        raise BadInputError(
            path,
            f"is missing mandatory column(s) {', '.join(missing)} for a {det.family} "
            f"export (schema version {det.schema_version}).",
        )
    (rows,) = con.execute(
        f"select count(*) from raw.{table} where _file_id = ?", [file_id]
    ).fetchone()
    if rows == 0:
        raise BadInputError(path, "has a header but no data rows.")
    for col in spec.money_columns:
        if col not in _present_columns(det):
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
            raise BadInputError(path, f"has a non-numeric amount {bad[1]!r}.",
                                row=bad[0], column=col)
    for col in spec.date_columns:
        if col not in _present_columns(det):
            continue
        q = quote_ident(col)
        bad = _first_bad(con, table, file_id,
                         f"{q} is not null and mlcost_ts({q}) is null "
                         f"and mlcost_date({q}) is null", col)
        if bad:
            raise BadInputError(path, f"has an unparseable date {bad[1]!r}.",
                                row=bad[0], column=col)
    bad = _first_bad(con, table, file_id, "_billing_period is null")
    if bad:
        raise BadInputError(path, "has a row whose billing period cannot be determined.",
                            row=bad[0])
    if spec.is_billing:
        bad = _first_bad(con, table, file_id, "_billing_account_id is null")
        if bad:
            raise BadInputError(path, "has a row with no billing account id.", row=bad[0])
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
    return rows


def _tags_braced(q: str, family: str) -> str:
    # Azure writes tags without the outer braces ("k": "v"); staging adds them the same way.
    if family == "azure_cost_details":
        return f"case when left(trim({q}), 1) = '{{' then {q} else '{{' || {q} || '}}' end"
    return q


def _warning_checks(det: Detection, spec: FamilySpec) -> list[tuple[str, str, str, list]]:
    """(kind, column, SQL predicate, its parameters) for every flag that applies to the file."""
    present = _present_columns(det)
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


def _warnings(con, path: str, det: Detection, spec: FamilySpec, file_id: str) -> list[str]:
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


def _present_columns(det: Detection) -> set[str]:
    if det.family == "gcp_billing" and det.source_format != "csv":
        return _gcp_flat_names(det)
    return set(det.canonical)


def _dataset_type(con, det: Detection, spec: FamilySpec, file_id: str) -> str:
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


# ---------------------------------------------------------------------------------------------


def _ledger(con, **row) -> None:
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    con.execute(f"insert into meta.load_ledger ({cols}) values ({marks})", list(row.values()))


def display_path(path: Path, landing: Path | None) -> str:
    """The name a message uses for a file: relative to the landing folder when below it."""
    if landing is None:
        return str(path)
    landing = Path(landing)
    if landing.is_file() or path == landing:
        return path.name
    rel = os.path.relpath(path, landing)
    return str(path) if rel.startswith("..") else rel


def _stat_key(stat: os.stat_result) -> tuple[int, int]:
    return (stat.st_size, stat.st_mtime_ns)


class _StillWriting(Exception):
    """The file changed while it was being read: someone is still writing it."""


def load_file(con: duckdb.DuckDBPyConnection, path: Path, *, now: datetime | None = None,
              landing: Path | None = None, settle: float | None = None) -> FileOutcome:
    path = Path(path)
    shown = display_path(path, landing)
    now = now or datetime.now(UTC).replace(tzinfo=None)
    settle = settle_seconds() if settle is None else settle
    try:
        stat = path.stat()
    except FileNotFoundError:
        return _waiting(path, shown, "disappeared before it could be read")
    age = time.time() - stat.st_mtime
    if age < settle:
        return _waiting(path, shown, f"was modified {max(age, 0):.0f}s ago (settle time "
                        f"{settle:g}s, MLCOST_SETTLE_SECONDS); it may still be being written")
    try:
        file_id = sha256_file(path)
        changed = _stat_key(path.stat()) != _stat_key(stat)
    except OSError as exc:  # permissions, a vanished file, an I/O error: nothing to hash
        return _waiting(path, shown, f"cannot be read ({exc.strerror or exc})",
                        level=logging.WARNING)
    if changed:
        return _waiting(path, shown, "changed while it was being read")
    known = {r[0]: (r[1], r[2]) for r in con.execute(
        "select status, arg_max(error, loaded_at), list(path) from meta.load_ledger "
        "where file_id = ? group by status", [file_id]).fetchall()}
    base = dict(
        file_id=file_id, path=str(path), file_name=path.name, directory=str(path.parent),
        size_bytes=stat.st_size, modified_at=datetime.fromtimestamp(stat.st_mtime, UTC)
        .replace(tzinfo=None), loaded_at=now,
    )
    if "loaded" in known:
        # Same bytes under another name: note the copy once, load nothing.
        (seen_here,) = con.execute(
            "select count(*) from meta.load_ledger where file_id = ? and path = ?",
            [file_id, str(path)]).fetchone()
        if not seen_here:
            _ledger(con, **base, family=None, provider=None, source_format=None,
                    schema_version=None, dataset_type=None, status="duplicate", row_count=0,
                    billed_total=None, effective_total=None, error=None, warnings=None)
        return FileOutcome(str(path), file_id, "duplicate")
    if "skipped" in known:
        return FileOutcome(str(path), file_id, "skipped", error=known["skipped"][0])
    if "quarantined" in known and str(path) in known["quarantined"][1]:
        # Same bytes at the same place fail the same way: report again without re-reading.
        # Moved elsewhere (the fix for a same-folder conflict) they are read again.
        return FileOutcome(str(path), file_id, "quarantined", error=known["quarantined"][0])
    det: Detection | None = None
    try:
        det = detect(path)
        spec = FAMILIES[det.family]
        # Built before the transaction: probing the CSV dialect may fail, which would abort it.
        stage = _stage_query(con, path, det, spec)
        con.execute("begin transaction")
        try:
            outcome = _load_detected(con, path, det, spec, file_id, base, now, stage, shown,
                                     landing)
            if _stat_key(path.stat()) != _stat_key(stat):
                raise _StillWriting
            _hold_for_crash_test(path)
            con.execute("commit")
            return outcome
        except BaseException:
            con.execute("rollback")
            raise
    except _StillWriting:
        return _waiting(path, shown, "changed while it was being loaded")
    except FileNotFoundError:
        return _waiting(path, shown, "disappeared while it was being read")
    except OSError as exc:
        return _waiting(path, shown, f"cannot be read ({exc.strerror or exc})",
                        level=logging.WARNING)
    except NotAnExport as exc:
        note = str(exc).replace(str(path), shown, 1)
        _ledger(con, **base, family=None, provider=None, source_format=None, schema_version=None,
                dataset_type=None, status="skipped", row_count=0, billed_total=None,
                effective_total=None, error=note, warnings=None)
        return FileOutcome(str(path), file_id, "skipped", error=note)
    except BadInputError as exc:
        exc.path = shown
        msg = exc.message
    except duckdb.Error as exc:
        msg = _read_error(path, shown, exc)
    _ledger(
        con, **base, family=det.family if det else None, provider=None,
        source_format=det.format_label if det else None,
        schema_version=det.schema_version if det else None, dataset_type=None,
        status="quarantined", row_count=0, billed_total=None, effective_total=None, error=msg,
        warnings=None,
    )
    return FileOutcome(str(path), file_id, "quarantined",
                       family=det.family if det else None, error=msg)


def _waiting(path: Path, shown: str, why: str, level: int = logging.INFO) -> FileOutcome:
    msg = f"{shown}: {why}; left for the next run."
    log.log(level, msg)
    return FileOutcome(str(path), None, "waiting", error=msg)


def _hold_for_crash_test(path: Path) -> None:
    flag = os.environ.get(HOLD_ENV)
    if flag:
        Path(flag).write_text(str(path))
        time.sleep(600)


def _read_error(path: Path, shown: str, exc: duckdb.Error) -> str:
    """One paragraph from a DuckDB reader error: its reason, without the dump of the offending
    line and reader options that follows (DuckDB's own line numbers are not reliable)."""
    text = str(exc)
    lowered = text.lower()
    hint, row = None, None
    if "invalid unicode" in lowered or "not utf-8" in lowered:
        problem = "is not UTF-8 text" + _first_non_utf8(path) + "."
        hint = "Billing exports are UTF-8; re-export or convert the file."
    elif "gzip" in lowered:
        problem = ("is a gzip file that cannot be decompressed to its end (the compressed "
                   "stream stops early or is damaged); it is truncated or corrupt.")
        hint = "Re-download the export."
    elif re.search(r"maximum line size of \d+ bytes exceeded", lowered):
        problem = ("has a line longer than the CSV reader's 2 MB limit, usually an unterminated "
                   "quote (or huge tag values).")
    elif "error when sniffing file" in lowered:
        ragged, row = _first_ragged(path)
        problem = ("is not well-formed CSV: its lines do not parse with one dialect (unbalanced "
                   "quotes, or rows with a different number of fields than the header)"
                   + ragged + ".")
    else:
        reasons = [ln.strip() for ln in text.splitlines()
                   if ln.strip() and not ln.startswith(("CSV Error on Line", "Original Line",
                                                        "Possible Solution", "  "))]
        reason = reasons[0] if reasons else _first_line(text)
        # Name the file as every message does, not by its absolute path.
        problem = f"could not be read: {reason.replace(str(path), shown)}"
    return BadInputError(shown, problem, row=row, hint=hint).message


def _first_ragged(path: Path) -> tuple[str, int | None]:
    """The first data row whose field count differs from the header's (streaming)."""
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rt", encoding="utf-8-sig", newline="") if gz
              else open(path, encoding="utf-8-sig", newline="")) as fh:
            reader = csv.reader(fh)
            width = len(next(reader, []))
            for number, fields in enumerate(reader, start=1):
                if len(fields) != width:
                    return (f"; it has {len(fields)} field(s) where the header has {width}",
                            number)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error):
        pass
    return "", None


def _first_non_utf8(path: Path) -> str:
    """Where the first invalid byte is (a streaming scan, only run when a read failed)."""
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as fh:
            for number, line in enumerate(fh, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as err:
                    return f" (invalid byte 0x{line[err.start]:02x} on line {number})"
    except (OSError, EOFError):
        pass
    return ""


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _load_detected(con, path, det, spec, file_id, base, now, stage, shown, landing
                   ) -> FileOutcome:
    ensure_raw_table(con, spec)
    stage_sql, params = stage
    staged_cols = [r[0] for r in con.execute(
        f"select column_name from (describe {stage_sql})", params).fetchall()]
    existing = {r[0] for r in con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = ?", [spec.raw_table]).fetchall()}
    for col in staged_cols:
        if col not in existing and col != "_row_number":
            con.execute(f"alter table raw.{spec.raw_table} add column {quote_ident(col)} varchar")
    con.execute(
        f"""insert into raw.{spec.raw_table} by name
        select *, ?::varchar as _file_id, ?::timestamp as _loaded_at,
            cast({spec.account_expr} as varchar) as _billing_account_id,
            {spec.period_expr} as _billing_period,
            cast({spec.provider_expr} as varchar) as _provider,
            cast({spec.currency_expr} as varchar) as _currency
        from ({stage_sql})""",
        [file_id, now] + params,
    )
    rows = _validate(con, path, det, spec, file_id)
    warnings = _warnings(con, shown, det, spec, file_id)
    dataset_type = _dataset_type(con, det, spec, file_id)
    if det.family == "gcp_billing" and det.source_format == "ndjson":
        # Only the resource-level (detailed) export carries resource names on any row.
        (n_resource,) = con.execute(
            "select count(*) from raw.gcp_billing where _file_id = ? and "
            "coalesce(resource_name, resource_global_name) is not null", [file_id]).fetchone()
        det.schema_version = "detailed" if n_resource else "standard"
    billed = spec.billed_expr or "null"
    effective = spec.effective_expr or "null"
    if det.family == "azure_cost_details":
        # One Azure dataset carries one basis: actual = invoice, amortized = effective.
        if dataset_type == "actual":
            effective = "null"
        else:
            billed = "null"
    slices = con.execute(
        f"""select _provider, _billing_account_id, _billing_period, _currency, count(*),
                sum({billed}), sum({effective})
            from raw.{spec.raw_table} where _file_id = ? group by all order by all""",
        [file_id],
    ).fetchall()
    slice_dicts = []
    for provider, account, period, currency, n, b_total, e_total in slices:
        con.execute(
            "insert into meta.deliveries "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true, null, ?)",
            [file_id, str(path), str(path.parent), det.family, provider, account, period,
             dataset_type, currency, n, b_total, e_total, now],
        )
        slice_dicts.append(dict(provider=provider, billing_account_id=account,
                                billing_period=period, currency=currency, rows=n,
                                billed_total=b_total, effective_total=e_total))
    if spec.is_billing:
        _check_same_folder(con, path, spec, file_id, shown, landing)
        _supersede(con, file_id, str(path), str(path.parent))
    totals = con.execute(
        "select sum(billed_total), sum(effective_total) from meta.deliveries where file_id = ?",
        [file_id],
    ).fetchone()
    providers = sorted({s["provider"] for s in slice_dicts if s["provider"]})
    _ledger(
        con, **base, family=det.family, provider=",".join(providers),
        source_format=det.format_label, schema_version=det.schema_version,
        dataset_type=dataset_type, status="loaded", row_count=rows,
        billed_total=totals[0], effective_total=totals[1], error=None,
        warnings="\n".join(warnings) or None,
    )
    return FileOutcome(str(path), file_id, "loaded", family=det.family,
                       source_format=det.format_label, schema_version=det.schema_version,
                       dataset_type=dataset_type, rows=rows, slices=slice_dicts,
                       warnings=warnings)


# Slices of one (provider, billing account, billing period) that two files may both hold
# current: Azure's actual and amortized datasets complement each other (one per basis).
_COMPLEMENTARY = """(old.family = 'azure_cost_details' and new.family = 'azure_cost_details'
                    and old.dataset_type <> new.dataset_type)"""


def _check_same_folder(con, path: Path, spec: FamilySpec, file_id: str, shown: str,
                       landing: Path | None) -> None:
    """Refuse a second export of the same slice in the same folder.

    Files of one family and dataset type in one folder are parts of one delivery (exports split
    large months into numbered files), unless the new file's first rows repeat any of another's
    first rows: then it is a second copy. A different export of the same slice (a native export
    beside a FOCUS export of the same account and month) would count every charge twice.
    """
    others = con.execute(
        f"""select distinct old.file_id, old.path, old.family, old.dataset_type,
                new.family, new.dataset_type, new.provider, new.billing_account_id,
                new.billing_period
        from meta.deliveries as new
        join meta.deliveries as old
          on old.provider = new.provider
         and old.billing_account_id is not distinct from new.billing_account_id
         and old.billing_period = new.billing_period
        where new.file_id = ? and old.file_id <> new.file_id and old.is_current
          and old.directory = new.directory and old.path <> new.path
          and not {_COMPLEMENTARY}
        order by old.path""",
        [file_id],
    ).fetchall()
    parts = []
    for other_id, other_path, o_family, o_type, n_family, n_type, provider, account, period \
            in others:
        other = display_path(Path(other_path), landing)
        if (o_family, o_type) != (n_family, n_type):
            raise BadInputError(
                shown,
                f"is a {n_family} export ({n_type}) of the same slice (provider {provider}, "
                f"billing account {account}, billing period {period:%Y-%m}) as {other} "
                f"({o_family}, {o_type}) in the same folder; loading both would count every "
                f"charge twice, so {other} stays loaded and this file is not. If this file is "
                "the newer delivery, move it to a folder of its own: it then replaces the "
                "other.",
            )
        if o_family == n_family == spec.name:
            parts.append((other_id, other))
    if not parts:
        return
    (repeated,) = con.execute(
        f"""with sample as (
            select hash(*columns(lambda c: not starts_with(c, '_'))) as h
            from raw.{spec.raw_table} where _file_id = ? and _row_number <= ?)
        select list_distinct(list(_file_id)) from raw.{spec.raw_table}
        where list_contains(?, _file_id) and _row_number <= ?
          and hash(*columns(lambda c: not starts_with(c, '_'))) in (select h from sample)""",
        [file_id, OVERLAP_SAMPLE_ROWS, [p[0] for p in parts], OVERLAP_SAMPLE_ROWS],
    ).fetchone()
    if repeated:
        other = next(name for pid, name in parts if pid in repeated)
        raise BadInputError(
            shown,
            f"repeats rows of {other}, a file of the same export and slice in the same folder: "
            "it is a second copy, not another part, and loading both would count those "
            f"charges twice, so {other} stays loaded and this file is not. If this file is the "
            "newer delivery, move it to a folder of its own: it then replaces the other.",
        )


def _supersede(con, file_id: str, path: str, directory: str) -> None:
    """Mark older current slices of the same (provider, billing account, billing period) as
    superseded by this file, whatever their currency, dataset type or family.

    Currency is not part of the key: one account bills in one currency per period, so a newer
    delivery in another currency replaces the old one rather than adding to it. A native export
    and a FOCUS export of one slice describe the same charges, so the newer one wins. Files in
    the same folder are parts of one delivery and coexist (`_check_same_folder` refuses the
    ones that are not), unless one replaces an earlier version of the same path. Azure actual
    and amortized exports complement each other.
    """
    con.execute(
        f"""update meta.deliveries as old set is_current = false, superseded_by = ?
        from meta.deliveries as new
        where new.file_id = ? and old.file_id <> new.file_id and old.is_current
          and old.provider = new.provider
          and old.billing_account_id is not distinct from new.billing_account_id
          and old.billing_period = new.billing_period
          and (old.directory <> ? or old.path = ?)
          and not {_COMPLEMENTARY}""",
        [file_id, file_id, directory, path],
    )


def ingest_paths(con: duckdb.DuckDBPyConnection, paths: Iterable[Path], *,
                 landing: Path | None = None, settle: float | None = None) -> IngestResult:
    ensure_meta(con)
    return IngestResult([load_file(con, p, landing=landing, settle=settle) for p in paths])


def ingest_landing(con: duckdb.DuckDBPyConnection, landing: Path, *,
                   settle: float | None = None) -> IngestResult:
    return ingest_paths(con, discover(landing), landing=Path(landing), settle=settle)
