"""The native GCP Cloud Billing export read in place (``lib.bigquery``): per invoice month,
query jobs copy the month into ``raw.gcp_billing`` in the raw layout and record the delivery in
the meta tables, so no data leaves BigQuery."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from .bigquery_common import BigQuerySettings
from .bigquery_common import table_id as _table_id
from .ingest.errors import BadInputError

# raw.gcp_billing column -> expression over the export row `e` (standard or detailed export).
# FLOAT64 amounts are read as their shortest decimal text, as Google's CSV exports write them.
_GCP_EXPORT_COLUMNS = {
    "billing_account_id": "e.billing_account_id",
    "service_id": "e.service.id",
    "service_description": "e.service.description",
    "sku_id": "e.sku.id",
    "sku_description": "e.sku.description",
    "usage_start_time": "format_timestamp('%Y-%m-%dT%H:%M:%SZ', e.usage_start_time)",
    "usage_end_time": "format_timestamp('%Y-%m-%dT%H:%M:%SZ', e.usage_end_time)",
    "project_id": "e.project.id",
    "project_number": "e.project.number",
    "project_name": "e.project.name",
    "project_labels": "to_json_string(e.project.labels)",
    "project_ancestry_numbers": "e.project.ancestry_numbers",
    "labels": "to_json_string(e.labels)",
    "system_labels": "to_json_string(e.system_labels)",
    "location_location": "e.location.location",
    "location_country": "e.location.country",
    "location_region": "e.location.region",
    "location_zone": "e.location.zone",
    "tags": "to_json_string(e.tags)",
    "export_time": "format_timestamp('%Y-%m-%dT%H:%M:%E6SZ', e.export_time)",
    "cost": "cast(e.cost as string)",
    "cost_at_list": "cast(e.cost_at_list as string)",
    "currency": "e.currency",
    "currency_conversion_rate": "cast(e.currency_conversion_rate as string)",
    "usage_amount": "cast(e.usage.amount as string)",
    "usage_unit": "e.usage.unit",
    "usage_amount_in_pricing_units": "cast(e.usage.amount_in_pricing_units as string)",
    "usage_pricing_unit": "e.usage.pricing_unit",
    "credits": "to_json_string(e.credits)",
    "invoice_month": "e.invoice.month",
    "invoice_publisher_type": "e.invoice.publisher_type",
    "cost_type": "e.cost_type",
    "adjustment_info": "to_json_string(e.adjustment_info)",
    "transaction_type": "e.transaction_type",
    "seller_name": "e.seller_name",
    "price_effective_price": "cast(e.price.effective_price as string)",
    "price_tier_start_amount": "cast(e.price.tier_start_amount as string)",
    "price_unit": "e.price.unit",
    "price_pricing_unit_quantity": "cast(e.price.pricing_unit_quantity as string)",
}
# Only the detailed (resource-level) export has these.
_GCP_DETAILED_COLUMNS = {
    "resource_name": "e.resource.name",
    "resource_global_name": "e.resource.global_name",
}


def _gcp_amount(money_type: str) -> str:
    """cost + credits of one export row, exact (the invoice basis, as lib.ingest computes it)."""
    return (f"cast(cast(e.cost as string) as {money_type}) + coalesce((select "
            f"sum(cast(cast(c.amount as string) as {money_type})) from unnest(e.credits) as c), 0)")


def gcp_export_slices_sql(export_table: str, money_type: str = "BIGNUMERIC") -> str:
    """Delivery slices of one invoice month (@invoice_month) of the native export."""
    return f"""select
    billing_account_id,
    currency,
    count(*) as row_count,
    sum(amount) as billed_total,
    max(export_time) as last_export_time
from (
    select
        e.billing_account_id,
        e.currency,
        e.export_time,
        {_gcp_amount(money_type)} as amount
    from {_table_id(export_table)} as e
    where e.invoice.month = @invoice_month
) as rows_of_month
group by billing_account_id, currency"""


def gcp_export_insert_sql(export_table: str, raw_table: str, detailed: bool) -> str:
    """Copy one invoice month (@invoice_month) of the native export into raw.gcp_billing,
    with lineage (@file_id, @loaded_at); row numbers follow the export's own order."""
    columns = dict(_GCP_EXPORT_COLUMNS)
    if detailed:
        columns.update(_GCP_DETAILED_COLUMNS)
    target = ["_file_id", "_row_number", "_billing_account_id", "_billing_period", "_provider",
              "_currency", "_loaded_at", *columns]
    select = [
        "@file_id",
        "row_number() over (order by e.export_time, e.usage_start_time, e.billing_account_id, "
        "e.sku.id, e.project.id, e.cost)",
        "e.billing_account_id",
        "parse_date('%Y%m', e.invoice.month)",
        "'gcp'",
        "e.currency",
        "@loaded_at",
        *columns.values(),
    ]
    body = ",\n    ".join(f"{expr} as {col}" for col, expr in zip(target, select, strict=True))
    return (f"insert into {_table_id(raw_table)} ({', '.join(target)})\n"
            f"select\n    {body}\nfrom {_table_id(export_table)} as e\n"
            f"where e.invoice.month = @invoice_month")


@dataclass
class ExportIngest:
    invoice_month: str
    file_id: str
    status: str  # loaded | duplicate | empty
    rows: int = 0


