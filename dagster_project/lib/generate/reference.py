"""The generator's reference data: prices, SKUs, meters, bucket and dataset tables and the
CUR 2.0 column list, read from the files in ``data/`` (see docs/demo-data.md).

Values come back as JSON/CSV gives them (JSON numbers with a fraction or exponent as float,
the others as int), which is what the catalog used when they were Python literals, so the
generated files do not depend on where the numbers are kept.
"""

from __future__ import annotations

import copy
import csv
import json
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")


@cache
def _read_json(name: str) -> dict:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def load_json(name: str) -> dict:
    """A fresh copy of ``data/<name>``: callers build line dicts from it and may change them."""
    return copy.deepcopy(_read_json(name))


@cache
def load_csv(name: str) -> tuple[dict[str, str], ...]:
    """The rows of ``data/<name>`` as string dicts, in file order."""
    with open(DATA_DIR / name, newline="", encoding="utf-8") as f:
        return tuple(csv.DictReader(f))
