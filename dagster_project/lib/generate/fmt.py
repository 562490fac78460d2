"""Exact money and text helpers.

Every money value is generated as an integer number of 1e-10 units, so what is written
(a float64 in Parquet/JSON or decimal text in CSV) has an exact decimal reading and
ground-truth totals can be summed exactly with Python integers.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MONEY_DP = 10
QTY_DP = 6
_P = {dp: 10**dp for dp in range(0, 19)}


def to_units(x: np.ndarray | float, dp: int = MONEY_DP) -> np.ndarray:
    """Round floats to ``dp`` decimals, as int64 units."""
    return np.rint(np.asarray(x, dtype=np.float64) * _P[dp]).astype(np.int64)


def units_to_float(k: np.ndarray, dp: int = MONEY_DP) -> np.ndarray:
    # IEEE division is correctly rounded, so this is the double nearest to k/10**dp;
    # for |value| < 2**19 its shortest repr is exactly k/10**dp.
    return np.asarray(k, dtype=np.int64) / float(_P[dp])


def exact_sum(k: np.ndarray) -> int:
    """Sum int64 units without overflow (split into high and low parts)."""
    k = np.asarray(k, dtype=np.int64)
    if k.size == 0:
        return 0
    hi = k >> 24
    lo = k & ((1 << 24) - 1)
    return (int(hi.sum(dtype=np.int64)) << 24) + int(lo.sum(dtype=np.int64))


def units_to_decimal(total: int, dp: int = MONEY_DP) -> Decimal:
    return Decimal(total).scaleb(-dp)


def fixed_str(k: np.ndarray, dp: int = MONEY_DP) -> pa.Array:
    """Plain decimal text (no exponent, trailing zeros stripped) of int units."""
    k = np.asarray(k, dtype=np.int64)
    a = np.abs(k)
    ip = pc.cast(pa.array(a // _P[dp]), pa.string())
    if dp == 0:
        s = ip
    else:
        fp = pc.utf8_lpad(pc.cast(pa.array(a % _P[dp]), pa.string()), width=dp, padding="0")
        s = pc.binary_join_element_wise(ip, fp, ".")
        s = pc.utf8_rtrim(pc.utf8_rtrim(s, characters="0"), characters=".")
    sign = pa.array(np.where(k < 0, "-", ""))
    return pc.binary_join_element_wise(sign, s, "")


def rate_str(rate: float, dp: int = MONEY_DP) -> str:
    """AWS writes rates as fixed-point text with ten decimals."""
    return f"{rate:.{dp}f}"


def hex_ids(rng: np.random.Generator, n: int, words: int = 2) -> pa.Array:
    """``n`` random lowercase hex strings of ``16 * words`` characters."""
    if n == 0:
        return pa.array([], pa.string())
    raw = rng.integers(0, 2**63, size=(n, words), dtype=np.int64).astype(">u8").tobytes()
    width = 16 * words
    buf = np.frombuffer(raw.hex().encode("ascii"), dtype=f"S{width}")
    return pc.cast(pa.array(buf, pa.binary(width)), pa.string())


def stable_int(*parts: object) -> int:
    """Process-independent hash (Python's hash() is salted per process)."""
    h = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8)
    return int.from_bytes(h.digest(), "big")


def code(*parts: object, n: int = 16, alphabet: str = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789") -> str:
    """Deterministic opaque identifier (SKU ids, meter ids...)."""
    h = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=32).digest()
    return "".join(alphabet[b % len(alphabet)] for b in h[:n])


def guid(*parts: object) -> str:
    h = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def gcp_sku(*parts: object) -> str:
    c = code(*parts, n=12, alphabet="0123456789ABCDEF")
    return f"{c[:4]}-{c[4:8]}-{c[8:12]}"


def csv_quote(s: str) -> str:
    """Quote a CSV field only when needed (RFC 4180, as Azure exports do)."""
    if s and any(ch in s for ch in ',"\n\r'):
        return '"' + s.replace('"', '""') + '"'
    return s
