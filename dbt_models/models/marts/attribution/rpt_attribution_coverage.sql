{{ config(**billing_period_incremental('billing_month')) }}

{#- How each month's effective cost was attributed, per provider and currency. Shares are of
    the total effective cost of the slice; coverage is everything but unallocated. The finer
    grain (account and team) is rpt_attribution_coverage_detail. -#}
{%- set methods = ['tag', 'tag_alias', 'account_map', 'resource_rule', 'shared_split',
                   'unallocated', 'tag_unregistered'] -%}
with allocations as (
    select * from {{ ref('fct_cost_allocations') }}
    -- The run's billing-period window (all periods when none is given).
    where {{ billing_period_window('billing_month') }}
),

by_method as (
    select
        billing_month,
        provider,
        billing_currency,
        count(*) as allocation_count,
        sum(effective_cost) as total_effective_cost,
        {%- for m in methods %}
            sum(case when attribution_method = '{{ m }}' then effective_cost else 0 end)
                as {{ m }}_cost,
        {%- endfor %}
        sum(case when ml_model <> 'none' then effective_cost else 0 end) as model_specific_cost,
        sum(case when workload_source <> 'default' then effective_cost else 0 end)
            as workload_classified_cost,
        sum(case when has_tag_conflict then effective_cost else 0 end)
            as tag_conflict_cost
    from allocations
    group by billing_month, provider, billing_currency
),

final as (
    select
        billing_month,
        provider,
        billing_currency,
        allocation_count,
        cast(total_effective_cost as {{ money_type() }}) as total_effective_cost,
        {%- for m in methods %}
            cast({{ m }}_cost as {{ money_type() }}) as {{ m }}_cost,
        {%- endfor %}
        {%- for m in methods %}
            round(cast({{ m }}_cost / nullif(total_effective_cost, 0) as {{ float_type() }}), 6) as {{ m }}_share,
        {%- endfor %}
        round(cast(1 - unallocated_cost / nullif(total_effective_cost, 0) as {{ float_type() }}), 6)
            as coverage_share,
        round(cast(100 * (1 - unallocated_cost / nullif(total_effective_cost, 0)) as {{ float_type() }}), 4)
            as coverage_pct,
        round(cast(model_specific_cost / nullif(total_effective_cost, 0) as {{ float_type() }}), 6)
            as model_specific_share,
        round(cast(workload_classified_cost / nullif(total_effective_cost, 0) as {{ float_type() }}), 6)
            as workload_classified_share,
        cast(tag_conflict_cost as {{ money_type() }}) as tag_conflict_cost
    from by_method
)

select * from final
