"""dbt's manifest, which @dbt_assets needs at import time (outside `dagster dev` nothing else
makes it), and the cleanup of target folders earlier versions left behind."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from dagster_project import settings
from dagster_project.exit_codes import FAILED, ExitError

# dagster-dbt's default target folder per invocation (`<asset>-<run id>-<random>`), which
# mlcost used before it gave each dbt asset one folder beside the warehouse (defs/dbt/assets.py).
_PER_INVOCATION_TARGET = re.compile(r"[a-z_]+-[0-9a-f]{7}-[0-9a-f]{7}")


def _dbt_inputs() -> list[Path]:
    root = settings.DBT_PROJECT_DIR
    files = [root / "dbt_project.yml", root / "profiles.yml"]
    for sub in ("models", "macros", "tests"):
        files.extend(p for p in (root / sub).rglob("*") if p.is_file())
    files.extend(p for p in (settings.PROJECT_ROOT / "seeds").rglob("*") if p.is_file())
    return files


def _profile_key() -> str:
    return f"{settings.dbt_target()}|{os.environ.get('MLCOST_WAREHOUSE', '')}"


def _same_target(parsed: str, current: str) -> bool:
    return parsed.partition("|")[0] == current.partition("|")[0]


def canonical_warehouse(warehouse: str) -> str:
    """The warehouse path a dbt worker parses with (lib/dbt_worker.py): one path per file
    name. dbt-duckdb names the database after the file, so a manifest parsed for it has the
    same nodes as one parsed for the real path; dbt's partial-parse state, which hashes the
    path, is then shared by every warehouse of that name instead of parsed anew for each."""
    return str(settings.DBT_PROJECT_DIR / "target" / "canonical" / Path(warehouse).name)


def shared_parse_state(warehouse: str) -> Path:
    """Where the partial-parse state for `canonical_warehouse(warehouse)` is kept."""
    name = f"{settings.dbt_target()}-{Path(warehouse).name}.msgpack"
    return settings.DBT_PROJECT_DIR / "target" / "worker-state" / name


def ensure_dbt_manifest(force: bool = False, *, definitions_only: bool = False) -> Path:
    """`dbt parse` when the manifest is missing or older than any dbt source file.

    dbt's partial-parse state hashes the profile, warehouse path included: parsed for another
    warehouse, every dbt *process* of the run would parse the whole project again, so by
    default the manifest is re-parsed for this warehouse. `definitions_only`: the manifest
    only feeds Dagster's definitions (a `mlcost run`, whose dbt worker parses for itself,
    lib/dbt_worker.py), which do not depend on the warehouse: any parse for the target will do.
    """
    manifest = settings.DBT_PROJECT_DIR / "target" / "manifest.json"
    parsed_for = settings.DBT_PROJECT_DIR / "target" / ".mlcost-parsed-for"
    profile_key = _profile_key()
    parsed = parsed_for.read_text() if parsed_for.exists() else None
    if not force and manifest.exists() and parsed is not None and (
            parsed == profile_key or (definitions_only and _same_target(parsed, profile_key))):
        newest = max((p.stat().st_mtime for p in _dbt_inputs()), default=0)
        if manifest.stat().st_mtime >= newest:
            return manifest
    from dbt.cli.main import dbtRunner

    res = dbtRunner().invoke(["parse", "--quiet", "--project-dir", str(settings.DBT_PROJECT_DIR),
                              "--profiles-dir", str(settings.DBT_PROJECT_DIR)])
    if isinstance(res.exception, KeyboardInterrupt):
        raise res.exception  # Ctrl-C/SIGTERM during the parse: stop, do not report a failure
    if not res.success:
        raise ExitError(f"dbt could not parse the project in {settings.DBT_PROJECT_DIR}: "
                        f"{res.exception or 'see the dbt log above'}", FAILED)
    parsed_for.write_text(profile_key)
    return manifest


def prune_per_invocation_targets() -> int:
    """Remove the per-invocation dbt target folders earlier versions left (8 MB each, three a
    run, never removed). Returns how many were removed."""
    target = settings.DBT_PROJECT_DIR / "target"
    stale = [p for p in target.iterdir() if p.is_dir()
             and _PER_INVOCATION_TARGET.fullmatch(p.name)] if target.is_dir() else []
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return len(stale)
