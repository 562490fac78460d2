"""The landing location: a local folder, or an object store reached through fsspec.

Remote deliveries (s3://, gs://, az://, abfs://) are mirrored into a local cache and loaded
from there by the ordinary loader, so detection, hashing and quarantine work the same
everywhere. An object is downloaded again only when its fingerprint (ETag, else size and
modification time) changed. Credentials come from the environment or the provider's default
chain (AWS_* / instance profile, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_* ...); only
non-secret options may be given in MLCOST_LANDING_OPTIONS (JSON, e.g. {"anon": true}).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# Pure path helpers live in settings (which imports nothing of lib/): no import cycle.
from dagster_project.settings import cache_dir_for, is_remote

from .ingest.loader import SKIPPED_SUFFIXES, discover

SYNC_STATE = ".mlcost-sync.json"


@dataclass
class SyncResult:
    local_dir: Path
    downloaded: list[str] = field(default_factory=list)
    unchanged: int = 0


def _storage_options() -> dict:
    raw = os.environ.get("MLCOST_LANDING_OPTIONS", "").strip()
    if not raw:
        return {}
    try:
        options = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"MLCOST_LANDING_OPTIONS is not valid JSON: {exc}") from exc
    if not isinstance(options, dict):
        raise ValueError("MLCOST_LANDING_OPTIONS must be a JSON object, e.g. {\"anon\": true}")
    return options


def _filesystem(location: str):
    import fsspec

    try:
        return fsspec.core.url_to_fs(location, **_storage_options())
    except ImportError as exc:
        scheme = location.split("://", 1)[0]
        extra = {"gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs"}.get(scheme, scheme)
        raise ValueError(
            f"MLCOST_LANDING={location}: no filesystem for {scheme}:// is installed. Install "
            f"{extra} (see docs/operations.md, remote landing).") from exc


def _wanted(rel: str) -> bool:
    parts = rel.split("/")
    return not any(p.startswith(".") for p in parts) and not rel.lower().endswith(
        SKIPPED_SUFFIXES)


def _remote_fingerprint(info: dict) -> str:
    etag = info.get("ETag") or info.get("etag") or info.get("md5Hash") or info.get("content_md5")
    if etag:
        return f"etag:{str(etag).strip(chr(34))}"
    return f"{info.get('size')}:{_modified(info) or ''}"


def _modified(info: dict) -> datetime | None:
    for key in ("LastModified", "last_modified", "updated", "mtime"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def list_objects(location: str) -> dict[str, str]:
    """Every delivery under `location`: relative path -> fingerprint. Cheap (a listing, no
    reads), so a sensor can call it every tick."""
    if not is_remote(location):
        root = Path(location)
        if not root.exists():
            return {}
        out = {}
        for p in discover(root):
            st = p.stat()
            out[p.relative_to(root).as_posix() if root.is_dir() else p.name] = (
                f"{st.st_size}:{st.st_mtime_ns}")
        return out
    fs, root = _filesystem(location)
    root = root.rstrip("/")
    # fsspec caches filesystems and their listings per process; a sensor must see new objects.
    fs.invalidate_cache()
    out = {}
    for path, info in fs.find(root, detail=True).items():
        if info.get("type", "file") != "file":
            continue
        rel = path[len(root):].lstrip("/") if path.startswith(root) else path
        if rel and _wanted(rel):
            out[rel] = _remote_fingerprint(info)
    return out


def changed(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """Objects that are new or whose fingerprint differs (removals are not deliveries)."""
    return sorted(k for k, v in current.items() if previous.get(k) != v)


def sync(location: str, cache_dir: Path) -> SyncResult:
    """Mirror changed remote objects into `cache_dir` (atomically per file, keeping the
    object's modification time, which the freshness check reads)."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    state_path = cache_dir / SYNC_STATE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    fs, root = _filesystem(location)
    root = root.rstrip("/")
    fs.invalidate_cache()
    result = SyncResult(cache_dir)
    for path, info in sorted(fs.find(root, detail=True).items()):
        if info.get("type", "file") != "file":
            continue
        rel = path[len(root):].lstrip("/") if path.startswith(root) else path
        if not rel or not _wanted(rel):
            continue
        fingerprint = _remote_fingerprint(info)
        dest = cache_dir / rel
        if state.get(rel) == fingerprint and dest.exists():
            result.unchanged += 1
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.part")
        fs.get_file(path, str(tmp))
        modified = _modified(info)
        if modified is not None:
            ts = modified.timestamp()
            os.utime(tmp, (ts, ts))
        os.replace(tmp, dest)
        state[rel] = fingerprint
        result.downloaded.append(rel)
        # Saved per file: an interrupted sync resumes where it stopped.
        state_path.write_text(json.dumps(state, indent=0, sort_keys=True))
    return result


def materialize_landing(location: str, cache_root: Path) -> tuple[Path, SyncResult | None]:
    """The local folder to load from; remote locations are synced into the cache first."""
    if not is_remote(location):
        return Path(location), None
    res = sync(location, cache_dir_for(location, cache_root))
    return res.local_dir, res


def files_to_load(con, paths: list[Path]) -> list[Path]:
    """Paths whose (path, size, modification time) the ledger has not seen: the loader hashes
    every file it is given, so a tick over a large landing should hash only what changed."""
    if not paths:
        return []
    from .warehouse import table_exists

    if not table_exists(con, "meta", "load_ledger"):
        return list(paths)
    seen = {
        (p, int(size), mod)
        for p, size, mod in con.execute(
            # Quarantined files go back to the loader, which reports them again (by hash).
            "select path, size_bytes, modified_at from meta.load_ledger "
            "where status <> 'quarantined' and size_bytes is not null "
            "and modified_at is not null").fetchall()
    }
    out = []
    for p in paths:
        st = p.stat()
        mod = datetime.fromtimestamp(st.st_mtime, UTC).replace(tzinfo=None)
        if (str(p), st.st_size, mod) not in seen:
            out.append(p)
    return out
