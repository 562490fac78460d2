"""Column-segment accumulator: rows are appended as vectorised segments (arrays or
broadcast scalars per column) and materialised against a fixed schema."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


class Segments:
    def __init__(self, schema: pa.Schema):
        self.schema = schema
        self.names = set(schema.names)
        self.segs: list[tuple[int, dict]] = []
        self.n = 0

    def add(self, n: int, **cols) -> None:
        if n <= 0:
            return
        unknown = set(cols) - self.names
        if unknown:  # pragma: no cover - programming error
            raise KeyError(sorted(unknown))
        self.segs.append((n, cols))
        self.n += n

    def table(self) -> pa.Table:
        arrays = []
        for f in self.schema:
            parts = [_part(n, cols.get(f.name), f.type) for n, cols in self.segs]
            arrays.append(pa.concat_arrays(parts) if parts else pa.array([], f.type))
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def clear(self) -> None:
        self.segs = []
        self.n = 0


def _part(n: int, v, typ: pa.DataType) -> pa.Array:
    if v is None:
        return pa.nulls(n, typ)
    if isinstance(v, pa.Scalar):
        return pa.repeat(v if v.type == typ else v.cast(typ), n)
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks()
    if isinstance(v, pa.Array):
        return v if v.type == typ else v.cast(typ)
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "M" and pa.types.is_timestamp(typ):
            # via int64: converting datetime64 to a tz-aware type imports pandas (slow)
            return pa.array(v.astype(f"datetime64[{typ.unit}]").view(np.int64)).view(typ)
        return pa.array(v, type=typ)
    if isinstance(v, list):
        return pa.array(v, type=typ)
    return pa.repeat(pa.scalar(v, type=typ), n)
