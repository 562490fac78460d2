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
    """Where billing exports arrive: a local folder or an fsspec URL (s3://, gs://, az://),
    walked recursively, files classified by content. Remote objects are mirrored into
    `cache_dir` before loading (docs/operations.md)."""

    location: str
    cache_dir: str

    def local_folder(self):
        """(local folder to load, sync result or None); syncs a remote landing first."""
        from dagster_project.lib.landing import materialize_landing

        return materialize_landing(self.location, Path(self.cache_dir))


def build_resources() -> dict:
    return {
        "warehouse": WarehouseResource(path=str(settings.warehouse_path())),
        "landing": LandingResource(location=settings.landing_location(),
                                   cache_dir=str(settings.landing_cache_dir())),
    }
