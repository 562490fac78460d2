{{ config(**billing_period_incremental('billing_month')) }}

{#- Daily cost by attribution and service: the drill-down grain behind fct_costs_monthly. -#}
{%- set dims = ['charge_date', 'billing_month', 'provider', 'sub_account_id', 'team', 'ml_model',
                'workload', 'service_category', 'service_name', 'pricing_unit',
                'billing_currency'] -%}
with allocations as (
    select * from {{ ref('fct_cost_allocations') }}
    -- The run's billing-period window (all periods when none is given).
    where {{ billing_period_window('billing_month') }}
),

aggregated as (
    select
        {{ dims | join(',\n        ') }},
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost,
        sum(list_cost) as list_cost,
        sum(pricing_quantity) as pricing_quantity,
        count(*) as allocation_count
    from allocations
    group by {{ dims | join(', ') }}
),

final as (
    select
        {{ md5_hex(grain_text(dims)) }} as cost_daily_id,
        {{ dims | join(',\n        ') }},
        cast(billed_cost as {{ money_type() }}) as billed_cost,
        cast(effective_cost as {{ money_type() }}) as effective_cost,
        cast(list_cost as {{ money_type() }}) as list_cost,
        cast(pricing_quantity as {{ money_type() }}) as pricing_quantity,
        allocation_count
    from aggregated
)

select * from final
