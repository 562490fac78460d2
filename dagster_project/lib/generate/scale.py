"""Streaming scale mode: one billing month at benchmark volume (1M–100M CUR 2.0 line items).

The demo generator simulates every resource day by day, which is right for 18 months of a
small company and far too slow for 100M rows. Scale mode generates one month of the demo
company once (the *template*, a few thousand rows per provider) and writes it many times
over (*replicas*), each replica with its own resource ids (suffix ``-rNNNNNN``) and, for AWS,
fresh line item ids. GCP and Azure get the same number of replicas, so their volumes keep the
demo's proportions to CUR (about 0.4 GCP and 0.56 Azure rows per CUR row).

Data is streamed: AWS through a Parquet writer in batches of about ``batch_rows`` rows, GCP and
Azure as text blocks, and every provider's month is split into part files of at most
``part_rows`` rows in one folder, the way the exports split large months. Memory stays at
one batch whatever the scale.

Money stays exact: every replica repeats the template's amounts, so the ground-truth totals
are the template's totals (exact decimals) times the number of replicas.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import company as C
from .aws_cur2 import SCHEMA as CUR2_SCHEMA
from .azure_ea import HEADER as EA_HEADER
from .core import PROVIDERS, GenerateSummary, generate
from .fmt import csv_quote, hex_ids, stable_int
from .window import default_end_month

_SUFFIXES = {"k": 10**3, "m": 10**6, "g": 10**9}
# Placeholder for the replica suffix in the text templates (never occurs in exports).
_PH = "\x00"
_GCP_GLOBAL_NAME = re.compile(r'("global_name":"(?![^"]*/commitments/)[^"]*)"')
_AZ_RESOURCE_ID = EA_HEADER.index("ResourceId")


def parse_scale(text: str) -> float | int:
    """``--scale`` value: a multiplier (``1.5``) or a CUR row count (``1M``, ``250k``, ``10M``).

    Returns a float for a multiplier and an int for a row count.
    """
    s = str(text).strip().lower().replace("_", "")
    if s and s[-1] in _SUFFIXES:
        try:
            n = float(s[:-1]) * _SUFFIXES[s[-1]]
        except ValueError:
            raise ValueError(f"--scale {text!r}: expected a multiplier such as 1.5 or a row "
                             "count such as 1M, 10M or 250k") from None
        if n < 1:
            raise ValueError(f"--scale {text!r}: the row count must be at least 1")
        return int(n)
    try:
        v = float(s)
    except ValueError:
        raise ValueError(f"--scale {text!r}: expected a multiplier such as 1.5 or a row count "
                         "such as 1M, 10M or 250k") from None
    if v <= 0:
        raise ValueError(f"--scale {text!r}: the multiplier must be > 0")
    return v


def generate_scaled(out_dir: Path, cur_rows: int, *, seed: int = 42,
                    end_month: dt.date | None = None,
                    providers: tuple[str, ...] = PROVIDERS, part_rows: int = 5_000_000,
                    batch_rows: int = 500_000) -> GenerateSummary:
    """Write one month with at least ``cur_rows`` CUR 2.0 line items (whole replicas of the
    template month) plus matching GCP and Azure volumes under ``out_dir/landing``, and its
    exact totals under ``out_dir/ground_truth/totals.csv``."""
    if cur_rows < 1:
        raise ValueError("cur_rows must be >= 1")
    unknown = set(providers) - set(PROVIDERS)
    if unknown or not providers:
        raise ValueError(f"providers must be a non-empty subset of {PROVIDERS}")
    out_dir = Path(out_dir)
    end_month = end_month or default_end_month()
    with tempfile.TemporaryDirectory(prefix="mlcost-template-") as tmp:
        tpl = Path(tmp)
        generate(tpl, months=1, seed=seed, scale=1.0, end_month=end_month)
        aws_tpl = _aws_template(tpl)
        replicas = math.ceil(cur_rows / aws_tpl.num_rows)
        landing = out_dir / "landing"
        summary = GenerateSummary(out_dir, end_month, end_month, 1, seed, float(replicas))
        label = f"{end_month:%Y-%m}"
        if "aws" in providers:
            folder = (landing / "aws" / C.AWS_EXPORT_NAME / "data" / f"BILLING_PERIOD={label}")
            files, n = _write_aws(folder, aws_tpl, replicas, seed, part_rows, batch_rows)
            summary.files += files
            summary.rows_by_provider["aws"] = n
        if "gcp" in providers:
            files, n = _write_gcp(tpl, landing, replicas, part_rows)
            summary.files += files
            summary.rows_by_provider["gcp"] = n
        if "azure" in providers:
            files, n = _write_azure(tpl, landing, replicas, part_rows)
            summary.files += files
            summary.rows_by_provider["azure"] = n
        # Reference files ride along unscaled so the whole pipeline has its inputs.
        for sub in ("metrics", "budgets"):
            shutil.copytree(tpl / "landing" / sub, landing / sub, dirs_exist_ok=True)
            summary.files += sorted((landing / sub).rglob("*.csv"))
        summary.files.append(_write_totals(tpl, out_dir, replicas, providers))
    return summary


# ------------------------------------------------------------------ AWS (Parquet)
def _aws_template(tpl: Path) -> pa.Table:
    (path,) = sorted((tpl / "landing" / "aws").rglob("*.parquet"))
    return pq.read_table(path).cast(CUR2_SCHEMA)


def _suffixes(first: int, count: int) -> pa.Array:
    return pa.array([f"-r{k:06d}" for k in range(first, first + count)], pa.string())


def _write_aws(folder: Path, tpl: pa.Table, replicas: int, seed: int, part_rows: int,
               batch_rows: int) -> tuple[list[Path], int]:
    folder.mkdir(parents=True, exist_ok=True)
    n0 = tpl.num_rows
    per_batch = max(1, min(batch_rows // n0, max(1, part_rows // n0)))
    per_part = max(per_batch, part_rows // n0 // per_batch * per_batch)
    rid_i = CUR2_SCHEMA.get_field_index("line_item_resource_id")
    lid_i = CUR2_SCHEMA.get_field_index("identity_line_item_id")
    rid = tpl.column(rid_i).combine_chunks()
    has_rid = pc.fill_null(pc.not_equal(rid, ""), False)
    rng = np.random.default_rng([seed, stable_int("aws-scale-ids") % 2**32])
    files: list[Path] = []
    rows = 0
    writer = None
    in_part = 0
    done = 0
    try:
        while done < replicas:
            if writer is None or in_part >= per_part:
                if writer is not None:
                    writer.close()
                path = folder / f"{C.AWS_EXPORT_NAME}-{len(files) + 1:05d}.snappy.parquet"
                writer = pq.ParquetWriter(path, CUR2_SCHEMA, compression="snappy",
                                          version="2.6", use_dictionary=True,
                                          write_statistics=True)
                files.append(path)
                in_part = 0
            k = min(per_batch, replicas - done, per_part - in_part)
            t = pa.concat_tables([tpl] * k).combine_chunks()
            idx = pa.array(np.repeat(np.arange(k, dtype=np.int32), n0))
            suffix = _suffixes(done, k).take(idx)
            ids = pa.chunked_array([rid] * k).combine_chunks()
            new_rid = pc.if_else(pa.chunked_array([has_rid] * k).combine_chunks(),
                                 pc.binary_join_element_wise(ids, suffix, ""), ids)
            t = t.set_column(rid_i, CUR2_SCHEMA.field(rid_i), new_rid)
            t = t.set_column(lid_i, CUR2_SCHEMA.field(lid_i), hex_ids(rng, t.num_rows))
            writer.write_table(t, row_group_size=batch_rows)
            rows += t.num_rows
            in_part += k
            done += k
    finally:
        if writer is not None:
            writer.close()
    return files, rows


# ------------------------------------------------------------------ text exports
def _write_text(folder: Path, name: str, header: str, block: str, n_lines: int, replicas: int,
                part_rows: int) -> tuple[list[Path], int]:
    """Write ``replicas`` copies of ``block`` (lines with ``_PH`` where the replica suffix
    goes), at most ``part_rows`` lines per part file."""
    folder.mkdir(parents=True, exist_ok=True)
    per_part = max(1, part_rows // max(1, n_lines))
    files: list[Path] = []
    done = 0
    while done < replicas:
        path = folder / name.format(part=len(files))
        with path.open("w", encoding="utf-8", newline="") as f:
            f.write(header)
            for k in range(done, min(replicas, done + per_part)):
                f.write(block.replace(_PH, f"-r{k:06d}"))
        files.append(path)
        done = min(replicas, done + per_part)
    return files, n_lines * replicas


def _write_gcp(tpl: Path, landing: Path, replicas: int, part_rows: int
               ) -> tuple[list[Path], int]:
    (src,) = sorted((tpl / "landing" / "gcp").rglob("*.jsonl"))
    text = src.read_text(encoding="utf-8")
    n = text.count("\n")
    block = _GCP_GLOBAL_NAME.sub(lambda m: m.group(1) + _PH + '"', text)
    rel = src.parent.relative_to(tpl / "landing")
    # BigQuery extracts of a large table are numbered shards of one wildcard name.
    return _write_text(landing / rel, src.stem + "-{part:012d}.jsonl", "", block, n, replicas,
                       part_rows)


def _write_azure(tpl: Path, landing: Path, replicas: int, part_rows: int
                 ) -> tuple[list[Path], int]:
    files: list[Path] = []
    rows = 0
    for src in sorted((tpl / "landing" / "azure").rglob("*.csv")):
        raw = src.read_text(encoding="utf-8")
        header, _, body = raw.partition("\n")
        out = io.StringIO()
        n = 0
        for rec in csv.reader(io.StringIO(body)):
            if rec[_AZ_RESOURCE_ID].startswith("/subscriptions/"):
                rec[_AZ_RESOURCE_ID] += _PH
            out.write(",".join(csv_quote(x) for x in rec) + "\n")
            n += 1
        rel = src.parent.relative_to(tpl / "landing")
        f, r = _write_text(landing / rel, "part_{part}_0001.csv", header + "\n", out.getvalue(),
                           n, replicas, part_rows)
        files += f
        rows += r
    return files, rows


# ------------------------------------------------------------------ ground truth
def _write_totals(tpl: Path, out_dir: Path, replicas: int, providers: tuple[str, ...]) -> Path:
    gt = out_dir / "ground_truth"
    gt.mkdir(parents=True, exist_ok=True)
    path = gt / "totals.csv"
    with (tpl / "ground_truth" / "totals.csv").open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["provider"] in providers]
    with path.open("w", encoding="utf-8", newline="") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(["provider", "billing_account_id", "billing_period", "currency",
                     "billed_total", "effective_total", "replicas"])
        for r in rows:
            wr.writerow([r["provider"], r["billing_account_id"], r["billing_period"],
                         r["currency"], f"{Decimal(r['billed_total']) * replicas:f}",
                         f"{Decimal(r['effective_total']) * replicas:f}", replicas])
    return path
