"""Import heavy libraries in a background thread while this process waits on something else.

During a dbt invocation the Dagster process mostly waits for the dbt subprocess (blocked on
its output, without the GIL), so the stages that follow can have their libraries imported
meanwhile: the forecast's pandas, scipy, statsforecast and polars take ≈ 6 s to import.
"""

from __future__ import annotations

import importlib
import threading

FORECAST_STACK = ("pandas", "scipy.stats", "statsforecast.models", "polars")

_started: set[str] = set()
_lock = threading.Lock()


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 (the stage's own import reports it properly)
            continue


def warm_imports(modules: tuple[str, ...] = FORECAST_STACK) -> threading.Thread | None:
    """Start importing `modules` in a thread, once per process. Not a daemon: an interpreter
    exiting mid-import would fail in the thread, so exit waits for it (a few seconds)."""
    with _lock:
        todo = tuple(m for m in modules if m not in _started)
        _started.update(todo)
    if not todo:
        return None
    thread = threading.Thread(target=_import_all, args=(todo,), name="mlcost-warm-imports")
    thread.start()
    return thread
