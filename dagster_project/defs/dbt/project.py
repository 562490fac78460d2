"""The one DbtProject. Kept free of @dbt_assets so `dagster-dbt project prepare-and-package`
can import it without a manifest."""

from __future__ import annotations

from dagster_dbt import DbtProject

from dagster_project import settings

mlcost_dbt_project = DbtProject(
    project_dir=settings.DBT_PROJECT_DIR,
    profiles_dir=settings.DBT_PROJECT_DIR,
)
mlcost_dbt_project.prepare_if_dev()
