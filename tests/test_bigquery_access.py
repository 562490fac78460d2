"""Who sees which cost rows on BigQuery (lib/bigquery_access.py, `mlcost bigquery-access`;
docs/bigquery.md, "Access: who sees which rows"): the generated SQL against golden files, its
parse with sqlglot's BigQuery dialect, hostile and bad seed rows, and apply against a fake
client. The authorized views run on the emulator in
tests/integration/test_bigquery_access_emulator.py."""

from __future__ import annotations

import csv
import json
import re
import shutil
import signal
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from dagster_project import cli, settings
from dagster_project.lib import bigquery_access as ba
from dagster_project.lib.ingest.errors import BadInputError

SEEDS = settings.PROJECT_ROOT / "seeds"
GOLDEN = Path(__file__).parent / "fixtures" / "golden"
PROJECT = "mlcost-golden"
REGENERATE = {
    "bigquery_access_policies.sql": "mlcost bigquery-access --project mlcost-golden "
    "--reference-set demo > tests/fixtures/golden/bigquery_access_policies.sql",
    "bigquery_access_views.sql": "MLCOST_BQ_LOCATION=US mlcost bigquery-access --variant views "
    "--project mlcost-golden --reference-set demo > tests/fixtures/golden/"
    "bigquery_access_views.sql",
}
POLICY = re.compile(r"CREATE OR REPLACE ROW ACCESS POLICY (\w+) ON (`[^`]+`)\n"
                    r"  GRANT TO (\(.*\))\n  FILTER USING \((.*)\);", re.S)


@pytest.fixture(scope="module")
def rules() -> ba.AccessRules:
    return ba.load_rules(SEEDS, "demo")


def _golden(name: str, actual: str) -> None:
    expected = (GOLDEN / name).read_bytes()
    assert actual.encode("utf-8") == expected, (
        f"tests/fixtures/golden/{name} differs from what the seeds generate now. If the change "
        f"is intended, regenerate it with `{REGENERATE[name]}` and review the diff.")


def test_policies_match_the_golden_file(rules):
    _golden("bigquery_access_policies.sql", ba.render_policies(rules, PROJECT))


def test_views_match_the_golden_file(rules):
    _golden("bigquery_access_views.sql", ba.render_views(rules, PROJECT, "US"))


def test_cli_prints_the_golden_file(monkeypatch, capsys):
    monkeypatch.setattr(signal, "signal", lambda *a: None)  # main() installs handlers
    monkeypatch.setenv("MLCOST_REFERENCE_SET", "default")  # --reference-set wins
    monkeypatch.setenv("MLCOST_BQ_PROJECT", PROJECT)
    assert cli.main(["bigquery-access", "--reference-set", "demo"]) == 0
    _golden("bigquery_access_policies.sql", capsys.readouterr().out)


def test_the_demo_seed_covers_every_demo_team(rules):
    with (SEEDS / "teams.csv").open(newline="", encoding="utf-8") as f:
        demo = {r["team"] for r in csv.DictReader(f) if r["reference_set"] in ("demo", "*")}
    assert set(rules.teams) == demo
    assert "group:finance@example.com" in rules.all_rows


def test_policies_one_per_team_and_table_plus_all_rows(rules):
    statements = ba.policy_statements(rules, PROJECT)
    assert len(statements) == len(ba.TEAM_TABLES) * (len(rules.teams) + 1)
    for table in ba.TEAM_TABLES:
        on_table = [s for s in statements if f"`{PROJECT}.marts.{table}`" in s]
        names = [POLICY.fullmatch(s).group(1) for s in on_table]
        assert names == [f"team_{ba.slug(t)}" for t in rules.teams] + ["mlcost_all_rows"]
        assert on_table[-1].endswith("FILTER USING (TRUE);")


