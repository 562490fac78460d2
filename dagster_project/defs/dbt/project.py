"""The one DbtProject. Kept free of @dbt_assets so `dagster-dbt project prepare-and-package`
can import it without a manifest."""

from __future__ import annotations

import os
import sysconfig

from dagster_dbt import DbtProject

from dagster_project import settings

# `dagster dev` parses the project with a plain `dbt` from PATH; make that the dbt installed
# beside this interpreter, so a virtualenv that was not activated still works.
_scripts = sysconfig.get_path("scripts")
if _scripts and _scripts not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _scripts + os.pathsep + os.environ.get("PATH", "")

mlcost_dbt_project = DbtProject(
    project_dir=settings.DBT_PROJECT_DIR,
    profiles_dir=settings.DBT_PROJECT_DIR,
)
mlcost_dbt_project.prepare_if_dev()
