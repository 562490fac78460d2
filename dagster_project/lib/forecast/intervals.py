"""Prediction intervals: ordering and clipping the 80/95% bounds, and fast normal quantiles."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np


def finish(res: dict[str, np.ndarray], nonneg: bool) -> dict[str, np.ndarray]:
    """Order the bounds around the point and clip at zero for non-negative series."""
    mean = res["mean"]
    lo95 = np.minimum.reduce([res["lo-95"], res["lo-80"], mean])
    lo80 = np.clip(res["lo-80"], lo95, mean)
    hi95 = np.maximum.reduce([res["hi-95"], res["hi-80"], mean])
    hi80 = np.clip(res["hi-80"], mean, hi95)
    out = {"mean": mean, "lo-80": lo80, "hi-80": hi80, "lo-95": lo95, "hi-95": hi95}
    if nonneg:
        out = {k: np.maximum(v, 0.0) for k, v in out.items()}
    return out


@contextlib.contextmanager
def cached_normal_quantiles() -> Iterator[None]:
    """Memoise statsforecast's normal interval quantiles while forecasting.

    ``statsforecast.utils._quantiles`` builds a scipy frozen distribution on every call
    (~1 ms, more than fitting Naive/Drift/Theta on a short series). The z-values for
    levels (80, 95) are constants, so they are cached -- results are identical. Other
    distributions are passed through, and the original function is restored on exit.
    """
    from statsforecast import utils as sf_utils

    original = getattr(sf_utils, "_quantiles", None)
    if original is None:  # a statsforecast version without the helper: nothing to do
        yield
        return
    cache: dict[tuple[float, ...], np.ndarray] = {}

    def quantiles(level: Any, distribution: str = "normal", dist_params: Any = None) -> Any:
        if distribution != "normal" or dist_params is not None:
            return original(level, distribution=distribution, dist_params=dist_params)
        key = tuple(float(x) for x in np.atleast_1d(level))
        if key not in cache:
            cache[key] = np.asarray(original(level, distribution=distribution))
        return cache[key].copy()

    sf_utils._quantiles = quantiles
    try:
        yield
    finally:
        sf_utils._quantiles = original
