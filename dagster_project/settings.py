"""Where things live. Every path can be overridden from the environment; nothing secret here."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_models"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"


def landing_dir() -> Path:
    return Path(os.environ.get("MLCOST_LANDING", PROJECT_ROOT / "data" / "landing")).resolve()


def warehouse_path() -> Path:
    return Path(os.environ.get("MLCOST_WAREHOUSE", PROJECT_ROOT / "data" / "warehouse.duckdb")
                ).resolve()


def reports_dir() -> Path:
    return Path(os.environ.get("MLCOST_REPORTS", PROJECT_ROOT / "data" / "reports")).resolve()


def exports_dir() -> Path:
    return Path(os.environ.get("MLCOST_EXPORTS", PROJECT_ROOT / "data" / "exports")).resolve()


def export_env() -> None:
    """Pin the resolved paths in the environment so dbt (a subprocess) sees the same files."""
    os.environ["MLCOST_LANDING"] = str(landing_dir())
    os.environ["MLCOST_WAREHOUSE"] = str(warehouse_path())
    os.environ["MLCOST_REPORTS"] = str(reports_dir())
    os.environ["MLCOST_EXPORTS"] = str(exports_dir())
