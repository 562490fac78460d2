-- Segment-level price / volume / mix decomposition behind the quarterly variance.
select
    quarter,
    snapshot_id,
    team,
    workload,
    ml_model,
    provider,
    service_name,
    pricing_unit,
    segment_status,
    cast(actual_cost as double) as actual_cost,
    cast(plan_cost as double) as plan_cost,
    cast(actual_quantity as double) as actual_quantity,
    cast(plan_quantity as double) as plan_quantity,
    cast(actual_unit_price as double) as actual_unit_price,
    cast(plan_unit_price as double) as plan_unit_price,
    cast(volume_effect as double) as volume_effect,
    cast(mix_effect as double) as mix_effect,
    cast(price_effect as double) as price_effect,
    cast(new_discontinued_effect as double) as new_discontinued_effect,
    cast(unquantified_effect as double) as unquantified_effect,
    cast(total_variance as double) as total_variance
from read_parquet('../data/exports/variance_decomposition.parquet')
