"""Resources shared by every domain: the warehouse and the landing location."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_project import settings
from dagster_project.lib import warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse, picked by the dbt target: the embedded DuckDB file on `dev` (dbt writes
    the same file); on `prod` (BigQuery) that file is the run's working copy, each stage's
    inputs pulled from BigQuery before it and its outputs pushed after it
    (lib/bigquery_stages.py), so the assets are the same on every target."""

    path: str
    target: str = "dev"

    def connection(self, *, read_only: bool = False):
        from dagster_project.lib.bigquery_stages import is_bigquery, stage_connection

        if is_bigquery(self.target):
            return stage_connection(Path(self.path), read_only=read_only)
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
        "warehouse": WarehouseResource(path=str(settings.warehouse_path()),
                                       target=settings.dbt_target()),
        "landing": LandingResource(location=settings.landing_location(),
                                   cache_dir=str(settings.landing_cache_dir())),
    }
