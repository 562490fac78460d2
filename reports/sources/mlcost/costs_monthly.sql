-- Monthly ML cost by team, model, workload and service (marts.fct_costs_monthly).
-- Money is DECIMAL(38,24) in the Parquet file; it is cast to DOUBLE here only because
-- Evidence charts work in JavaScript numbers.
select
    billing_month,
    provider,
    team,
    ml_model,
    workload,
    service_category,
    service_name,
    pricing_unit,
    billing_currency,
    cast(billed_cost as double) as billed_cost,
    cast(effective_cost as double) as effective_cost,
    cast(list_cost as double) as list_cost,
    cast(pricing_quantity as double) as pricing_quantity
from read_parquet('../data/exports/costs_monthly.parquet')
