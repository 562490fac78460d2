"""Resources shared by every domain: the warehouse and the landing location."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_project import settings
from dagster_project.lib import warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The embedded DuckDB warehouse (dbt target `dev` writes the same file)."""

    path: str

    def connection(self, *, read_only: bool = False):
        return warehouse.connection(Path(self.path), read_only=read_only)


class LandingResource(dg.ConfigurableResource):
    """Where billing exports arrive; walked recursively, files classified by content."""

    path: str


def build_resources() -> dict:
    return {
        "warehouse": WarehouseResource(path=str(settings.warehouse_path())),
        "landing": LandingResource(path=str(settings.landing_dir())),
    }
