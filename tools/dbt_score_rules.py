"""mlcost's dbt conventions as dbt-score rules (docs/development.md, "dbt conventions").

Loaded by `make lint` through `[tool.dbt-score] rule_namespaces` in pyproject.toml; each rule
is one convention of /work/shared/conventions.md that dbt-score's own rules do not cover.
"""

import posixpath
import re

from dbt_score import Model, RuleViolation, Source, rule

# Folder (models/<layer>/...) -> the name prefixes a model there may have.
LAYER_PREFIXES = {
    "staging": ("stg_",),
    "intermediate": ("int_",),
    "focus": ("focus_", "rpt_"),
    "marts": ("fct_", "dim_", "rpt_"),
}


def _tests(model: Model) -> list[tuple[str, dict]]:
    return [((t.get("test_metadata") or {}).get("name", ""),
             (t.get("test_metadata") or {}).get("kwargs") or {})
            for t in model._raw_test_values]


def _yml_dir(patch_path: str | None) -> str | None:
    return posixpath.dirname(patch_path.split("://", 1)[-1]) if patch_path else None


@rule
def has_grain_test(model: Model) -> RuleViolation | None:
    """A model has a grain test: unique on its key (a column, a key expression or
    unique_combination over several columns) and not_null on every key column (its own
    not_null test or the model's not_null_columns), or `unique_key` (both in one test).

    One exception, written down in the model's yml: an ephemeral model (compiled into its
    readers, never stored) whose key is tested on a model built from it names that model in
    `meta: {grain_held_by: ...}`; a test on the ephemeral model would recompute it whole."""
    held_by = (model.meta or {}).get("grain_held_by")
    if held_by and model.config.get("materialized") == "ephemeral":
        return None
    tests = _tests(model)
    not_null = {kw.get("column_name") for name, kw in tests if name == "not_null"}
    not_null.update(c for name, kw in tests if name == "not_null_columns"
                    for c in kw.get("columns", []))
    for name, kw in tests:
        if name == "unique_key":  # unique and not null in one test (tests/generic/unique_key.sql)
            return None
        if name == "unique":
            key = kw.get("column_name", "")
            # A key expression (a || '|' || b) is checked by the unique test alone.
            if key in not_null or not re.fullmatch(r"\w+", key or ""):
                return None
        if name == "unique_combination":
            missing = [c for c in kw.get("combination_of_columns", []) if c not in not_null]
            if not missing:
                return None
            return RuleViolation(f"Grain columns without not_null: {', '.join(missing)}.")
    return RuleViolation("No grain test (unique + not_null on the key, or unique_combination).")


@rule
def yml_beside_model(model: Model) -> RuleViolation | None:
    """A model's yml (description, tests) sits in the model's own folder."""
    sql_dir = posixpath.dirname(model.original_file_path)
    yml_dir = _yml_dir(model.patch_path)
    if yml_dir is None:
        return RuleViolation("The model has no yml.")
    if yml_dir != sql_dir:
        return RuleViolation(f"The yml is in {yml_dir}, the model in {sql_dir}.")
    return None


@rule
def name_matches_layer(model: Model) -> RuleViolation | None:
    """A model's name starts with its layer's prefix (stg_, int_, fct_/dim_/rpt_)."""
    parts = model.original_file_path.split("/")
    layer = parts[1] if len(parts) > 2 else ""
    prefixes = LAYER_PREFIXES.get(layer)
    if prefixes is None:
        return RuleViolation(f"Model outside the layer folders {sorted(LAYER_PREFIXES)}.")
    if not model.name.startswith(prefixes):
        return RuleViolation(f"A {layer} model's name starts with {' or '.join(prefixes)}.")
    return None


@rule
def staging_is_view(model: Model) -> RuleViolation | None:
    """Staging models are views (rename and cast, no storage of their own)."""
    if model.name.startswith("stg_") and model.config.get("materialized") != "view":
        return RuleViolation("A staging model is materialized as a view.")
    return None


@rule
def one_sources_file_per_source(source: Source) -> RuleViolation | None:
    """A source table is declared in models/staging/<family>/_<family>__sources.yml."""
    path = source.original_file_path
    match = re.fullmatch(r"models/staging/(\w+)/_(\w+)__sources\.yml", path)
    if not match or match.group(1) != match.group(2):
        return RuleViolation(f"{path}: expected models/staging/<family>/_<family>__sources.yml.")
    return None


@rule
def source_has_description(source: Source) -> RuleViolation | None:
    """A source table has a description."""
    if not source.description:
        return RuleViolation("The source table has no description.")
    return None
