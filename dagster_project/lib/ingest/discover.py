"""Walk the landing folder: which files to read, how they are named in messages, and when a
file has settled enough to be read."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .errors import BadInputError

# Never billing data: checksums, partial downloads, documentation beside the exports.
SKIPPED_SUFFIXES = (".crc", ".tmp", ".part", ".md", ".txt", ".pdf", ".sha256", ".manifest")

# A file modified less than this many seconds ago may still be being written: leave it for the
# next run. Demo and tests, which write their files before loading them, set it to 0.
DEFAULT_SETTLE_SECONDS = 10.0


def settle_seconds() -> float:
    return float(os.environ.get("MLCOST_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def discover(landing: Path) -> list[Path]:
    """Every regular file below `landing` (hidden files and folders skipped), oldest first.

    Symlinked folders are followed once; a link back into a visited folder is ignored, so a
    symlink loop cannot hang the scan.
    """
    landing = Path(landing)
    if not landing.exists():
        raise BadInputError(landing, "does not exist.", hint="Set --landing or MLCOST_LANDING.")
    if landing.is_file():
        return [landing]
    found: list[Path] = []
    seen_dirs: set[tuple[int, int]] = set()
    for root, dirs, files in os.walk(landing, followlinks=True):
        st = os.stat(root)
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            dirs[:] = []
            continue
        seen_dirs.add(key)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or name.lower().endswith(SKIPPED_SUFFIXES):
                continue
            p = Path(root) / name
            if p.is_file():
                found.append(p)
    found.sort(key=lambda p: (p.stat().st_mtime, str(p)))
    return found


def display_path(path: Path, landing: Path | None) -> str:
    """The name a message uses for a file: relative to the landing folder when below it."""
    if landing is None:
        return str(path)
    landing = Path(landing)
    if landing.is_file() or path == landing:
        return path.name
    rel = os.path.relpath(path, landing)
    return str(path) if rel.startswith("..") else rel


def stat_key(stat: os.stat_result) -> tuple[int, int]:
    return (stat.st_size, stat.st_mtime_ns)

