"""The FOCUS column list has one owner, `dbt_models/macros/focus_columns.sql`: the published
model's yml (its enforced contract) and the great-expectations suite must agree with it
(issue #13). Pure file reads, no warehouse."""

import json
from pathlib import Path

import jinja2
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MACRO = ROOT / "dbt_models" / "macros" / "focus_columns.sql"
MODEL_YML = ROOT / "dbt_models" / "models" / "focus" / "_focus__models.yml"
SUITE = ROOT / "expectations" / "focus_cost_and_usage.json"
FIRST_FOCUS_1_3_COLUMN = "AllocatedMethodDetails"


def macro_columns() -> list[str]:
    """Render the macro as dbt would and take the list it returns (`return(cols)`)."""
    returned: list = []

    def _return(value):
        returned.append(value)
        return ""

    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.from_string(MACRO.read_text() + "{{ focus_columns() }}").render(**{"return": _return})
    assert len(returned) == 1, "focus_columns() must return its list exactly once"
    return [name for name, _kind in returned[0]]


def yml_columns(path: Path = MODEL_YML) -> list[str]:
    models = yaml.safe_load(path.read_text())["models"]
    (model,) = [m for m in models if m["name"] == "focus_cost_and_usage"]
    return [c["name"] for c in model["columns"]]


def suite() -> list[dict]:
    return json.loads(SUITE.read_text())["expectations"]


@pytest.fixture(scope="module")
def columns() -> list[str]:
    cols = macro_columns()
    assert len(cols) == len(set(cols)), "a column is listed twice in focus_columns()"
    return cols


def test_model_yml_lists_the_macro_columns_in_order(columns):
    assert yml_columns() == columns


def test_gx_suite_column_set_is_the_macro_focus_1_2_block(columns):
    # The suite checks FOCUS 1.2 conformance: the macro's leading block (before the 1.3
    # additions and the x_ extensions), alphabetical as the spec lists it.
    focus_1_2 = columns[:columns.index(FIRST_FOCUS_1_3_COLUMN)]
    assert focus_1_2 == sorted(focus_1_2, key=str.lower)
    assert not [c for c in focus_1_2 if c.startswith("x_")]
    (column_set,) = [e["kwargs"]["column_set"] for e in suite()
                     if e["type"] == "expect_table_columns_to_match_set"]
    assert column_set == focus_1_2


def test_every_gx_expectation_names_a_macro_column(columns):
    named = set()
    for e in suite():
        kwargs = e["kwargs"]
        named |= {kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs}
    assert named, "the suite names no column: the parsing above is wrong"
    assert sorted(named - set(columns)) == []


def test_a_column_missing_from_the_yml_is_caught(columns, tmp_path):
    # The comparison is real: drop one column from a copy of the yml and it fails.
    doc = yaml.safe_load(MODEL_YML.read_text())
    model = next(m for m in doc["models"] if m["name"] == "focus_cost_and_usage")
    model["columns"] = [c for c in model["columns"] if c["name"] != "BilledCost"]
    copy = tmp_path / "models.yml"
    copy.write_text(yaml.safe_dump(doc))
    assert yml_columns(copy) != columns
