"""Whether a run needs to rebuild dbt's seeds (the reference CSVs in `seeds/`).

A seed table and the results of its tests depend only on the seed's file and configuration,
the tests' definitions, the project's macros and the dbt versions, never on billing data.
When none of that changed since a run that built the seeds and passed every test on them,
and the warehouse still holds exactly those tables, building them again gives the same
tables and the same test results: `mlcost run` then leaves the seeds (and their checks) out
of its Dagster job (lib/pipeline.py). Any doubt means a rebuild.

The record is `<warehouse>.mlcost-seeds.json`: the fingerprint of those inputs and, per seed
table, its row count and an order-independent hash of its rows. It is removed before a run
that builds the seeds, and written only after that run built them and every check on them
passed, so a run killed half-way, or a seed test that warned, means the next run builds and
tests them again. DuckDB targets only: on BigQuery the seeds are always built.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

STATE_VERSION = 1
_DISTRIBUTIONS = ("dbt-core", "dbt-duckdb", "duckdb")


def state_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".mlcost-seeds.json")


def seed_ids(manifest: Mapping[str, Any]) -> list[str]:
    return sorted(uid for uid, node in manifest["nodes"].items()
                  if node["resource_type"] == "seed")


def _versions() -> list[str]:
    out = []
    for dist in _DISTRIBUTIONS:
        try:
            out.append(f"{dist}=={version(dist)}")
        except PackageNotFoundError:
            out.append(f"{dist}==?")
    return out


def fingerprint(manifest: Mapping[str, Any], target: str) -> str:
    """sha256 of what the seed tables and their tests' results are made of: each seed's file
    checksum and configuration, every test whose parents are all seeds, the project's own
    macros (a seed or test materialization could be overridden there) and the versions."""
    nodes = manifest["nodes"]
    seeds = set(seed_ids(manifest))
    parts: list[Any] = [STATE_VERSION, target, _versions()]
    for uid in sorted(seeds):
        node = nodes[uid]
        parts.append([uid, node["checksum"], node["config"], node.get("columns"),
                      node.get("relation_name")])
    for uid, node in sorted(nodes.items()):
        deps = node.get("depends_on", {}).get("nodes", [])
        if node["resource_type"] == "test" and deps and set(deps) <= seeds:
            parts.append([uid, node.get("raw_code"), node.get("test_metadata"),
                          node["config"], deps])
    project = manifest["metadata"].get("project_name")
    for uid, macro in sorted(manifest["macros"].items()):
        if macro.get("package_name") == project:
            parts.append([uid, macro.get("macro_sql")])
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def _relations(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    nodes = manifest["nodes"]
    return [(nodes[uid]["schema"], nodes[uid]["alias"] or nodes[uid]["name"])
            for uid in seed_ids(manifest)]


def table_hashes(con, relations: Iterable[tuple[str, str]]) -> dict[str, list] | None:
    """{schema.table: [rows, hash of its rows]}; None if a table is missing."""
    from dagster_project.lib.ingest.sql import quote_ident
    from dagster_project.lib.warehouse import table_exists

    out = {}
    for schema, table in relations:
        if not table_exists(con, schema, table):
            return None
        # Identifiers from dbt's manifest, quoted; bit_xor of row hashes ignores row order.
        relation = f"{quote_ident(schema)}.{quote_ident(table)}"
        ((rows, digest),) = con.execute(
            f"select count(*), coalesce(bit_xor(hash(t)), 0)::varchar from {relation} as t"  # noqa: S608 (quoted ids)
        ).fetchall()
        out[f"{schema}.{table}"] = [rows, digest]
    return out


def seeds_current(warehouse: Path, manifest: Mapping[str, Any], target: str) -> bool:
    """True when the warehouse holds the seeds a passing run built from these very inputs."""
    try:
        state = json.loads(state_path(warehouse).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(state, dict) or state.get("fingerprint") != fingerprint(manifest, target):
        return False
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return False
    try:
        return table_hashes(con, _relations(manifest)) == state.get("tables")
    except duckdb.Error:
        return False
    finally:
        con.close()


def forget(warehouse: Path) -> None:
    state_path(warehouse).unlink(missing_ok=True)


def record(warehouse: Path, manifest: Mapping[str, Any], target: str) -> None:
    """After a run that built the seeds and passed every check on them."""
    from dagster_project.lib.warehouse import connection

    with connection(warehouse, read_only=True) as con:
        tables = table_hashes(con, _relations(manifest))
    if tables is None:
        return
    path = state_path(warehouse)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"fingerprint": fingerprint(manifest, target), "tables": tables}))
    tmp.replace(path)  # never half a record


class SeedPlan:
    """The seeds' part of one `mlcost run`: leave them out (`selection` is the job's assets
    without them) or build them (`selection` None) and record them if all went well."""

    def __init__(self, job, warehouse: Path, *, full_refresh: bool, target: str) -> None:
        from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets

        from dagster_project.defs.dbt.assets import dbt_reference_and_staging
        from dagster_project.defs.dbt.project import mlcost_dbt_project
        from dagster_project.lib.config import is_bigquery

        manifest, translator, _ = get_manifest_and_translator_from_dbt_assets(
            [dbt_reference_and_staging])
        self.warehouse, self.manifest, self.target = warehouse, manifest, target
        self.keys = {translator.get_asset_spec(manifest, uid, mlcost_dbt_project).key
                     for uid in seed_ids(manifest)}
        self.current = (not full_refresh and not is_bigquery(target)
                        and seeds_current(warehouse, manifest, target))
        job_keys = job.asset_layer.selected_asset_keys
        self.selection = sorted(job_keys - self.keys) if self.current else None
        if not self.current:
            forget(warehouse)  # a run killed half-way must not leave a record behind

    def after(self, result) -> None:
        """Record the seeds after a successful run that built every one of them and passed
        every check on them (a check that warned is run again next time)."""
        if self.current or not result.success:
            return
        built = {ev.asset_key for ev in result.get_asset_materialization_events()}
        checks = [ev for ev in result.get_asset_check_evaluations() if ev.asset_key in self.keys]
        if self.keys <= built and all(ev.passed for ev in checks):
            record(self.warehouse, self.manifest, self.target)