def test_every_statement_parses_with_sqlglot_bigquery(rules, caplog):
    """sqlglot 30.30 has no grammar for CREATE ROW ACCESS POLICY: it falls back to an opaque
    exp.Command for each statement (after splitting the script on real semicolons, outside
    literals). So the statements are counted from the whole script, and their parts with
    an expression grammar (table, grantee list, filter) are parsed one by one."""
    script = (GOLDEN / "bigquery_access_policies.sql").read_text(encoding="utf-8")
    parsed = [s for s in sqlglot.parse(script, read="bigquery") if s is not None]
    statements = ba.policy_statements(rules, PROJECT)
    assert len(parsed) == len(statements)
    assert {type(s) for s in parsed} <= {exp.Command, exp.Create}
    for statement in statements:
        name, table, grantees, filter_sql = POLICY.fullmatch(statement).groups()
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", name)
        target = sqlglot.parse_one(table, read="bigquery", into=exp.Table)
        assert (target.catalog, target.db) == (PROJECT, "marts")
        assert target.name in ba.TEAM_TABLES
        values = sqlglot.parse_one(grantees, read="bigquery")
        literals = values.expressions if isinstance(values, exp.Tuple) else [values.this]
        assert all(isinstance(v, exp.Literal) and v.is_string for v in literals)
        condition = sqlglot.parse_one(filter_sql, read="bigquery")
        if name == ba.ALL_ROWS_POLICY:
            assert isinstance(condition, exp.Boolean) and condition.this is True
            assert tuple(v.this for v in literals) == rules.all_rows
        else:
            assert isinstance(condition, exp.EQ) and condition.left.name == "team"
            team = condition.right.this
            assert name == f"team_{ba.slug(team)}"
            assert tuple(v.this for v in literals) == rules.teams[team]


def test_views_parse_as_filtered_selects(rules):
    script = (GOLDEN / "bigquery_access_views.sql").read_text(encoding="utf-8")
    # The trailing comment block (the access entries) parses as a comment-only exp.Semicolon.
    parsed = [s for s in sqlglot.parse(script, read="bigquery")
              if s is not None and not isinstance(s, exp.Semicolon)]
    views = [s for s in parsed if s.args.get("kind") == "VIEW"]
    schemas = [s for s in parsed if s.args.get("kind") == "SCHEMA"]
    assert len(schemas) == len(rules.teams)
    assert len(views) == len(rules.teams) * len(ba.TEAM_TABLES)
    assert len(parsed) == len(views) + len(schemas)
    for view in views:
        target = view.this
        team_dataset = target.db
        select = view.expression
        source = select.find(exp.Table)
        assert (source.catalog, source.db, source.name) == (PROJECT, "marts", target.name)
        where = select.args["where"].this
        assert isinstance(where, exp.EQ) and where.left.name == "team"
        assert team_dataset == f"marts_team_{ba.slug(where.right.this)}"


def test_access_entries_authorize_each_view_on_marts(rules):
    entries = ba.access_entries(rules, PROJECT)
    marts = entries[f"{PROJECT}.marts"]
    views = [e.entity_id for e in marts if e.entity_type == "view"]
    assert len(views) == len(rules.teams) * len(ba.TEAM_TABLES)
    assert {"projectId": PROJECT, "datasetId": "marts_team_search_ranking",
            "tableId": "fct_cost_allocations"} in views
    assert all(e.role is None for e in marts if e.entity_type == "view")
    readers = {(e.role, e.entity_type, e.entity_id) for e in marts if e.entity_type != "view"}
    assert readers == {("READER", "groupByEmail", "finance@example.com"),
                       ("READER", "groupByEmail", "platform-admins@example.com"),
                       ("READER", "userByEmail",
                        "mlcost-dbt@example-project.iam.gserviceaccount.com")}
    rec = entries[f"{PROJECT}.marts_team_recommendations"]
    assert {(e.role, e.entity_type, e.entity_id) for e in rec} == {
        ("READER", "groupByEmail", "recommendations-analysts@example.com"),
        ("READER", "userByEmail", "churn-lead@example.com")}


