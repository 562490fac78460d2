"""Read a detected file into canonical text columns: one staging query per format (CSV,
Parquet, newline-delimited JSON), tag columns folded into `_tags_json`, and reader errors
turned into one-paragraph messages."""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import duckdb

from ..metrics import METRIC_FORMATS
from ..metrics.stage import stage as metrics_stage
from .detect import Detection
from .errors import BadInputError
from .families import FamilySpec
from .sql import quote_ident

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


def tag_columns(det: Detection, spec: FamilySpec) -> list[tuple[str, str]]:
    """(tag key, canonical column) for sources with one column per tag.

    The key is the header's own text, never the canonical name: `resourceTags/user:Team` and
    `resourceTags/user:team` are two tags (AWS keys are case-sensitive) although both columns
    fold to `resource_tags_user_team` (the second is stored as `resource_tags_user_team__2`).
    """
    if not spec.tag_prefix:
        return []
    out = []
    for raw_name, snake in zip(det.columns, det.canonical, strict=True):
        if not snake.startswith(spec.tag_prefix) or snake == "_tags_json":
            continue
        if "/" in raw_name:  # CSV headers keep the real key: resourceTags/user:team
            key = raw_name.split("/", 1)[1]
        else:  # Athena names: resource_tags_user_team -> user:team
            lowered = raw_name.lower()
            rest = (raw_name[len(spec.tag_prefix):] if lowered.startswith(spec.tag_prefix)
                    else snake[len(spec.tag_prefix):])
            prefix, _, tail = rest.partition("_")
            key = f"{prefix}:{tail}" if prefix in ("user", "aws") and tail else rest
        out.append((key, snake))
    return out


def stage_query(con, path: Path, det: Detection, spec: FamilySpec) -> tuple[str, list]:
    if det.source_format in METRIC_FORMATS:
        # JSON metrics responses are parsed by lib/metrics into the CSV family's columns.
        base, params = metrics_stage(con, path, det)
        present = set(det.canonical)
    elif det.source_format == "parquet":
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
    # A header given twice verbatim is refused by validate.py; the first one is read until then.
    tag_cols: list[tuple[str, str]] = []
    for key, col in tag_columns(det, spec):
        if key not in {k for k, _ in tag_cols}:
            tag_cols.append((key, col))
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
        raise BadInputError(path, "is not UTF-8 text" + first_non_utf8(path) + ".",
                            hint="Billing exports are UTF-8; re-export or convert the file."
                            ) from exc
    except csv.Error as exc:
        raise BadInputError(path, f"is not well-formed CSV ({exc}).") from exc
    if lenient_rows != python_rows:
        ragged, row = first_ragged(path)
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


def present_columns(det: Detection) -> set[str]:
    if det.family == "gcp_billing" and det.source_format != "csv":
        return _gcp_flat_names(det)
    return set(det.canonical)


def read_error_message(path: Path, shown: str, exc: duckdb.Error) -> str:
    """One paragraph from a DuckDB reader error: its reason, without the dump of the offending
    line and reader options that follows (DuckDB's own line numbers are not reliable)."""
    text = str(exc)
    lowered = text.lower()
    hint, row = None, None
    if "invalid unicode" in lowered or "not utf-8" in lowered:
        problem = "is not UTF-8 text" + first_non_utf8(path) + "."
        hint = "Billing exports are UTF-8; re-export or convert the file."
    elif "gzip" in lowered:
        problem = ("is a gzip file that cannot be decompressed to its end (the compressed "
                   "stream stops early or is damaged); it is truncated or corrupt.")
        hint = "Re-download the export."
    elif re.search(r"maximum line size of \d+ bytes exceeded", lowered):
        problem = ("has a line longer than the CSV reader's 2 MB limit, usually an unterminated "
                   "quote (or huge tag values).")
    elif "error when sniffing file" in lowered:
        ragged, row = first_ragged(path)
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


def first_ragged(path: Path) -> tuple[str, int | None]:
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


def first_non_utf8(path: Path) -> str:
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

