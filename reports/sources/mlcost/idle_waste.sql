-- Idle-waste findings (marts.fct_idle_waste; an empty file when the mart is not built).
select
    provider,
    resource_id,
    team,
    ml_model,
    waste_type,
    cast(wasted_cost as double) as wasted_cost,
    recommended_action
from read_parquet('../data/exports/idle_waste.parquet')
