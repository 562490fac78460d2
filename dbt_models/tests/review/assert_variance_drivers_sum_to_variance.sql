-- The drivers of a material variance explain all of it: per parent (team, or team x model)
-- and kind (resource, sku), the deltas add up exactly to the parent's variance_vs_forecast,
-- and the expected costs to its forecast_cost. Shown in Dagster as a check on
-- fct_variance_drivers. A warning, not an error: the only way it fails with correct SQL is a
-- quarter whose variance was computed before its months were re-delivered (the variance
-- asset recomputes recent quarters only), and that must not stop a run.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_variance_drivers'}}}) }}
with drivers as (
    select
        quarter,
        team,
        ml_model,
        driver_kind,
        sum(delta_cost) as delta_cost,
        sum(expected_cost) as expected_cost
    from {{ ref('fct_variance_drivers') }}
    group by quarter, team, ml_model, driver_kind
),

parents as (
    select
        quarter,
        team,
        case when level = 'team_model' then ml_model end as ml_model,
        forecast_cost,
        variance_vs_forecast
    from {{ ref('rpt_review_bridge') }}
    where is_material and level in ('team', 'team_model')
)

select
    p.quarter,
    p.team,
    p.ml_model,
    d.driver_kind,
    p.variance_vs_forecast,
    d.delta_cost,
    p.forecast_cost,
    d.expected_cost
from parents as p
left join drivers as d
    on
        p.quarter = d.quarter
        and p.team = d.team
        and coalesce(p.ml_model, '') = coalesce(d.ml_model, '')
where
    d.quarter is null
    or abs(d.delta_cost - p.variance_vs_forecast) > {{ money_tolerance() }}
    or abs(d.expected_cost - p.forecast_cost) > {{ money_tolerance() }}
