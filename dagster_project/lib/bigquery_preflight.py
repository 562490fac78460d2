"""Checks a BigQuery target's configuration before any work (docs/bigquery.md, "One switch"):
a missing or wrong setting stops the command with one message naming the variable, exit 64
(66 when a named file is missing), before a file is read or a table written."""

from __future__ import annotations

import os
import re
from pathlib import Path

from dagster_project.exit_codes import MISSING_INPUT, USAGE, ExitError

from .config import BIGQUERY_TARGETS

METHODS = ("oauth", "service-account", "oauth-secrets")
MONEY_TYPES = ("BIGNUMERIC", "NUMERIC")
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z0-9.:-]{1,100}$")
_DATASET = re.compile(r"^[A-Za-z0-9_]{1,1024}$")


def _bad(variable: str, problem: str, fix: str, code: int = USAGE) -> ExitError:
    sep = "" if problem.startswith("=") else " "
    return ExitError(f"{variable}{sep}{problem} {fix} (docs/bigquery.md, \"Configuration\")",
                     code)


def check_target(target: str, *, command: str = "mlcost run",
                 env: dict[str, str] | None = None) -> None:
    """Raise ExitError unless `target` can run here; a no-op for the DuckDB targets."""
    env = dict(os.environ if env is None else env)
    if target == "ci":
        raise ExitError(f"{command} --target ci: the `ci` target only compiles the BigQuery SQL "
                        "offline (no credentials); run with --target prod (BigQuery) or dev "
                        "(DuckDB).", USAGE)
    from .config import TARGETS

    if target not in TARGETS:
        raise _bad("DBT_TARGET", f"={target!r} is not a target of dbt_models/profiles.yml.",
                   f"Use one of {', '.join(t for t in TARGETS if t != 'ci')} (--target, "
                   "DBT_TARGET or `target` in mlcost.toml).")
    if target not in BIGQUERY_TARGETS:
        return
    project = env.get("MLCOST_BQ_PROJECT", "").strip()
    if not project:
        raise _bad("MLCOST_BQ_PROJECT", "is not set.",
                   f"--target {target} writes to BigQuery: set it to the Google Cloud project "
                   "that holds the mlcost datasets.")
    if not _PROJECT.match(project):
        raise _bad("MLCOST_BQ_PROJECT", f"={project!r} is not a Google Cloud project id.",
                   "Use the id (lower-case letters, digits, hyphens), not the display name.")
    for var in ("MLCOST_BQ_DATASET", "MLCOST_BQ_RAW_DATASET", "MLCOST_BQ_META_DATASET"):
        if (value := env.get(var)) and not _DATASET.match(value):
            raise _bad(var, f"={value!r} is not a BigQuery dataset name.",
                       "Use letters, digits and underscores.")
    money = env.get("MLCOST_BQ_MONEY_TYPE") or "BIGNUMERIC"
    if money not in MONEY_TYPES:
        raise _bad("MLCOST_BQ_MONEY_TYPE", f"={money!r} is not one of {', '.join(MONEY_TYPES)}.",
                   "Leave it unset for BIGNUMERIC (exact to 38 decimals).")
    staging = env.get("MLCOST_BQ_STAGING_URI")
    if staging and not re.match(r"^gs://[a-z0-9][a-z0-9._-]{1,220}(/.*)?$", staging):
        raise _bad("MLCOST_BQ_STAGING_URI", f"={staging!r} is not a gs://bucket/prefix URI.",
                   "Example: gs://my-bucket/mlcost-staging; or unset it to upload with the "
                   "load jobs.")
    if target == "emulator":
        if not env.get("MLCOST_BQ_API_ENDPOINT"):
            raise _bad("MLCOST_BQ_API_ENDPOINT", "is not set.",
                       "--target emulator needs the emulator's URL, e.g. http://127.0.0.1:9050.")
        return
    _check_credentials(env)


def _check_credentials(env: dict[str, str]) -> None:
    method = env.get("MLCOST_BQ_METHOD") or "oauth"
    if method not in METHODS:
        raise _bad("MLCOST_BQ_METHOD", f"={method!r} is not one of {', '.join(METHODS)}.",
                   "oauth uses application default credentials.")
    if method == "service-account":
        keyfile = env.get("MLCOST_BQ_KEYFILE", "")
        if not keyfile:
            raise _bad("MLCOST_BQ_KEYFILE", "is not set.",
                       "MLCOST_BQ_METHOD=service-account needs the path of the key file.")
        if not Path(keyfile).is_file():
            raise _bad("MLCOST_BQ_KEYFILE", f"={keyfile}: no such file.",
                       "Mount the service account's key file there.", MISSING_INPUT)
        return
    if method == "oauth-secrets":
        if not env.get("MLCOST_BQ_TOKEN"):
            raise _bad("MLCOST_BQ_TOKEN", "is not set.",
                       "MLCOST_BQ_METHOD=oauth-secrets needs an access token.")
        return
    creds = env.get("GOOGLE_APPLICATION_CREDENTIALS")
    if creds and not Path(creds).is_file():
        raise _bad("GOOGLE_APPLICATION_CREDENTIALS", f"={creds}: no such file.",
                   "Point it at a credentials file, or unset it.", MISSING_INPUT)
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        google.auth.default(scopes=["https://www.googleapis.com/auth/bigquery"])
    except DefaultCredentialsError:
        raise _bad("GOOGLE_APPLICATION_CREDENTIALS",
                   "is not set and no application default credentials were found.",
                   "Run `gcloud auth application-default login`, run on a Google Cloud host "
                   "with a service account, or set MLCOST_BQ_METHOD=service-account with "
                   "MLCOST_BQ_KEYFILE.") from None
