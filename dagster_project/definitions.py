"""The single code location: every module under `defs/` discovered by Dagster's own loader
(`dg.load_from_defs_folder`, configured by dg.toml), merged with the project-wide resources,
console logger and executor. A new domain folder or module needs no edit here."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_project.defs.dbt.assets import dbt_resource
from dagster_project.defs.resources import build_resources
from dagster_project.lib.console_logger import console_logger

PROJECT_ROOT = Path(__file__).resolve().parent.parent

defs = dg.Definitions.merge(
    dg.load_from_defs_folder(path_within_project=PROJECT_ROOT),
    dg.Definitions(resources={**build_resources(), "dbt": dbt_resource()},
                   loggers={"console": console_logger}, executor=dg.in_process_executor),
)
