-- Quarterly variance roll-ups: actual vs locked forecast vs budget, with effects.
select
    quarter,
    level,
    team,
    workload,
    ml_model,
    snapshot_id,
    currency,
    cast(actual_cost as double) as actual_cost,
    cast(forecast_cost as double) as forecast_cost,
    cast(budget_amount as double) as budget_amount,
    cast(variance_vs_forecast as double) as variance_vs_forecast,
    cast(variance_vs_forecast_pct as double) as variance_vs_forecast_pct,
    cast(variance_vs_budget as double) as variance_vs_budget,
    cast(variance_vs_budget_pct as double) as variance_vs_budget_pct,
    cast(volume_effect as double) as volume_effect,
    cast(mix_effect as double) as mix_effect,
    cast(price_effect as double) as price_effect,
    cast(new_discontinued_effect as double) as new_discontinued_effect,
    cast(unquantified_effect as double) as unquantified_effect,
    months_outside_80,
    computed_at
from read_parquet('../data/exports/variance.parquet')