def ingest_gcp_billing_export(client, settings: BigQuerySettings, invoice_months: Iterable[str],
                              *, now: datetime | None = None) -> list[ExportIngest]:
    """Read invoice months (YYYYMM) of the native GCP billing export in place into the raw layer.

    Each month is one delivery identified by the export table, month, last export time and row
    count: reading an unchanged month again is a no-op; a month the export has since updated
    (late costs, corrections) supersedes the earlier read of that month.
    """
    from google.cloud import bigquery

    export = settings.gcp_billing_export_table
    if not export:
        raise BadInputError("MLCOST_GCP_BILLING_EXPORT_TABLE", "is not set.",
                            hint="Set it to project.dataset.gcp_billing_export_v1_XXXXXX.")
    now = now or datetime.now(UTC).replace(tzinfo=None)
    raw = f"{settings.project}.{settings.raw_dataset}.gcp_billing"
    ledger = f"{settings.project}.{settings.meta_dataset}.load_ledger"
    deliveries = f"{settings.project}.{settings.meta_dataset}.deliveries"
    detailed = any(f.name == "resource" for f in client.get_table(export).schema)
    out = []
    for month in invoice_months:
        if not re.fullmatch(r"\d{6}", month):
            raise BadInputError(month, "is not an invoice month.", hint="Write it as YYYYMM.")
        params = [bigquery.ScalarQueryParameter("invoice_month", "STRING", month)]
        slices = list(client.query(
            gcp_export_slices_sql(export, settings.money_type),
            job_config=bigquery.QueryJobConfig(query_parameters=params)).result())
        if not slices:
            out.append(ExportIngest(month, "", "empty"))
            continue
        fingerprint = "|".join([export, month] + sorted(
            f"{r.billing_account_id}:{r.currency}:{r.row_count}:{r.last_export_time.isoformat()}"
            for r in slices))
        file_id = hashlib.sha256(fingerprint.encode()).hexdigest()
        p_file = bigquery.ScalarQueryParameter("file_id", "STRING", file_id)
        seen = list(client.query(
            f"select count(*) as n from {_table_id(ledger)} where file_id = @file_id "
            "and status = 'loaded'",
            job_config=bigquery.QueryJobConfig(query_parameters=[p_file])).result())[0].n
        if seen:
            out.append(ExportIngest(month, file_id, "duplicate"))
            continue
        p_now = bigquery.ScalarQueryParameter("loaded_at", "TIMESTAMP", now)
        # An interrupted earlier attempt may have left rows of this delivery: replace them.
        client.query(f"delete from {_table_id(raw)} where _file_id = @file_id",
                     job_config=bigquery.QueryJobConfig(query_parameters=[p_file])).result()
        client.query(gcp_export_insert_sql(export, raw, detailed),
                     job_config=bigquery.QueryJobConfig(
                         query_parameters=[*params, p_file, p_now])).result()
        rows = sum(r.row_count for r in slices)
        path = f"bigquery://{export}/invoice_month={month}"
        period = date(int(month[:4]), int(month[4:]), 1)
        billed = sum((r.billed_total for r in slices), start=0)
        _insert_rows(client, ledger, [dict(
            file_id=file_id, path=path, file_name=export, directory=f"bigquery://{export}",
            size_bytes=None, modified_at=max(r.last_export_time for r in slices),
            family="gcp_billing", provider="gcp", source_format="bigquery_export", schema_version=(
                "detailed" if detailed else "standard"), dataset_type="actual",
            status="loaded", row_count=rows, billed_total=billed, effective_total=billed,
            error=None, loaded_at=now)])
        # The earlier read of the same slices stops being current.
        for r in slices:
            client.query(
                f"update {_table_id(deliveries)} set is_current = false, superseded_by = @file_id "
                "where provider = 'gcp' and family = 'gcp_billing' and is_current "
                "and billing_account_id = @account and billing_period = @period "
                "and currency = @currency and file_id <> @file_id",
                job_config=bigquery.QueryJobConfig(query_parameters=[
                    p_file,
                    bigquery.ScalarQueryParameter("account", "STRING", r.billing_account_id),
                    bigquery.ScalarQueryParameter("period", "DATE", period),
                    bigquery.ScalarQueryParameter("currency", "STRING", r.currency),
                ])).result()
        _insert_rows(client, deliveries, [dict(
            file_id=file_id, path=path, directory=f"bigquery://{export}", family="gcp_billing",
            provider="gcp", billing_account_id=r.billing_account_id, billing_period=period,
            dataset_type="actual", currency=r.currency, row_count=r.row_count,
            billed_total=r.billed_total, effective_total=r.billed_total, is_current=True,
            superseded_by=None, loaded_at=now) for r in slices])
        out.append(ExportIngest(month, file_id, "loaded", rows))
    return out


def _insert_rows(client, table_id: str, rows: list[dict]) -> None:
    """Append rows with a DML INSERT of query parameters (streaming inserts would leave the
    rows in the streaming buffer, where the supersession UPDATE cannot touch them)."""
    from google.cloud import bigquery

    table = client.get_table(table_id)
    types = {f.name: f.field_type for f in table.schema}
    cols = list(rows[0])
    values, params = [], []
    for i, row in enumerate(rows):
        names = []
        for c in cols:
            name = f"p{i}_{c}"
            names.append(f"@{name}")
            params.append(bigquery.ScalarQueryParameter(name, _param_type(types[c]), row[c]))
        values.append(f"({', '.join(names)})")
    sql = (f"insert into {_table_id(table_id)} ({', '.join(cols)}) values "
           + ", ".join(values))
    client.query(sql, job_config=bigquery.QueryJobConfig(query_parameters=params)).result()


def _param_type(field_type: str) -> str:
    return {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}.get(field_type, field_type)
