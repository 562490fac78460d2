"""Each data concept has one owner (issue #13): budgets, the quarter calendar and the mart
shapes belong to dbt; Python reads them and declares its own outputs as dbt sources.

The greps below look for the concrete ways a second owner crept in before (the patterns the
old code used); a new owner written differently would still need a reviewer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / "dagster_project"
MODELS = ROOT / "dbt_models" / "models"
MANIFEST = ROOT / "dbt_models" / "target" / "manifest.json"



def _sources(*globs: str) -> dict[str, str]:
    out = {}
    for pattern in globs:
        for path in sorted(PY.rglob(pattern)):
            out[path.relative_to(ROOT).as_posix()] = path.read_text(encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def manifest() -> dict:
    if not MANIFEST.exists():
        pytest.fail(f"{MANIFEST} missing: run `make manifest` first")
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def _model(manifest: dict, name: str) -> dict:
    return next(n for n in manifest["nodes"].values()
                if n["resource_type"] == "model" and n["name"] == name)


# ------------------------------------------------------------------------------------ budgets


def test_no_python_reads_the_budgets_file_or_its_raw_table():
    pattern = re.compile(r"raw\s*\.\s*budgets|[\"']raw[\"']\s*,\s*[\"']budgets[\"']|"
                         r"budgets\.csv|landing[^\n]*budgets", re.IGNORECASE)
    offenders = {path: m.group(0) for path, text in _sources("*.py").items()
                 if not path.startswith("dagster_project/lib/generate/")  # writes the demo file
                 for m in [pattern.search(text)] if m}
    assert offenders == {}


def test_budgets_flow_through_one_staging_model_and_one_fact(manifest):
    children = manifest["child_map"]
    assert [c.split(".")[-1] for c in children["source.mlcost.raw.budgets"]] == [
        "stg_mlcost__budgets"]
    stg = _model(manifest, "stg_mlcost__budgets")["unique_id"]
    readers = {c.split(".")[-1] for c in children[stg] if c.startswith("model.")}
    assert readers == {"fct_budgets"}
    # variance and the report take budgets from the fact only
    text = "\n".join(_sources("*.py").values())
    assert "marts.fct_budgets" in (PY / "lib" / "variance" / "persistence.py").read_text()
    assert "stg_mlcost__budgets" not in text


# ----------------------------------------------------------------------------------- calendar

# How the four earlier owners spelled "a complete quarter".
OLD_RULES = {
    "distinct months counted to 3": r"count\(\s*distinct\s+billing_month\s*\)\s*=\s*3",
    "months per quarter = 3": r"\bwhere\s+n\s*=\s*3\b",
    "3 months hard-coded in the report": r"\b3\s*-\s*headline|of 3 months",
    "closed-month check outside forecasting": r"last_closed_month\s*\(",
    "the old variance helper": r"def\s+_?quarter_complete\b|parse_quarter\(q\)\)",
}


def test_complete_quarter_rule_lives_only_in_dim_calendar():
    found: dict[str, list[str]] = {}
    for path, text in _sources("*.py", "*.j2").items():
        if path == "dagster_project/lib/calendar.py" or path.startswith(
                "dagster_project/lib/forecast/"):
            # The calendar arithmetic and forecasting's own as-of month (the last closed
            # month), not a rule for a complete quarter.
            continue
        for label, pattern in OLD_RULES.items():
            if re.search(pattern, text, re.IGNORECASE):
                found.setdefault(path, []).append(label)
    assert found == {}
    # in dbt, exactly one model computes the flag; the others may only read it
    defining = [p.relative_to(MODELS).as_posix() for p in MODELS.rglob("*.sql")
                if re.search(r"\bas\s+is_quarter_complete\b", p.read_text(encoding="utf-8"))]
    assert defining == ["marts/calendar/dim_calendar.sql"]


def test_python_takes_complete_quarters_from_dim_calendar():
    for path in ("dagster_project/lib/variance/persistence.py",
                 "dagster_project/lib/summary.py", "dagster_project/lib/report/render.py"):
        assert "marts.dim_calendar" in (ROOT / path).read_text(encoding="utf-8"), path


# ------------------------------------------------------------------------------ mart shapes


def test_no_python_declares_a_dbt_mart_shape():
    ddl = re.compile(r"create\s+table\s+(if\s+not\s+exists\s+)?(marts|focus|staging)\.\w+\s*\(",
                     re.IGNORECASE)
    offenders = [path for path, text in _sources("*.py").items() if ddl.search(text)]
    assert offenders == []


# ------------------------------------------------------------------- Python outputs in dbt


def test_python_outputs_are_dbt_sources_pointing_at_their_assets(manifest):
    from dagster_project.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    sources = {(s["source_name"], s["name"]): s for s in manifest["sources"].values()}
    expected = {
        ("forecast", t) for t in ("forecast_snapshots", "forecast_values", "backtest_metrics",
                                  "forecast_runs", "forecast_locks")
    } | {("variance", t) for t in ("quarterly_variance", "variance_decomposition",
                                   "variance_runs")}
    assert expected <= set(sources)
    for key in expected:
        asset = "/".join(sources[key]["meta"]["dagster"]["asset_key"])
        assert asset in keys, (key, asset)
    # only the review marts (and their ephemeral pieces and singular tests) read them: the
    # Python assets run after the other marts, and the review marts after the Python assets
    # (dbt_recommendations_and_review, selectors `recommendations` + `review`: no cycle in
    # the graph)
    children = manifest["child_map"]
    review = {n["unique_id"] for n in manifest["nodes"].values()
              if n["original_file_path"].startswith(("models/marts/review/",
                                                     "models/intermediate/review/",
                                                     "tests/review/"))}
    assert review, "models/marts/review is empty"
    for s in manifest["sources"].values():
        if s["source_name"] in ("forecast", "variance", "monitoring"):
            readers = {c for c in children[s["unique_id"]] if not c.startswith("test.")}
            assert readers <= review, s["unique_id"]


# ---------------------------------------------------------------------------- billing families


def test_billing_families_have_one_owner():
    """Which families are billing data is decided by the family specs; the Python list is
    derived from them and the dbt macro says the same; no module spells the list itself."""
    from dagster_project.lib.families_meta import NON_BILLING_FAMILIES
    from dagster_project.lib.ingest.families import FAMILIES

    assert set(NON_BILLING_FAMILIES) == {n for n, s in FAMILIES.items() if not s.is_billing}
    macro = (ROOT / "dbt_models" / "macros" / "families.sql").read_text(encoding="utf-8")
    body = re.search(r"macro non_billing_families\(\)\s*-?%}(.*?){%-?\s*endmacro", macro, re.S)
    assert set(re.findall(r"'(\w+)'", body.group(1))) == set(NON_BILLING_FAMILIES)
    literal = re.compile(r"""['"](budgets|utilization_metrics)['"]\s*,\s*['"]"""
                         r"""(budgets|utilization_metrics)['"]""")
    spelled = [p for p, text in _sources("*.py").items() if literal.search(text)]
    spelled += [p.relative_to(ROOT).as_posix() for p in MODELS.rglob("*.sql")
                if literal.search(p.read_text(encoding="utf-8"))]
    assert spelled == []


# ------------------------------------------------------------------------------ reconciliation


def test_reconciliation_is_judged_once():
    """The Dagster asset check judges the reconciliation; no dbt test checks it a second time."""
    tests = ROOT / "dbt_models" / "tests"
    judged_in_dbt = [p.relative_to(ROOT).as_posix() for p in tests.rglob("*.sql")
                     if "rpt_focus_reconciliation" in p.read_text(encoding="utf-8")]
    assert judged_in_dbt == []
    checks = (PY / "defs" / "dbt" / "checks.py").read_text(encoding="utf-8")
    assert "def focus_reconciles_to_source" in checks
