"""Land a detected file inside the caller's transaction: insert its rows with lineage, validate
them, record its delivery slices, refuse a second export of a slice in one folder and
supersede older deliveries."""

from __future__ import annotations

from pathlib import Path

from .discover import display_path
from .errors import BadInputError
from .families import FamilySpec
from .ledger import FileOutcome, ensure_raw_table, write_ledger_row
from .sql import quote_ident
from .validate import dataset_type_of, row_warnings, validate_rows

# Leading rows compared when checking whether a same-folder file repeats another's rows (a
# second copy of an export repeats its first rows; another part of it does not).
OVERLAP_SAMPLE_ROWS = 200


def land_detected(con, path, det, spec, file_id, base, now, stage, shown, landing
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
            nullif(trim(cast({spec.currency_expr} as varchar)), '') as _currency
        from ({stage_sql})""",
        [file_id, now] + params,
    )
    fill_blank_currency(con, spec, file_id)
    rows = validate_rows(con, path, det, spec, file_id)
    warnings = row_warnings(con, shown, det, spec, file_id)
    dataset_type = dataset_type_of(con, det, spec, file_id)
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
    write_ledger_row(
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


def fill_blank_currency(con, spec: FamilySpec, file_id: str) -> None:
    """A row that costs nothing and has a blank currency takes its billing account's currency
    from the same file (OCI writes zero-cost rows with an empty currency cell).

    Only `_currency` is filled, the raw cell stays as delivered; staging reads the raw cell and
    falls back to `_currency`. The account must have exactly one currency in the file (more is
    refused by validation anyway). A blank currency on a row that costs something is not filled:
    validation refuses the file, naming the row.
    """
    if not spec.is_billing or spec.billed_expr is None:
        return
    table = f"raw.{spec.raw_table}"
    # Almost every file has a currency on every row: a cheap probe spares the update's join.
    if not con.execute(f"select 1 from {table} where _file_id = ? and _currency is null limit 1",
                       [file_id]).fetchone():
        return
    zero = (f"coalesce({spec.billed_expr}, 0) = 0 and "
            f"coalesce({spec.effective_expr or spec.billed_expr}, 0) = 0")
    con.execute(
        f"""update {table} set _currency = fill._fill_currency
        from (select _billing_account_id as _fill_account, min(_currency) as _fill_currency
              from {table} where _file_id = ? and _currency is not null
              group by _billing_account_id having count(distinct _currency) = 1) as fill
        where {table}._file_id = ? and {table}._currency is null
          and {table}._billing_account_id is not distinct from fill._fill_account
          and ({zero})""",
        [file_id, file_id],
    )


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

