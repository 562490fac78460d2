"""Where things live. Every path can be overridden from the environment; nothing secret here."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_models"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"


def _from_file(key: str) -> str | None:
    """A key of the project config file, mlcost.toml (lib/config.py): below the environment."""
    from dagster_project.lib.config import project_config

    return getattr(project_config(), key)


def landing_location() -> str:
    """MLCOST_LANDING, else `landing` in mlcost.toml, else data/landing: a local folder or an
    fsspec URL such as s3://bucket/prefix, gs://bucket/prefix or az://container/prefix."""
    value = (os.environ.get("MLCOST_LANDING") or _from_file("landing")
             or str(PROJECT_ROOT / "data" / "landing"))
    return value if is_remote(value) else str(Path(value.removeprefix("file://")).resolve())


def is_remote(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


def cache_dir_for(location: str, cache_root: Path) -> Path:
    """One cache folder per landing URL: readable prefix plus a short hash of the full URL."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", location.split("://", 1)[-1]).strip("_")[:60]
    digest = hashlib.sha256(location.encode()).hexdigest()[:10]
    return Path(cache_root) / f"{slug}-{digest}"


def landing_cache_dir() -> Path:
    """Where remote deliveries are mirrored before loading (MLCOST_LANDING_CACHE)."""
    return Path(os.environ.get("MLCOST_LANDING_CACHE", PROJECT_ROOT / "data" / "landing_cache")
                ).resolve()


def landing_dir() -> Path:
    """The local folder the loader reads: the landing itself, or its cache when remote."""
    location = landing_location()
    if is_remote(location):
        return cache_dir_for(location, landing_cache_dir())
    return Path(location)


def first_billing_period() -> str:
    """First month of the billing-period partitions (MLCOST_FIRST_BILLING_PERIOD, YYYY-MM)."""
    return os.environ.get("MLCOST_FIRST_BILLING_PERIOD", "2015-01")


def freshness_hours() -> float:
    """A provider/billing account whose last delivery is older than this is stale (WARN)."""
    return float(os.environ.get("MLCOST_FRESHNESS_HOURS", "48"))


def warehouse_path() -> Path:
    """MLCOST_WAREHOUSE, else `warehouse` in mlcost.toml, else data/warehouse.duckdb."""
    return Path(os.environ.get("MLCOST_WAREHOUSE") or _from_file("warehouse")
                or PROJECT_ROOT / "data" / "warehouse.duckdb").resolve()


def dbt_target() -> str:
    """DBT_TARGET, else `target` in mlcost.toml, else dev (DuckDB)."""
    return os.environ.get("DBT_TARGET") or _from_file("target") or "dev"


def scenarios_path() -> Path | None:
    """MLCOST_SCENARIOS, else `scenarios` in mlcost.toml (the forecast scenarios file)."""
    value = os.environ.get("MLCOST_SCENARIOS") or _from_file("scenarios")
    return Path(value).resolve() if value else None


def mlflow_uri() -> str | None:
    """MLCOST_MLFLOW_URI, else `mlflow_uri` in mlcost.toml."""
    return os.environ.get("MLCOST_MLFLOW_URI") or _from_file("mlflow_uri")


def reference_set() -> str:
    """MLCOST_REFERENCE_SET, else `reference_set` in mlcost.toml, else `default`: which rows of
    the reference seeds apply (docs/attribution.md, "Reference sets"); `mlcost demo` uses demo."""
    from dagster_project.exit_codes import USAGE, ExitError
    from dagster_project.lib.config import REFERENCE_SET_RE

    value = (os.environ.get("MLCOST_REFERENCE_SET") or _from_file("reference_set")
             or "default").strip()
    if not re.fullmatch(REFERENCE_SET_RE, value):
        raise ExitError(f"MLCOST_REFERENCE_SET={value!r} is not a reference set name (lower-case "
                        "letters, digits, '-' and '_'; shipped: default, demo).", USAGE)
    return value


# The review pack's materiality thresholds (docs/review-marts.md): key -> (env, default).
MATERIALITY = {"materiality_amount": ("MLCOST_MATERIALITY_AMOUNT", "1000"),
               "materiality_pct": ("MLCOST_MATERIALITY_PCT", "5")}


def materiality(key: str) -> str:
    """MLCOST_MATERIALITY_AMOUNT / _PCT, else the mlcost.toml key, else 1000 / 5: the dbt vars
    of the same name override all three (macro `materiality`)."""
    from dagster_project.exit_codes import USAGE, ExitError
    from dagster_project.lib.config import materiality_value

    env, default = MATERIALITY[key]
    raw = os.environ.get(env)
    if raw is not None and raw.strip():
        value = materiality_value(raw)
        if value is None:
            raise ExitError(f"{env}={raw!r} is not a materiality threshold: a number >= 0 with "
                            "at most 9 decimals (e.g. 1000 or 2.5).", USAGE)
        return value
    return _from_file(key) or default


def reports_dir() -> Path:
    return Path(os.environ.get("MLCOST_REPORTS", PROJECT_ROOT / "data" / "reports")).resolve()


def exports_dir() -> Path:
    return Path(os.environ.get("MLCOST_EXPORTS", PROJECT_ROOT / "data" / "exports")).resolve()


def export_env() -> None:
    """Pin the resolved paths in the environment so dbt (a subprocess) sees the same files."""
    os.environ["MLCOST_LANDING"] = landing_location()
    os.environ["MLCOST_WAREHOUSE"] = str(warehouse_path())
    os.environ["MLCOST_REPORTS"] = str(reports_dir())
    os.environ["MLCOST_EXPORTS"] = str(exports_dir())
    os.environ["DBT_TARGET"] = dbt_target()
    os.environ["MLCOST_REFERENCE_SET"] = reference_set()
    for key, (env, _) in MATERIALITY.items():
        os.environ[env] = materiality(key)
