"""The project config file, `mlcost.toml`: found from the working directory upwards, read with
tomllib. Precedence (settings.py applies it): flags > environment > this file > defaults.

    landing = "data/demo/landing"        # folder (relative to this file) or s3://... URL
    warehouse = "data/warehouse.duckdb"  # relative to this file
    target = "dev"                       # dbt target: dev (DuckDB), prod (BigQuery), ci...
    scenarios = "scenarios.yml"          # forecast scenarios file, relative to this file
    mlflow_uri = "http://127.0.0.1:5000" # MLflow tracking URI
    reference_set = "default"            # reference seeds: default (neutral) or demo
    materiality_amount = 1000            # review pack: a variance is material when its amount
    materiality_pct = 5                  # AND its percentage reach both (docs/review-marts.md)
    review_notes = "review_notes"        # reviewer notes: a file, a folder of <quarter>.md,
                                         # or a path with {quarter} (docs/review-pack.md)

`scenarios` names the forecast's planning assumptions file (read by lib/forecast/command.py;
without it, `scenarios.yml` beside the landing folder is used when it exists). `target` is
read and validated here for the BigQuery work; `mlflow_uri` is the tracking store the asset
raw/mlflow_runs and `mlcost sync-mlflow` read (docs/mlflow.md). `materiality_amount` (in the
billing currency) and `materiality_pct` are the review marts' materiality thresholds (numbers or
numeric strings, >= 0), handed to dbt through MLCOST_MATERIALITY_AMOUNT / _PCT.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from dagster_project.exit_codes import USAGE, ExitError

FILE_NAME = "mlcost.toml"
CONFIG_ENV = "MLCOST_CONFIG"  # a file to use instead of the search; "" = no file at all
TARGETS = ("dev", "prod", "ci", "emulator")  # the outputs of dbt_models/profiles.yml
# The targets whose warehouse is BigQuery (`ci` only compiles: it cannot run).
BIGQUERY_TARGETS = ("prod", "emulator")


def is_bigquery(target: str) -> bool:
    return target in BIGQUERY_TARGETS
KEYS = ("landing", "warehouse", "target", "scenarios", "mlflow_uri", "reference_set",
        "materiality_amount", "materiality_pct", "review_notes")
# Keys whose value is a number (TOML integer or float, or a string holding one).
NUMBER_KEYS = ("materiality_amount", "materiality_pct")
# A threshold reaches dbt SQL as a literal (macro materiality): only plain decimals pass.
MATERIALITY_RE = r"[0-9]{1,15}(\.[0-9]{1,9})?"
# A reference-set name reaches dbt SQL (macro reference_rows): only these characters pass.
REFERENCE_SET_RE = r"[a-z0-9][a-z0-9_-]{0,62}"


@dataclass(frozen=True)
class ProjectConfig:
    path: Path | None = None  # None: no file
    landing: str | None = None
    warehouse: str | None = None
    target: str | None = None
    scenarios: str | None = None
    mlflow_uri: str | None = None
    reference_set: str | None = None
    materiality_amount: str | None = None
    materiality_pct: str | None = None
    review_notes: str | None = None  # the review pack's notes file/folder (lib/report/notes.py)


def materiality_value(value: object) -> str | None:
    """A materiality threshold as plain decimal text (e.g. "1000", "2.5"), or None when it is
    not a non-negative number of at most 15 digits and 9 decimals."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    text = (format(Decimal(repr(value)), "f") if isinstance(value, float)
            else str(value).strip())
    return text if re.fullmatch(MATERIALITY_RE, text) else None


def find_config(start: Path | None = None) -> Path | None:
    """$MLCOST_CONFIG if set (empty: none), else the first mlcost.toml from `start` (the
    working directory) up to the filesystem root."""
    if CONFIG_ENV in os.environ:
        value = os.environ[CONFIG_ENV]
        return Path(value).expanduser().resolve() if value else None
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def _is_url(value: str) -> bool:
    return "://" in value and not value.startswith("file://")


