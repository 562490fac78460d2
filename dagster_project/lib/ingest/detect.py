"""Classify a landed file from its content: container, format, provider family and schema version.

Names are never trusted: an Azure export called `focus.csv` is still an Azure export.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from .errors import BadInputError, NotAnExport

PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"
# Enough to hold the widest real header (CUR legacy: ~300 columns) several times over.
HEADER_PROBE_BYTES = 1 << 20


def to_snake(name: str) -> str:
    """Canonical column name, the way Athena names CUR columns.

    `lineItem/UnblendedCost` -> `line_item_unblended_cost`, `reservation/ReservationARN` ->
    `reservation_reservation_a_r_n`, `costInBillingCurrency` -> `cost_in_billing_currency`.
    """
    out: list[str] = []
    for ch in name.strip():
        if ch.isupper():
            if out and out[-1] != "_":
                out.append("_")
            out.append(ch.lower())
        elif ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "_":
            out.append("_")
    return "".join(out).strip("_")


@dataclass
class Detection:
    family: str
    source_format: str  # csv | parquet | ndjson
    compression: str  # none | gzip
    schema_version: str
    columns: list[str]  # as written in the file
    canonical: list[str]  # snake_case, same order
    agreement: str | None = None  # Azure: EA | MCA
    extra: dict = field(default_factory=dict)

    @property
    def format_label(self) -> str:
        return self.source_format + (".gz" if self.compression == "gzip" else "")


def _read_head(path: Path) -> tuple[bytes, str]:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] == GZIP_MAGIC:
        try:
            with gzip.open(path, "rb") as gz:
                return gz.read(HEADER_PROBE_BYTES), "gzip"
        except (EOFError, OSError, zlib.error) as exc:
            raise BadInputError(
                path, f"is a gzip file that cannot be decompressed ({exc}); it is truncated "
                "or corrupt.", hint="Re-download the export."
            ) from exc
    with open(path, "rb") as fh:
        return fh.read(HEADER_PROBE_BYTES), "none"


def _canonical(path: Path, columns: list[str]) -> list[str]:
    canonical: list[str] = []
    seen: dict[str, str] = {}
    for i, col in enumerate(columns, start=1):
        snake = to_snake(col)
        if not snake:
            raise BadInputError(path, f"header column {i} has no name ({col!r}).")
        if snake in seen:
            raise BadInputError(
                path,
                f"has duplicate column names: {seen[snake]!r} and {col!r} (both read as "
                f"{snake!r}).",
                column=col,
            )
        seen[snake] = col
        canonical.append(snake)
    return canonical


def _csv_header(path: Path, head: bytes) -> list[str]:
    if not head.strip():
        raise BadInputError(path, "is empty: it has no header and no rows.")
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # The probe may cut a multi-byte character at its end; only the header matters.
        first = head.split(b"\n", 1)[0]
        try:
            text = first.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadInputError(
                path,
                f"is not UTF-8 text (invalid byte 0x{head[exc.start]:02x} at offset "
                f"{exc.start} of the header).",
                hint="Billing exports are UTF-8; re-export or convert the file.",
            ) from exc
    first_line = text.splitlines()[0] if text.splitlines() else ""
    row = next(csv.reader(io.StringIO(first_line)), [])
    if len(row) <= 1:
        for delim in (";", "\t", "|"):
            if first_line.count(delim) >= 3:
                raise BadInputError(
                    path,
                    f"uses {delim!r} as its delimiter; billing exports are comma-separated.",
                )
        raise BadInputError(
            path, "does not look like a billing export: its first line has a single column."
        )
    return row


def _parquet_columns(path: Path) -> list[str]:
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for corrupt footers
        raise BadInputError(path, f"is not a readable Parquet file ({exc}).") from exc
    return list(schema.names)


# AWS CUR manifests (assemblyId, reportKeys) and Azure export manifests (manifestVersion, blobs).
MANIFEST_KEYS = {"assemblyId", "reportKeys", "manifestVersion", "blobs"}


def _ndjson_keys(path: Path, head: bytes) -> list[str]:
    line = head.split(b"\n", 1)[0]
    if head.lstrip()[:1] == b"{" and b"\n" in head.strip() and not line.strip().endswith(b"}"):
        # A pretty-printed JSON document rather than one object per line.
        try:
            obj = json.loads(head)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and MANIFEST_KEYS & set(obj):
            raise NotAnExport(f"{path}: export delivery manifest, no billing rows")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadInputError(
            path, f"starts like JSON but its first line is not a JSON object ({exc.msg})."
        ) from exc
    if not isinstance(obj, dict):
        raise BadInputError(path, "is JSON but not newline-delimited JSON objects.")
    if MANIFEST_KEYS & set(obj):
        raise NotAnExport(f"{path}: export delivery manifest, no billing rows")
    return list(obj.keys())


FOCUS_CORE = {"billed_cost", "charge_period_start", "billing_period_start"}


def _focus_version(cols: set[str]) -> str | None:
    if "charge_category" not in cols:
        return None  # 1.0-preview used ChargeType; not supported
    if cols & {"service_provider_name", "host_provider_name", "allocated_method_id",
               "contract_applied"}:
        return "1.3"
    if cols & {"billing_account_type", "invoice_id", "pricing_currency", "sub_account_type",
               "pricing_currency_effective_cost"}:
        return "1.2"
    if cols & {"commitment_discount_quantity", "service_subcategory", "sku_meter",
               "capacity_reservation_id", "sku_price_details"}:
        return "1.1"
    return "1.0"


def classify(path: Path, columns: list[str], canonical: list[str], source_format: str,
             compression: str) -> Detection:
    cols = set(canonical)

    def det(family: str, version: str, **kw) -> Detection:
        return Detection(family, source_format, compression, version, columns, canonical, **kw)

    if FOCUS_CORE <= cols:
        version = _focus_version(cols)
        if version is None:
            raise BadInputError(
                path,
                "is a FOCUS file of an unsupported schema version (it has no ChargeCategory "
                "column, which every FOCUS version from 1.0 on has; 1.0-preview is not "
                "supported).",
            )
        return det("focus", version)
    if {"line_item_unblended_cost", "bill_payer_account_id"} <= cols:
        if "product" in cols or "resource_tags" in cols:
            return det("aws_cur2", "2.0")
        return det("aws_cur_legacy", "1")
    if {"billing_account_id", "cost"} <= cols and (
        "service_id" in cols or "service" in cols
    ) and ("invoice_month" in cols or "invoice" in cols):
        version = "detailed" if ({"resource_name", "resource"} & cols) else "standard"
        return det("gcp_billing", version)
    if "meter_category" in cols and "charge_type" in cols and (
        {"cost_in_billing_currency", "cost"} & cols
    ):
        mca = bool({"payg_cost_in_billing_currency", "product_id", "cost_in_usd"} & cols)
        return det("azure_cost_details", "2023-05" if mca else "2019-10",
                   agreement="MCA" if mca else "EA")
    if {"line_item_reference_no", "cost_my_cost"} <= cols:
        return det("oci_cost_report", "1")
    if {"metric_date", "provider", "resource_id", "metric_name", "value"} <= cols:
        return det("utilization_metrics", "1")
    if {"fiscal_quarter", "team", "budget_amount", "currency"} <= cols:
        return det("budgets", "1")
    raise BadInputError(
        path,
        "is not a recognised billing export: no known header was found (looked for AWS CUR "
        "`lineItem/UnblendedCost`/`line_item_unblended_cost`, GCP `billing_account_id`+`cost`, "
        "Azure `MeterCategory`+`ChargeType`, OCI `cost/myCost`, FOCUS `BilledCost`).",
        hint=f"Columns found: {', '.join(columns[:8])}{'…' if len(columns) > 8 else ''}",
    )


def detect(path: Path) -> Detection:
    """Read just enough of `path` to know what it is."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise BadInputError(path, "is empty (0 bytes).")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == PARQUET_MAGIC:
        columns = _parquet_columns(path)
        fmt, compression = "parquet", "none"
    else:
        head, compression = _read_head(path)
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if stripped[:4] == PARQUET_MAGIC:
            raise BadInputError(path, "is a gzip-compressed Parquet file; decompress it first.")
        if stripped[:1] in (b"{", b"["):
            columns = _ndjson_keys(path, stripped)
            fmt = "ndjson"
        else:
            columns = _csv_header(path, head)
            fmt = "csv"
    canonical = _canonical(path, columns)
    return classify(path, columns, canonical, fmt, compression)
