"""Classify a landed file from its content: container, format, provider family and schema version.

Names are never trusted: an Azure export called `focus.csv` is still an Azure export.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zipfile
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
    # Header problems that only matter once the file is known to be an export (validate.py):
    # (first header, later header, the canonical name both read as) and nameless columns.
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)
    nameless: list[int] = field(default_factory=list)

    @property
    def format_label(self) -> str:
        return self.source_format + (".gz" if self.compression == "gzip" else "")


# Files that are not text, by their leading bytes: named, so the message says what was landed.
MAGIC_KINDS = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-format Office document (XLS or DOC)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "an executable program (ELF)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"Obj\x01", "an Avro file"),
    (b"\xff\xfe", "UTF-16 text"),
    (b"\xfe\xff", "UTF-16 text"),
)


def binary_kind(head: bytes, path: Path | None = None) -> str | None:
    """What a non-text file is, from its first bytes (`path` lets a ZIP be opened to tell an
    Excel workbook from a plain archive); None for anything that may be text."""
    if head[8:12] == b"DUCK":
        return "a DuckDB database"
    if head[257:262] == b"ustar":
        return "a tar archive"
    if head[:3] == b"BZh" and head[4:10] == b"1AY&SY":
        return "a bzip2-compressed file"
    for magic, kind in MAGIC_KINDS:
        if head.startswith(magic):
            if kind == "a ZIP archive" and path is not None:
                return _zip_kind(path)
            return kind
    return None


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return "a ZIP archive"
    if any(n.startswith("xl/") for n in names):
        return "an Excel workbook (XLSX)"
    if any(n.startswith("word/") for n in names):
        return "a Word document (DOCX)"
    inner = ", ".join(names[:3]) + ("…" if len(names) > 3 else "")
    return f"a ZIP archive (of {inner})" if names else "an empty ZIP archive"


def _not_an_export(path: Path, kind: str, gzipped: bool = False) -> BadInputError:
    if kind == "UTF-16 text":
        return BadInputError(path, f"is {'gzip-compressed ' if gzipped else ''}UTF-16 text, "
                             "not UTF-8.", hint="Billing exports are UTF-8; re-export or "
                             "convert the file.")
    what = f"gzip-compressed; inside is {kind}" if gzipped else kind
    return BadInputError(path, f"is {what}, not a billing export.",
                         hint="Billing exports are CSV, newline-delimited JSON or Parquet.")


def _read_head(path: Path) -> tuple[bytes, str]:
    with open(path, "rb") as fh:
        raw = fh.read(512)
    if raw[:2] == GZIP_MAGIC:
        try:
            with gzip.open(path, "rb") as gz:
                head = gz.read(HEADER_PROBE_BYTES)
        except (EOFError, OSError, zlib.error) as exc:
            raise BadInputError(
                path, f"is a gzip file that cannot be decompressed ({exc}); it is truncated "
                "or corrupt.", hint="Re-download the export."
            ) from exc
        if head[:4] != PARQUET_MAGIC and (kind := binary_kind(head)):
            raise _not_an_export(path, kind, gzipped=True)
        return head, "gzip"
    if kind := binary_kind(raw, path):
        raise _not_an_export(path, kind)
    with open(path, "rb") as fh:
        return fh.read(HEADER_PROBE_BYTES), "none"


def _canonical(columns: list[str]) -> tuple[list[str], list[tuple[str, str, str]], list[int]]:
    """Unique canonical names, one per header, and the headers that fold together.

    Headers that read as the same snake_case name (`resourceTags/user:Team` and
    `resourceTags/user:team`; `cost-center` and `cost_center`) stay distinct columns: the later
    one gets `__2`, `__3`... (`to_snake` never writes a double underscore, so these names
    cannot clash with a real header). Whether the fold is a problem depends on the family
    (validate.py): two tag columns are two tags; two columns staging reads are ambiguous.
    """
    canonical: list[str] = []
    first: dict[str, str] = {}
    taken: set[str] = set()
    duplicates: list[tuple[str, str, str]] = []
    nameless: list[int] = []
    for i, col in enumerate(columns, start=1):
        base = to_snake(col)
        if not base:
            nameless.append(i)
            base = f"unnamed_column_{i}"
        if base in first:
            duplicates.append((first[base], col, base))
        else:
            first[base] = col
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}__{n}"
        taken.add(name)
        canonical.append(name)
    return canonical, duplicates, nameless


def _csv_header(path: Path, head: bytes) -> list[str]:
    if not head.strip():
        raise BadInputError(path, "is empty: it has no header and no rows.")
    if b"\x00" in head[:4096]:
        # Text exports never hold NUL bytes; the known binary kinds were named before this.
        raise BadInputError(path, "is a binary file of unknown type (it contains NUL bytes), "
                            "not a billing export.",
                            hint="Billing exports are CSV, newline-delimited JSON or Parquet.")
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
    # Any CUR line-item column with the payer account: a CUR missing its cost column is still
    # a CUR, and the message then names the missing column.
    if "bill_payer_account_id" in cols and any(c.startswith("line_item_") for c in cols):
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
    if {"recommendation_id", "status", "date"} <= cols:
        return det("recommendation_actions", "1")
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
            # CloudWatch / Prometheus metrics responses (lib/metrics, docs/metrics.md).
            from ..metrics import sniff_format
            from ..metrics.stage import detection
            if (metrics_format := sniff_format(stripped)) is not None:
                return detection(metrics_format, compression)
            columns = _ndjson_keys(path, stripped)
            fmt = "ndjson"
        else:
            columns = _csv_header(path, head)
            fmt = "csv"
    canonical, duplicates, nameless = _canonical(columns)
    det = classify(path, columns, canonical, fmt, compression)
    det.duplicates, det.nameless = duplicates, nameless
    return det