def _path(file: Path, key: str, value: str) -> str:
    """A path relative to the file's folder (URLs as they are)."""
    if _is_url(value):
        return value
    return str((file.parent / Path(value.removeprefix("file://")).expanduser()).resolve())


def _bad(file: Path, key: str | None, problem: str) -> ExitError:
    where = f"{file}: key `{key}`" if key else str(file)
    return ExitError(f"{where}: {problem} (mlcost.toml keys: {', '.join(KEYS)}; see README "
                     "'Configuration').", USAGE)


def parse_config(file: Path) -> ProjectConfig:
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise _bad(file, None, f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExitError(f"{file}: cannot read the config file: {exc}", USAGE) from None
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise _bad(file, unknown[0], "unknown key")
    values: dict[str, str] = {}
    for key, value in data.items():
        if key in NUMBER_KEYS:
            number = materiality_value(value)
            if number is None:
                raise _bad(file, key, f"expected a number >= 0 (e.g. {key} = 1000), got "
                           f"{value!r}")
            values[key] = number
            continue
        if not isinstance(value, str) or not value.strip():
            raise _bad(file, key, f"expected a non-empty string, got {value!r}")
        values[key] = value.strip()
    if "target" in values and values["target"] not in TARGETS:
        raise _bad(file, "target", f"{values['target']!r} is not a dbt target; expected one of "
                   f"{', '.join(TARGETS)}")
    uri = values.get("mlflow_uri")
    if uri is not None and not ("://" in uri or uri.startswith("file:") or uri == "databricks"):
        raise _bad(file, "mlflow_uri", f"{uri!r} is not a URI (e.g. http://host:5000, "
                   "file:///path/mlruns, databricks)")
    ref_set = values.get("reference_set")
    if ref_set is not None and not re.fullmatch(REFERENCE_SET_RE, ref_set):
        raise _bad(file, "reference_set", f"{ref_set!r} is not a reference set name (lower-case "
                   "letters, digits, '-' and '_'; shipped: default, demo)")
    for key in ("landing", "warehouse", "scenarios", "review_notes"):
        if key in values:
            values[key] = _path(file, key, values[key])
    return ProjectConfig(path=file, **values)


_cache: dict[tuple[str, int], ProjectConfig] = {}


def project_config() -> ProjectConfig:
    """The config in effect for this process (re-read when the file changes)."""
    file = find_config()
    if file is None:
        return ProjectConfig()
    try:
        key = (str(file), file.stat().st_mtime_ns)
    except OSError:
        raise ExitError(f"{file}: {CONFIG_ENV} names a config file that does not exist.",
                        USAGE) from None
    if key not in _cache:
        _cache[key] = parse_config(file)
    return _cache[key]


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def write_demo_config(folder: Path, landing: Path, warehouse: Path,
                      mlflow_uri: str | None = None) -> tuple[Path, bool]:
    """Write `folder/mlcost.toml` pointing at the demo's landing and warehouse, unless a config
    file already exists there. Returns (path, written)."""
    file = folder / FILE_NAME
    if file.exists():
        return file, False
    text = ("# Written by `mlcost demo`: the demo's landing folder and warehouse, so a bare\n"
            "# `mlcost run` works. Paths are relative to this file. Keys: README 'Configuration'.\n"
            f"landing = {_toml_string(_relative(landing, folder))}\n"
            f"warehouse = {_toml_string(_relative(warehouse, folder))}\n"
            "# The demo company's teams, accounts and shared-cost shares (docs/attribution.md).\n"
            'reference_set = "demo"\n')
    if mlflow_uri:
        text += ("# The demo's MLflow tracking store (docs/mlflow.md).\n"
                 f"mlflow_uri = {_toml_string(mlflow_uri)}\n")
    file.write_text(text, encoding="utf-8")
    return file, True


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
