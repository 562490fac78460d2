"""The generator's streaming scale mode (benchmark volumes): correctness at a small scale."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from dagster_project.lib.generate.aws_cur2 import SCHEMA as CUR2_SCHEMA
from dagster_project.lib.generate.scale import generate_scaled, parse_scale

END = dt.date(2026, 9, 1)


@pytest.mark.parametrize(("text", "value"), [
    ("1M", 1_000_000), ("10m", 10_000_000), ("250k", 250_000), ("1.5M", 1_500_000),
    ("1.5", 1.5), ("0.3", 0.3),
])
def test_parse_scale(text, value):
    v = parse_scale(text)
    assert v == value and type(v) is type(value)


@pytest.mark.parametrize("text", ["0", "-1", "abc", "1X", "M"])
def test_parse_scale_rejects(text):
    with pytest.raises(ValueError, match="--scale"):
        parse_scale(text)


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    root = tmp_path_factory.mktemp("scaled")
    # tiny parts and batches so the streaming paths (several parts, several batches) run
    s = generate_scaled(root, 10_000, seed=7, end_month=END, part_rows=6_000, batch_rows=3_000)
    return root, s


def _totals(root: Path) -> dict[str, dict]:
    with (root / "ground_truth" / "totals.csv").open(encoding="utf-8", newline="") as f:
        return {r["provider"]: r for r in csv.DictReader(f)}


def test_scaled_aws_parts_rows_and_ids(scaled):
    root, s = scaled
    files = sorted((root / "landing" / "aws").rglob("*.parquet"))
    assert len(files) >= 2  # split into parts of one delivery folder
    assert len({f.parent for f in files}) == 1
    assert all(pq.read_schema(f).equals(CUR2_SCHEMA) for f in files)
    t = pq.ParquetDataset(files).read()
    replicas = int(s.scale)
    assert t.num_rows == s.rows_by_provider["aws"] >= 10_000
    assert t.num_rows % replicas == 0
    ids = t.column("identity_line_item_id")
    assert pc.count_distinct(ids).as_py() == t.num_rows
    rid = pc.drop_null(t.column("line_item_resource_id")).to_pylist()
    rid = [r for r in rid if r]
    assert rid and all(r[-8:-6] == "-r" for r in rid)
    # every replica carries its own copy of each resource
    assert len({r[:-8] for r in rid}) * replicas == len(set(rid))


def test_scaled_money_matches_totals_exactly(scaled):
    root, s = scaled
    tot = _totals(root)
    replicas = int(s.scale)
    assert {r["replicas"] for r in tot.values()} == {str(replicas)}
    t = pq.ParquetDataset(sorted((root / "landing" / "aws").rglob("*.parquet"))).read(
        columns=["line_item_unblended_cost"])
    aws = sum(Decimal(repr(x)) for x in t.column(0).to_pylist() if x is not None)
    assert aws == Decimal(tot["aws"]["billed_total"])

    gcp = Decimal(0)
    n_gcp = 0
    for p in sorted((root / "landing" / "gcp").rglob("*.jsonl")):
        with p.open(encoding="utf-8") as f:
            for line in f:
                r = json.loads(line, parse_float=Decimal)
                gcp += r["cost"] + sum((c["amount"] for c in r["credits"]), Decimal(0))
                n_gcp += 1
    assert n_gcp == s.rows_by_provider["gcp"]
    assert gcp == Decimal(tot["gcp"]["billed_total"])

    az = {}
    n_az = 0
    for p in sorted((root / "landing" / "azure").rglob("*.csv")):
        with p.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        n_az += len(rows)
        kind = "actual" if "actual" in str(p) else "amortized"
        az[kind] = az.get(kind, Decimal(0)) + sum(Decimal(r["Cost"]) for r in rows)
        assert len({r["ResourceId"] for r in rows if r["ResourceId"].startswith("/sub")}) > 1
    assert n_az == s.rows_by_provider["azure"]
    assert az["actual"] == Decimal(tot["azure"]["billed_total"])
    assert az["amortized"] == Decimal(tot["azure"]["effective_total"])


def test_scaled_keeps_reference_inputs_and_is_deterministic(scaled, tmp_path):
    root, _ = scaled
    assert (root / "landing" / "budgets" / "budgets.csv").exists()
    assert list((root / "landing" / "metrics").glob("utilization_*.csv"))
    again = generate_scaled(tmp_path, 10_000, seed=7, end_month=END, part_rows=6_000,
                            batch_rows=3_000, providers=("aws",))
    assert set(again.rows_by_provider) == {"aws"}
    a = sorted((root / "landing" / "aws").rglob("*.parquet"))
    b = sorted((tmp_path / "landing" / "aws").rglob("*.parquet"))
    assert [f.read_bytes() for f in a] == [f.read_bytes() for f in b]
    assert not (tmp_path / "landing" / "gcp").exists()


def test_cli_generate_scale_row_count(tmp_path, capsys):
    from dagster_project.cli import EXIT_USAGE, main

    assert main(["generate", "--out", str(tmp_path / "s"), "--scale", "9k"]) == 0
    assert "aws" in capsys.readouterr().out
    files = list((tmp_path / "s" / "landing" / "aws").rglob("*.parquet"))
    assert sum(pq.read_metadata(f).num_rows for f in files) >= 9_000
    assert main(["generate", "--out", str(tmp_path / "bad"), "--scale", "lots"]) == EXIT_USAGE
    assert "--scale 'lots'" in capsys.readouterr().err
