"""`mlcost bigquery-access`: print (default) or apply who-sees-which-rows on BigQuery
(lib/bigquery_access.py; docs/bigquery.md, "Access: who sees which rows"). Printing needs no
credentials; --apply uses the BigQuery settings of the environment."""

from __future__ import annotations

import os
import re

from dagster_project import settings
from dagster_project.exit_codes import FAILED, OK, USAGE, ExitError

_PROJECT_RE = re.compile(r"[a-z][a-z0-9-]{4,61}[a-z0-9]")


def add_parser(sub) -> None:
    """Register `bigquery-access` on the CLI's subparsers."""
    a = sub.add_parser(
        "bigquery-access", help="print or apply the BigQuery row access policies (or "
        "authorized views) from seeds/team_access.csv",
        description="Analysts of a team see only their team's rows of the team-grained marts; "
        "principals of team `*` see all (docs/bigquery.md, 'Access: who sees which rows').")
    a.add_argument("--variant", choices=["policies", "views"], default="policies",
                   help="row access policies on the marts, or one dataset of filtered, "
                   "authorized views per team, created in $MLCOST_BQ_LOCATION (default: "
                   "policies; location default: US)")
    a.add_argument("--apply", action="store_true",
                   help="run it on BigQuery with the credentials and settings of the "
                   "environment (MLCOST_BQ_*; default: off, print the SQL only)")
    a.add_argument("--project", help="Google Cloud project of the marts (default: "
                   "$MLCOST_BQ_PROJECT)")
    a.add_argument("--reference-set", help="which rows of the seeds apply (default: "
                   "$MLCOST_REFERENCE_SET, else `reference_set` in mlcost.toml, else default)")
    a.set_defaults(func=cmd_bigquery_access)


def cmd_bigquery_access(args) -> int:
    from .bigquery_access import (
        apply_policies,
        apply_views,
        load_rules,
        render_policies,
        render_views,
    )

    project = (args.project or os.environ.get("MLCOST_BQ_PROJECT") or "").strip()
    if not project:
        raise ExitError("no project: pass --project or set MLCOST_BQ_PROJECT.", USAGE)
    if not _PROJECT_RE.fullmatch(project):
        raise ExitError(f"project {project!r} is not a Google Cloud project id (lower-case "
                        "letters, digits and '-', 6 to 63 characters).", USAGE)
    if args.reference_set:
        os.environ["MLCOST_REFERENCE_SET"] = args.reference_set
    rules = load_rules(settings.PROJECT_ROOT / "seeds", settings.reference_set())
    location = os.environ.get("MLCOST_BQ_LOCATION") or "US"
    if not args.apply:
        print(render_policies(rules, project) if args.variant == "policies"
              else render_views(rules, project, location), end="")
        return OK

    from .bigquery_common import BigQuerySettings, client_for

    bq = BigQuerySettings.from_env({**os.environ, "MLCOST_BQ_PROJECT": project})
    try:
        from google.api_core.exceptions import GoogleAPIError
        from google.auth.exceptions import GoogleAuthError

        client = client_for(bq)
        if args.variant == "policies":
            n = apply_policies(client, rules, project)
            print(f"Applied {n} row access policies to the marts of {project}.")
        else:
            n = apply_views(client, rules, project, bq.location)
            print(f"Applied {n} authorized views in {len(rules.teams)} team datasets of "
                  f"{project}.")
    except (GoogleAPIError, GoogleAuthError) as exc:
        raise ExitError(f"BigQuery refused the access change on {project}: {exc}", FAILED
                        ) from None
    return OK
