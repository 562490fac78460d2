"""Dagster group = dbt folder = warehouse schema; sources resolve to the ingest assets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

STAGE_GROUPS = {"staging": "staging", "intermediate": "intermediate", "focus": "focus",
                "marts": "marts"}


class MlcostTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        # Several tables of one Python asset (forecast_values and forecast_snapshots, both
        # written by forecast/forecast_snapshots) may be read by one dbt asset
        # (dbt_recommendations_and_review).
        super().__init__(settings=DagsterDbtTranslatorSettings(
            enable_asset_checks=True, enable_duplicate_source_asset_keys=True))

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "seed":
            return spec.replace_attributes(key=dg.AssetKey(["reference", props["name"]]),
                                           group_name="reference")
        if props["resource_type"] in ("model", "snapshot"):
            folder = props.get("fqn", ["", ""])[1] if len(props.get("fqn", [])) > 2 else "marts"
            group = STAGE_GROUPS.get(folder, folder)
            schema = props.get("schema") or group
            return spec.replace_attributes(key=dg.AssetKey([schema, props["name"]]),
                                           group_name=group)
        return spec
