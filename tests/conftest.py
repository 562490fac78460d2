"""Shared fixtures: build warehouses from real samples or generated data and run dbt on them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from dagster_project import settings

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "real"


@dataclass
class DbtResult:
    success: bool
    output: str


def run_dbt(warehouse: Path, target_path: Path, args: list[str]) -> DbtResult:
    """Run dbt against `warehouse` in a subprocess, as Dagster does.

    In process, dbt-duckdb keeps its connection open after the command, and DuckDB refuses a
    second connection with other settings from the same process.
    """
    env = {**os.environ, "MLCOST_WAREHOUSE": str(warehouse)}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir",
         str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR),
         "--target-path", str(target_path),
         # Only tests whose every parent is selected: a FOCUS-only build must not run mart tests.
         *(["--indirect-selection", "cautious"] if "--select" in args else [])],
        env=env, capture_output=True, text=True, check=False,
    )
    return DbtResult(proc.returncode == 0, proc.stdout + proc.stderr)


def build_warehouse(tmp: Path, landing_paths: list[Path], name: str = "wh.duckdb") -> Path:
    """Ingest the given files/folders, then `dbt build` everything up to the FOCUS layer."""
    from dagster_project.lib.ingest.loader import discover, ingest_paths
    from dagster_project.lib.warehouse import connection

    wh = tmp / name
    files: list[Path] = []
    for p in landing_paths:
        files.extend(discover(p))
    with connection(wh) as con:
        ingest_paths(con, files)
    return wh


@pytest.fixture(scope="session")
def real_landing(tmp_path_factory) -> Path:
    """A writable copy of the real samples."""
    dest = tmp_path_factory.mktemp("real") / "landing"
    shutil.copytree(REAL, dest)
    return dest
