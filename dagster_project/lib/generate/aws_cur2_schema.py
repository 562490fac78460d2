"""The AWS CUR 2.0 column set (``data/aws_cur2_columns.csv``) as a pyarrow schema, and the
constants the CUR writers share.

Column set and types follow the CUR 2.0 table dictionary (docs.aws.amazon.com/cur/latest/
userguide/table-dictionary-cur2.html) as exported with split cost allocation data enabled:
fixed snake_case columns, rates as strings, money as double, the map columns ``product``,
``resource_tags``, ``cost_category`` (map<string,string>) and ``discount``
(map<string,double>).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from .reference import load_csv

MS = pa.map_(pa.string(), pa.string())
MD = pa.map_(pa.string(), pa.float64())
# The type names the column file uses.
_TYPES = {"string": pa.string(), "double": pa.float64(),
          "timestamp_ms_utc": pa.timestamp("ms", tz="UTC"), "map_string_string": MS,
          "map_string_double": MD}

SCHEMA = pa.schema([pa.field(r["column"], _TYPES[r["type"]])
                    for r in load_csv("aws_cur2_columns.csv")])
MAP_COLUMNS = ("product", "resource_tags", "cost_category", "discount")

LEGAL = "Amazon Web Services, Inc."
LOCATION = "US East (N. Virginia)"
QTY_DP = 6  # decimals of usage quantities


def iso_ms(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
