-- Every bridge row walks from the forecast to the actual exactly: forecast + the six effects
-- = actual, and actual - forecast = variance_vs_forecast (macro money_tolerance: 0 but on the
-- emulator). Shown in Dagster as a check on
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
    abs(
        forecast_cost + volume_effect + mix_effect + price_effect + commitment_effect
        + new_discontinued_effect + unquantified_effect - actual_cost
    ) > {{ money_tolerance() }}
    or abs(actual_cost - forecast_cost - variance_vs_forecast) > {{ money_tolerance() }}
