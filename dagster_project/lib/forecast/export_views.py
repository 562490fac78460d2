"""Views of the ``forecast`` schema that `mlcost export` and readers use.

* ``forecast.forecast_export`` -- every forecast row with its snapshot's as-of month, creation
  time and lock: the published column names (docs/forecasting.md, *Export columns*).
* ``forecast.forecast_accuracy`` -- the track record: every locked snapshot's ``baseline`` and
  ``base`` forecasts at the four forecast levels scored against the actuals of
  ``marts.fct_costs_monthly`` for the months that have closed. A lock taken more than
  ``LOCK_GRACE_DAYS`` after its quarter started (the demo locks past quarters to give itself a
  history) is ``retroactive``.

Both are views (created or replaced by ``ensure_schema``), so they follow new snapshots, new
locks and newly closed months without a rebuild. No dbt model reads them (the dbt graph runs
before forecasting).
"""

from __future__ import annotations

import duckdb

from dagster_project.lib.warehouse import table_exists

# A lock counts as taken at the quarter's start when it is at most this many days late (the
# daily schedule; a failed day is retried the next). Both constants are written into the view
# text below as literals; a test keeps them in step.
LOCK_GRACE_DAYS = 7
SCORED_SCENARIOS = ("baseline", "base")

FORECAST_EXPORT = """
CREATE OR REPLACE VIEW forecast.forecast_export AS
SELECT v.snapshot_id, s.as_of_month, s.created_at, l.quarters IS NOT NULL AS locked,
       v.scenario, v.level, v.team, v.ml_model, v.workload, v.provider, v.month, v.point,
       v.lo_80, v.hi_80, v.lo_95, v.hi_95, v.method, v.history_class, v.step,
       l.quarters AS locked_quarter, v.series_id, v.service_name, v.pricing_unit,
       v.base_point, v.pricing_quantity, s.horizon
FROM forecast.forecast_values AS v
INNER JOIN forecast.forecast_snapshots AS s ON v.snapshot_id = s.snapshot_id
LEFT JOIN (
    SELECT snapshot_id, string_agg(quarter, ',' ORDER BY quarter) AS quarters
    FROM forecast.forecast_locks GROUP BY snapshot_id
) AS l ON v.snapshot_id = l.snapshot_id
"""

FORECAST_ACCURACY = """
CREATE OR REPLACE VIEW forecast.forecast_accuracy AS
WITH closed AS (
    SELECT max(CAST(date_trunc('month', billing_month) AS DATE)) AS last_month
    FROM marts.fct_costs_monthly
    WHERE billing_month < date_trunc('month', current_date)
),
locks AS (
    SELECT quarter, snapshot_id, as_of_month, locked_at,
           locked_at > CAST(as_of_month + INTERVAL 1 MONTH AS TIMESTAMP)
               + INTERVAL 7 DAY AS retroactive  -- LOCK_GRACE_DAYS
    FROM forecast.forecast_locks
),
actuals AS (
    SELECT CAST(date_trunc('month', billing_month) AS DATE) AS month, team, workload,
           ml_model, sum(effective_cost) AS actual,
           CASE grouping(team, workload, ml_model)
               WHEN 7 THEN 'total' WHEN 3 THEN 'team' WHEN 1 THEN 'team_workload'
               WHEN 2 THEN 'team_model' END AS level
    FROM marts.fct_costs_monthly
    GROUP BY GROUPING SETS (
        (month), (month, team), (month, team, workload), (month, team, ml_model)
    )
)
SELECT k.quarter, k.snapshot_id, k.as_of_month, k.locked_at, k.retroactive, v.scenario,
       v.level, v.series_id, v.team, v.workload, v.ml_model, v.month, v.step AS horizon,
       v.method, v.point, v.lo_80, v.hi_80, v.lo_95, v.hi_95,
       coalesce(a.actual, 0) AS actual,
       coalesce(a.actual, 0) - v.point AS error,
       abs(coalesce(a.actual, 0) - v.point) AS abs_error,
       CASE WHEN coalesce(a.actual, 0) <> 0
           THEN round(100 * abs(coalesce(a.actual, 0) - v.point)
                      / abs(coalesce(a.actual, 0)), 6) END AS abs_pct_error,
       coalesce(a.actual, 0) BETWEEN v.lo_80 AND v.hi_80 AS in_band_80,
       coalesce(a.actual, 0) BETWEEN v.lo_95 AND v.hi_95 AS in_band_95
FROM forecast.forecast_values AS v
INNER JOIN locks AS k ON v.snapshot_id = k.snapshot_id
LEFT JOIN actuals AS a
    ON v.level = a.level AND v.month = a.month
    AND v.team IS NOT DISTINCT FROM a.team
    AND v.workload IS NOT DISTINCT FROM a.workload
    AND v.ml_model IS NOT DISTINCT FROM a.ml_model
WHERE v.level IN ('total', 'team', 'team_workload', 'team_model')
    AND v.scenario IN ('baseline', 'base')  -- SCORED_SCENARIOS
    AND v.month <= (SELECT last_month FROM closed)
"""


def ensure_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create or replace the views; the track record only once the cost mart exists (a view
    is bound when it is created)."""
    con.execute(FORECAST_EXPORT)
    if table_exists(con, "marts", "fct_costs_monthly"):
        con.execute(FORECAST_ACCURACY)
