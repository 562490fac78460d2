-- Every bridge row walks from the forecast to the actual exactly: forecast + the six effects
-- = actual, and actual - forecast = variance_vs_forecast. Shown in Dagster as a check on
-- rpt_review_bridge.
{{ config(meta={'dagster': {'ref': {'name': 'rpt_review_bridge'}}}) }}
select
    quarter,
    level,
    team,
    ml_model,
    forecast_cost,
    actual_cost,
    variance_vs_forecast
from {{ ref('rpt_review_bridge') }}
where
    forecast_cost + volume_effect + mix_effect + price_effect + commitment_effect
    + new_discontinued_effect + unquantified_effect <> actual_cost
    or actual_cost - forecast_cost <> variance_vs_forecast
