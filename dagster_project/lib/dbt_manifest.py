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


def ensure_dbt_manifest(force: bool = False) -> Path:
    """`dbt parse` when the manifest is missing or older than any dbt source file."""
    manifest = settings.DBT_PROJECT_DIR / "target" / "manifest.json"
    # dbt's partial-parse state hashes the profile, warehouse path included: parsed for another
    # warehouse, every dbt invocation of the run would parse the whole project again.
    parsed_for = settings.DBT_PROJECT_DIR / "target" / ".mlcost-parsed-for"
    profile_key = os.environ.get("MLCOST_WAREHOUSE", "")
    if not force and manifest.exists() and parsed_for.exists() \
            and parsed_for.read_text() == profile_key:
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
