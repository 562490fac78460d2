{{ config(**billing_period_incremental('billing_month')) }}

{#- The monthly cost contract consumed by forecasting and variance (docs/architecture.md,
    "Marts consumed downstream"); columns and types are enforced. -#}
with daily as (
    select * from {{ ref('fct_costs_daily') }}
    -- The run's billing-period window (all periods when none is given).
    where {{ billing_period_window('billing_month') }}
),

aggregated as (
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
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost,
        sum(list_cost) as list_cost,
        sum(pricing_quantity) as pricing_quantity
    from daily
    group by
        billing_month, provider, team, ml_model, workload, service_category, service_name,
        pricing_unit, billing_currency
),

final as (
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
        cast(billed_cost as {{ money_type() }}) as billed_cost,
        cast(effective_cost as {{ money_type() }}) as effective_cost,
        cast(list_cost as {{ money_type() }}) as list_cost,
        cast(pricing_quantity as {{ money_type() }}) as pricing_quantity
    from aggregated
)

select * from final
