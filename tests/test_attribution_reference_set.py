"""The reference set of the attribution seeds (docs/attribution.md, "Reference sets"): where a
run's set comes from, how a bad name is refused, and that the shipped seeds keep the demo
company's rows out of the neutral `default` set."""

from __future__ import annotations

import csv
import os

import pytest

from dagster_project import settings
from dagster_project.exit_codes import USAGE, ExitError
from dagster_project.lib import config

SEEDS = settings.PROJECT_ROOT / "seeds"
DEMO_TEAMS = {"search-ranking", "fraud-detection", "recommendations", "ml-platform"}


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    for key in ("MLCOST_CONFIG", "MLCOST_REFERENCE_SET"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def _rows(seed: str, reference_set: str) -> list[dict[str, str]]:
    with (SEEDS / f"{seed}.csv").open(newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["reference_set"] in ("*", reference_set)]


def test_environment_beats_the_config_file_which_beats_the_default(tmp_path, no_env):
    assert settings.reference_set() == "default"
    (tmp_path / "mlcost.toml").write_text('reference_set = "acme"\n')
    assert settings.reference_set() == "acme"
    no_env.setenv("MLCOST_REFERENCE_SET", "demo")
    assert settings.reference_set() == "demo"
    for key in ("MLCOST_LANDING", "MLCOST_WAREHOUSE", "MLCOST_REPORTS", "MLCOST_EXPORTS"):
        no_env.setenv(key, os.environ.get(key, ""))  # restored after the test
    settings.export_env()  # what dbt (a subprocess) reads
    assert os.environ["MLCOST_REFERENCE_SET"] == "demo"


@pytest.mark.parametrize("name", ["Demo", "acme corp", "x'; drop table t; --", "-x"])
def test_a_bad_name_is_refused_with_the_file_and_key_or_the_variable(tmp_path, no_env, name):
    (tmp_path / "mlcost.toml").write_text(f'reference_set = "{name}"\n')
    with pytest.raises(ExitError) as err:
        config.parse_config(tmp_path / "mlcost.toml")
    assert err.value.code == USAGE and "`reference_set`" in str(err.value)
    (tmp_path / "mlcost.toml").unlink()
    no_env.setenv("MLCOST_REFERENCE_SET", name)
    with pytest.raises(ExitError) as err:
        settings.reference_set()
    assert err.value.code == USAGE and "MLCOST_REFERENCE_SET" in str(err.value)


def test_the_demo_config_keeps_the_demo_set(tmp_path, no_env):
    path, written = config.write_demo_config(tmp_path, tmp_path / "landing", tmp_path / "w.duckdb")
    assert written and config.parse_config(path).reference_set == "demo"


def test_the_default_set_is_neutral():
    for seed in ("teams", "team_aliases", "ml_models", "account_team_map",
                 "shared_cost_fixed_shares", "team_access"):
        assert _rows(seed, "default") == [], seed
    rules = _rows("shared_cost_rules", "default")
    assert {r["split_method"] for r in rules} <= {"proportional", "proportional_sub_account"}
    assert len({r["rule_id"] for r in rules}) == len(rules)  # one rule per id in a set
    # No account of the demo company decides a workload in the default set.
    assert not [r for r in _rows("workload_rules", "default") if r["match_on"] == "sub_account_id"]


def test_the_demo_set_keeps_the_demo_company():
    assert {r["team"] for r in _rows("teams", "demo")} == DEMO_TEAMS
    rules = {r["rule_id"]: r["split_method"] for r in _rows("shared_cost_rules", "demo")}
    assert rules["unused_commitment"] == "fixed" and rules["ml_tooling_marketplace"] == "fixed"
    assert len(rules) == len(_rows("shared_cost_rules", "demo"))


def test_every_workload_rule_names_a_known_workload_and_networking_and_other_exist():
    with (SEEDS / "workload_aliases.csv").open(newline="", encoding="utf-8") as f:
        workloads = {r["workload"] for r in csv.DictReader(f)}
    assert {"networking", "other", "shared"} <= workloads
    rules = {r["rule_id"]: r["workload"] for r in _rows("workload_rules", "default")}
    assert rules["networking_service"] == "networking"
    assert {rules["other_tax"], rules["other_support"], rules["other_marketplace"]} == {"other"}
    assert set(rules.values()) <= workloads