def test_team_tables_cover_every_marts_model_with_a_team_column():
    path = settings.DBT_PROJECT_DIR / "target" / "manifest.json"
    assert path.exists(), f"{path}: run `make manifest` first"
    nodes = json.loads(path.read_text(encoding="utf-8"))["nodes"].values()
    marts = {n["name"]: n for n in nodes if n["resource_type"] == "model"
             and n["schema"] == "marts"}
    with_team = {name for name, n in marts.items() if "team" in n["columns"]}
    listed = set(ba.TEAM_TABLES) | set(ba.NOT_TEAM_FILTERED)
    assert not set(ba.TEAM_TABLES) & set(ba.NOT_TEAM_FILTERED)
    assert with_team - listed == set(), "marts with a team column: add to TEAM_TABLES or " \
        "NOT_TEAM_FILTERED (with the reason) in lib/bigquery_access.py"
    assert listed - with_team == set(), "listed but no marts model with a team column"


# ---------------------------------------------------------------------------------------------
# hostile input


HOSTILE = ['x"); drop table t --', "a'b", "a\\b", 'a\\"); select 1; --', "line\nbreak",
           "semi;colon", "`tick`", "tab\there", "nul\x00"]


@pytest.mark.parametrize("value", HOSTILE)
def test_sql_string_keeps_any_value_one_literal(value):
    script = f"select {ba.sql_string(value)} as v; select 2 as w"
    parsed = sqlglot.parse(script, read="bigquery")
    assert len(parsed) == 2
    literal = parsed[0].expressions[0].this
    assert isinstance(literal, exp.Literal) and literal.this == value


@pytest.mark.parametrize("team", ['x"); drop table --', "a'b", "a\\b", "Search Ranking", ""])
def test_hostile_teams_are_rejected_before_rendering(team):
    rules = ba.AccessRules(teams={team: ("group:a@example.com",)}, all_rows=())
    with pytest.raises(BadInputError, match="is not a team name"):
        ba.policy_statements(rules, PROJECT)
    with pytest.raises(BadInputError, match="is not a team name"):
        ba.team_views(rules, PROJECT)


@pytest.mark.parametrize("principal", ['group:a@example.com") , ("user:b@example.com',
                                       "allUsers", "group:no-at-sign", "user:a@b.c\"x",
                                       "group:a@example.com\n"])
def test_hostile_principals_are_rejected_before_rendering(principal):
    rules = ba.AccessRules(teams={"search-ranking": (principal,)}, all_rows=())
    with pytest.raises(BadInputError, match="is not a BigQuery grantee"):
        ba.policy_statements(rules, PROJECT)


def test_a_hostile_project_is_rejected():
    rules = ba.load_rules(SEEDS, "demo")
    with pytest.raises(BadInputError, match="is not a BigQuery table name"):
        ba.policy_statements(rules, "p`; drop")


# ---------------------------------------------------------------------------------------------
# bad seed rows


def _seeds(tmp_path: Path, *rows: str, header: str = "team,principal,reference_set") -> Path:
    shutil.copy(SEEDS / "teams.csv", tmp_path / "teams.csv")
    (tmp_path / "team_access.csv").write_text("\n".join([header, *rows]) + "\n",
                                              encoding="utf-8")
    return tmp_path


GOOD = "search-ranking,group:search-analysts@example.com,demo"


