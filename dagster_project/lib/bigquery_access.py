"""Who sees which cost rows on BigQuery (docs/bigquery.md, "Access: who sees which rows").

From seeds/team_access.csv (team -> principal; team `*` = every row) and seeds/teams.csv this
module renders either BigQuery row access policies on the team-grained marts, or the
authorized-view variant (one dataset of filtered views per team, authorized on `marts`), and
applies them with a google-cloud-bigquery client. DDL takes no query parameters, so every value
is validated by a strict regex first and rendered by the one escaping function `sql_string`."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from .bigquery_common import table_id
from .ingest.errors import BadInputError

MARTS = "marts"
# The published marts whose rows each belong to one team (column `team`): the tables analysts
# may read, filtered to their team. tests/test_bigquery_access.py checks this list and the one
# below against every marts model with a `team` column in the dbt manifest.
TEAM_TABLES = (
    "fct_cost_allocations",
    "fct_costs_daily",
    "fct_costs_monthly",
    "fct_idle_waste",
    "fct_recommendations",
    "fct_unit_costs",
    "fct_training_run_costs",
    "fct_budgets",
    "rpt_attribution_coverage_detail",
    "rpt_unmatched_training_cost",
)
# Marts with a `team` column that are not filtered per team: finance and platform only.
NOT_TEAM_FILTERED = {
    "dim_teams": "the list of teams, no cost",
    "fct_variance_drivers": "review pack: drivers of company-wide material variances",
    "rpt_review_headline": "review pack: has the company total row (team null)",
    "rpt_review_anomalies": "review pack",
    "rpt_review_unit_costs_unavailable": "review pack",
    "rpt_review_commentary_facts": "review pack: company-level commentary",
    "rpt_review_unit_costs": "review pack",
    "rpt_review_savings": "review pack: has cross-team rows (team `*`)",
    "rpt_review_bridge": "review pack: has the company total row (team null)",
}

ALL_TEAMS = "*"  # team value of a principal that sees every row (finance, platform, dbt)
TEAM_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_EMAIL = r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9][A-Za-z0-9-]{0,62}(\.[A-Za-z0-9-]{1,63})+"
PRINCIPAL_RE = re.compile(
    rf"(user|group|serviceAccount):{_EMAIL}|domain:[A-Za-z0-9-]{{1,63}}(\.[A-Za-z0-9-]{{1,63}})+")
REFERENCE_SET_RE = re.compile(r"\*|[a-z0-9][a-z0-9_-]{0,62}")  # = lib/config.py's, or `*`
ALL_ROWS_POLICY = "mlcost_all_rows"
# IAM member prefix -> the Python client's AccessEntry entity type.
_ENTITY_TYPES = {"user": "userByEmail", "serviceAccount": "userByEmail",
                 "group": "groupByEmail", "domain": "domain"}


@dataclass(frozen=True)
class AccessRules:
    """The access rows of one reference set: team -> principals, and the all-rows principals."""

    teams: dict[str, tuple[str, ...]]
    all_rows: tuple[str, ...]


def sql_string(value: str) -> str:
    """`value` as one GoogleSQL string literal: the only way a data value enters the DDL here.
    Backslash and both quotes are escaped, control characters written as \\xhh, so no input
    can end the literal or the statement."""
    out = []
    for ch in value:
        if ch in "\\\"'`":
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def slug(team: str) -> str:
    """A team as a BigQuery identifier part (policy and dataset names): lower case, `_`."""
    return re.sub(r"[^a-z0-9_]", "_", team.lower())


def _read(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such seed file")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = [(reader.line_num, row) for row in reader]
        return rows, list(reader.fieldnames or [])


def _columns(path: Path, fields: list[str], needed: tuple[str, ...]) -> None:
    missing = [c for c in needed if c not in fields]
    if missing:
        raise BadInputError(path, f"missing column(s) {', '.join(missing)}; expected a header "
                            f"{','.join(needed)}.")


def load_rules(seeds_dir: Path, reference_set: str) -> AccessRules:
    """Validate seeds/team_access.csv (every row) against seeds/teams.csv and return the rules
    of `reference_set` (rows of that set and of `*`). Any bad row is a BadInputError naming
    the file, the row (line number, header = 1) and the column."""
    teams_path, access_path = seeds_dir / "teams.csv", seeds_dir / "team_access.csv"
    team_rows, fields = _read(teams_path)
    _columns(teams_path, fields, ("team", "reference_set"))
    known: dict[str, set[str]] = {}
    for _, row in team_rows:
        known.setdefault(row["team"] or "", set()).add(row["reference_set"] or "")
    rows, fields = _read(access_path)
    _columns(access_path, fields, ("team", "principal", "reference_set"))
    teams: dict[str, list[str]] = {}
    all_rows: list[str] = []
    slugs: dict[str, tuple[str, int]] = {}
    seen: set[tuple[str, str, str]] = set()
    for line, row in rows:
        team, principal, ref = (row.get(c) or "" for c in ("team", "principal", "reference_set"))

        def bad(column: str, problem: str, hint: str | None = None, *, _line=line):
            return BadInputError(access_path, problem, row=_line, column=column, hint=hint)

        if not REFERENCE_SET_RE.fullmatch(ref):
            raise bad("reference_set", f"{ref!r} is not a reference set name.",
                      "Use `*` (every set), `default`, `demo` or a lower-case name of your own.")
        if team != ALL_TEAMS:
            if not TEAM_RE.fullmatch(team):
                raise bad("team", f"{team!r} is not a team name.", "Lower-case letters, digits, "
                          "'-', '_' and '.', or `*` for a principal that sees every team's rows.")
            sets = known.get(team, set())
            if not ((ref == "*" and sets) or "*" in sets or ref in sets):
                raise bad("team", f"team {team!r} is not in {teams_path} for reference set "
                          f"{ref!r}.", "Register the team there first (or fix the spelling).")
            first = slugs.setdefault(slug(team), (team, line))
            if first[0] != team:
                raise bad("team", f"team {team!r} and team {first[0]!r} (row {first[1]}) give "
                          f"the same policy and dataset name {slug(team)!r}.")
        if not PRINCIPAL_RE.fullmatch(principal):
            raise bad("principal", f"{principal!r} is not a BigQuery grantee.",
                      "Write user:NAME@DOMAIN, group:NAME@DOMAIN, "
                      "serviceAccount:NAME@PROJECT.iam.gserviceaccount.com or domain:DOMAIN.")
        if (team, principal, ref) in seen:
            raise bad("principal", f"{principal!r} is listed twice for team {team!r}.")
        seen.add((team, principal, ref))
        if ref not in ("*", reference_set):
            continue
        if team == ALL_TEAMS:
            all_rows.append(principal)
        else:
            teams.setdefault(team, []).append(principal)
    if not teams and not all_rows:
        raise BadInputError(access_path, f"has no rows for reference set {reference_set!r}.",
                            hint="Add `team,principal,reference_set` rows (docs/bigquery.md).")
    return AccessRules(teams={t: tuple(sorted(set(p))) for t, p in sorted(teams.items())},
                       all_rows=tuple(sorted(set(all_rows))))


# ---------------------------------------------------------------------------------------------
# Variant 1: row access policies on the marts themselves


def _grantees(principals: tuple[str, ...]) -> str:
    if not principals:
        raise BadInputError("principal", "none given: a policy must grant to someone.")
    for p in principals:  # re-checked here too: rules may be built without load_rules
        if not PRINCIPAL_RE.fullmatch(p):
            raise BadInputError("principal", f"{p!r} is not a BigQuery grantee.")
    return "(" + ", ".join(sql_string(p) for p in principals) + ")"


def team_filter(team: str) -> str:
    if not TEAM_RE.fullmatch(team):
        raise BadInputError("team", f"{team!r} is not a team name.")
    return f"team = {sql_string(team)}"


def policy_statements(rules: AccessRules, project: str) -> list[str]:
    """CREATE OR REPLACE ROW ACCESS POLICY statements: per team-grained mart one policy per
    team (its rows) and one all-rows policy (FILTER USING (TRUE))."""
    out = []
    for table in TEAM_TABLES:
        target = table_id(f"{project}.{MARTS}.{table}")
        for team, principals in rules.teams.items():
            out.append(f"CREATE OR REPLACE ROW ACCESS POLICY team_{slug(team)} ON {target}\n"
                       f"  GRANT TO {_grantees(principals)}\n"
                       f"  FILTER USING ({team_filter(team)});")
        if rules.all_rows:
            out.append(f"CREATE OR REPLACE ROW ACCESS POLICY {ALL_ROWS_POLICY} ON {target}\n"
                       f"  GRANT TO {_grantees(rules.all_rows)}\n"
                       "  FILTER USING (TRUE);")
    return out


def render_policies(rules: AccessRules, project: str) -> str:
    head = ("-- Row access policies generated by `mlcost bigquery-access` from seeds/team_access"
            ".csv\n-- and seeds/teams.csv (docs/bigquery.md). Re-apply after every dbt build.\n")
    return head + "\n\n".join(policy_statements(rules, project)) + "\n"


def apply_policies(client, rules: AccessRules, project: str) -> int:
    """Run every policy statement (idempotent: CREATE OR REPLACE); returns how many ran."""
    statements = policy_statements(rules, project)
    for sql in statements:
        client.query(sql).result()
    return len(statements)


# ---------------------------------------------------------------------------------------------
# Variant 2: authorized views, one dataset per team


@dataclass(frozen=True)
class TeamViews:
    team: str
    dataset: str  # project.marts_team_<slug>
    views: tuple[tuple[str, str], ...]  # (project.dataset.view, CREATE OR REPLACE VIEW ...)
    readers: tuple[str, ...]  # principals given READER on the team dataset


def team_views(rules: AccessRules, project: str) -> list[TeamViews]:
    out = []
    for team, principals in rules.teams.items():
        dataset = f"{project}.{MARTS}_team_{slug(team)}"
        table_id(dataset)
        views = []
        for table in TEAM_TABLES:
            view = f"{dataset}.{table}"
            views.append((view, f"CREATE OR REPLACE VIEW {table_id(view)} AS\n"
                          f"select * from {table_id(f'{project}.{MARTS}.{table}')}\n"
                          f"where {team_filter(team)};"))
        _grantees(principals)
        out.append(TeamViews(team, dataset, tuple(views), principals))
    return out


def _entry(principal: str):
    from google.cloud.bigquery import AccessEntry

    kind, _, who = principal.partition(":")
    return AccessEntry("READER", _ENTITY_TYPES[kind], who)


def _view_entry(view: str):
    from google.cloud.bigquery import AccessEntry

    p, d, t = view.split(".")
    return AccessEntry(None, "view", {"projectId": p, "datasetId": d, "tableId": t})


def access_entries(rules: AccessRules, project: str) -> dict[str, list]:
    """Dataset -> the AccessEntry objects it needs: on `marts` every team view (authorized
    view) and READER for the all-rows principals; on each team dataset READER for its team."""
    plans = team_views(rules, project)
    marts = [_view_entry(v) for plan in plans for v, _ in plan.views]
    marts += [_entry(p) for p in rules.all_rows]
    out = {f"{project}.{MARTS}": marts}
    for plan in plans:
        out[plan.dataset] = [_entry(p) for p in plan.readers]
    return out


def render_views(rules: AccessRules, project: str, location: str) -> str:
    lines = ["-- Authorized views generated by `mlcost bigquery-access --variant views` from",
             "-- seeds/team_access.csv and seeds/teams.csv (docs/bigquery.md).", ""]
    for plan in team_views(rules, project):
        lines.append(f"CREATE SCHEMA IF NOT EXISTS {table_id(plan.dataset)} "
                     f"OPTIONS (location = {sql_string(location)});")
        lines += [sql for _, sql in plan.views]
        lines.append("")
    lines.append("-- Dataset access entries (set with the Python client, `--apply`; DDL cannot "
                 "authorize a view):")
    for dataset, entries in access_entries(rules, project).items():
        for e in entries:
            who = e.entity_id if e.entity_type != "view" else ".".join(e.entity_id.values())
            lines.append(f"--   {dataset}: {e.role or 'authorized'} {e.entity_type} {who}")
    return "\n".join(lines) + "\n"


def apply_views(client, rules: AccessRules, project: str, location: str) -> int:
    """The whole views variant: the team datasets and views, then their authorization;
    returns the number of views. Idempotent."""
    n = create_team_views(client, rules, project, location)
    authorize_views(client, rules, project)
    return n


def create_team_views(client, rules: AccessRules, project: str, location: str) -> int:
    """Create (or replace) each team's dataset and its filtered views."""
    from google.cloud import bigquery

    plans = team_views(rules, project)
    for plan in plans:
        ds = bigquery.Dataset(plan.dataset)
        ds.location = location
        client.create_dataset(ds, exists_ok=True)
        for _, sql in plan.views:
            client.query(sql).result()
    return sum(len(p.views) for p in plans)


def authorize_views(client, rules: AccessRules, project: str) -> int:
    """Add the missing access entries of `marts` and the team datasets (entries already there
    are kept: other grants on `marts` are not this module's); returns how many were added."""
    added = 0
    for dataset, wanted in access_entries(rules, project).items():
        ds = client.get_dataset(dataset)
        entries = list(ds.access_entries)
        missing = [e for e in wanted if e not in entries]
        if missing:
            ds.access_entries = entries + missing
            client.update_dataset(ds, ["access_entries"])
            added += len(missing)
    return added