@pytest.mark.parametrize(("row", "column", "problem"), [
    ("search-rankin,group:a@example.com,demo", "team",
     "team 'search-rankin' is not in .*teams.csv for reference set 'demo'"),
    ("search-ranking,group:a@example.com,default", "team",
     "team 'search-ranking' is not in .*teams.csv for reference set 'default'"),
    ('"x""); drop table --",group:a@example.com,demo', "team",
     "'x\"\\); drop table --' is not a team name"),
    ("search-ranking,search-analysts@example.com,demo", "principal",
     "'search-analysts@example.com' is not a BigQuery grantee"),
    ("search-ranking,\"group:a@example.com\"\" OR TRUE\",demo", "principal",
     "is not a BigQuery grantee"),
    ("*,allAuthenticatedUsers,demo", "principal", "is not a BigQuery grantee"),
    ("search-ranking,group:a@example.com,Demo!", "reference_set", "is not a reference set"),
    (GOOD, "principal", "is listed twice for team 'search-ranking'"),
])
def test_bad_rows_name_file_row_and_column(tmp_path, row, column, problem):
    seeds = _seeds(tmp_path, GOOD, row)
    with pytest.raises(BadInputError) as err:
        ba.load_rules(seeds, "demo")
    message = str(err.value)
    assert message.startswith(f"{seeds / 'team_access.csv'} (row 3, column {column!r}): ")
    assert re.search(problem, message), message


def test_two_teams_with_one_slug_are_refused(tmp_path):
    seeds = _seeds(tmp_path, GOOD, "search_ranking,group:b@example.com,*")
    with (seeds / "teams.csv").open("a", encoding="utf-8") as f:
        f.write("search_ranking,Same slug,true,demo\n")
    with pytest.raises(BadInputError, match=r"row 3, column 'team'.*same policy and dataset "
                       r"name 'search_ranking'"):
        ba.load_rules(seeds, "demo")


def test_missing_columns_and_empty_sets_are_named(tmp_path):
    with pytest.raises(BadInputError, match=r"team_access.csv: missing column\(s\) "
                       "reference_set"):
        ba.load_rules(_seeds(tmp_path, "search-ranking,group:a@example.com",
                             header="team,principal"), "demo")
    with pytest.raises(BadInputError, match="has no rows for reference set 'default'"):
        ba.load_rules(_seeds(tmp_path, GOOD), "default")


def test_the_cli_exits_65_on_a_bad_seed_and_64_without_a_project(tmp_path, monkeypatch,
                                                                  capsys):
    monkeypatch.setattr(signal, "signal", lambda *a: None)
    (tmp_path / "seeds").mkdir()
    _seeds(tmp_path / "seeds", "search-ranking,group:not an email,demo")
    monkeypatch.setattr(settings, "PROJECT_ROOT", tmp_path)
    monkeypatch.setenv("MLCOST_REFERENCE_SET", "demo")
    monkeypatch.delenv("MLCOST_BQ_PROJECT", raising=False)
    assert cli.main(["bigquery-access"]) == 64
    assert "no project: pass --project or set MLCOST_BQ_PROJECT" in capsys.readouterr().err
    assert cli.main(["bigquery-access", "--project", "acme-finops"]) == 65
    err = capsys.readouterr().err
    assert "team_access.csv (row 2, column 'principal'): 'group:not an email' is not a " \
           "BigQuery grantee" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------------------------------------
# apply, against a fake client


class FakeClient:
    def __init__(self, existing: dict[str, list] | None = None):
        self.queries: list[str] = []
        self.datasets: dict[str, object] = {}
        self.updates: list[str] = []
        self.existing = existing or {}

    def query(self, sql):
        self.queries.append(sql)
        return self

    def result(self):
        return []

    def create_dataset(self, ds, exists_ok=False):
        assert exists_ok
        self.datasets.setdefault(f"{ds.project}.{ds.dataset_id}", ds)

    def get_dataset(self, ref):
        from google.cloud import bigquery

        if ref not in self.datasets:
            self.datasets[ref] = bigquery.Dataset(ref)
            self.datasets[ref].access_entries = self.existing.get(ref, [])
        return self.datasets[ref]

    def update_dataset(self, ds, fields):
        assert fields == ["access_entries"]
        self.updates.append(f"{ds.project}.{ds.dataset_id}")


def test_apply_policies_runs_every_statement(rules):
    client = FakeClient()
    assert ba.apply_policies(client, rules, PROJECT) == len(client.queries)
    assert client.queries == ba.policy_statements(rules, PROJECT)


def test_apply_views_keeps_existing_entries_and_is_idempotent(rules):
    from google.cloud.bigquery import AccessEntry

    owner = AccessEntry("OWNER", "specialGroup", "projectOwners")
    client = FakeClient({f"{PROJECT}.marts": [owner]})
    n = ba.apply_views(client, rules, PROJECT, "EU")
    assert n == len(rules.teams) * len(ba.TEAM_TABLES)
    assert all(ds.location == "EU" for name, ds in client.datasets.items()
               if name.startswith(f"{PROJECT}.marts_team_"))
    assert [q for q in client.queries if q.startswith("CREATE OR REPLACE VIEW")] == client.queries
    marts = client.datasets[f"{PROJECT}.marts"].access_entries
    assert owner in marts
    assert len(marts) == 1 + len(ba.access_entries(rules, PROJECT)[f"{PROJECT}.marts"])
    assert sorted(client.updates) == sorted(ba.access_entries(rules, PROJECT))
    client.updates.clear()
    ba.apply_views(client, rules, PROJECT, "EU")
    assert client.updates == []  # nothing missing the second time


def test_cli_apply_uses_the_environments_client(rules, monkeypatch, capsys):
    from google.api_core.exceptions import Forbidden

    from dagster_project.lib import bigquery_common

    monkeypatch.setattr(signal, "signal", lambda *a: None)
    seen = []
    client = FakeClient()
    monkeypatch.setattr(bigquery_common, "client_for", lambda s: seen.append(s) or client)
    monkeypatch.setenv("MLCOST_BQ_PROJECT", "acme-finops")
    monkeypatch.setenv("MLCOST_BQ_LOCATION", "EU")
    assert cli.main(["bigquery-access", "--apply", "--reference-set", "demo"]) == 0
    assert (seen[0].project, seen[0].location) == ("acme-finops", "EU")
    assert client.queries == ba.policy_statements(rules, "acme-finops")
    assert f"Applied {len(client.queries)} row access policies" in capsys.readouterr().out

    def refuse(sql):
        raise Forbidden("Access Denied: bigquery.rowAccessPolicies.create")

    client.query = refuse
    assert cli.main(["bigquery-access", "--apply", "--reference-set", "demo"]) == 1
    err = capsys.readouterr().err
    assert "BigQuery refused the access change on acme-finops: 403 Access Denied: " \
           "bigquery.rowAccessPolicies.create" in err
    assert "Traceback" not in err


def test_every_value_in_the_sql_goes_through_a_checked_renderer():
    """Static guard for 'no SQL built by pasting values': each {…} in the module's SQL
    f-strings is sql_string, table_id, team_filter, _grantees or slug (regex-checked or
    escaped), a constant, or `target` (a table_id result)."""
    import ast
    import inspect

    allowed_calls = {"sql_string", "table_id", "team_filter", "_grantees", "slug"}
    allowed_names = {"ALL_ROWS_POLICY", "target"}
    sql = re.compile(r"CREATE|select |where |FILTER|GRANT|OPTIONS|team = ")
    checked, offenders = 0, []
    for node in ast.walk(ast.parse(inspect.getsource(ba))):
        if not isinstance(node, ast.JoinedStr):
            continue
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        if not sql.search(text):
            continue
        checked += 1
        for part in node.values:
            if not isinstance(part, ast.FormattedValue):
                continue
            expr = part.value
            ok = (isinstance(expr, ast.Call) and getattr(expr.func, "id", "") in allowed_calls
                  or isinstance(expr, ast.Name) and expr.id in allowed_names)
            if not ok:
                offenders.append(f"line {part.lineno}: {ast.unparse(expr)}")
    assert checked >= 5  # team_filter, the two policies, the view, the schema
    assert offenders == []
