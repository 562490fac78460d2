{#- Training cost no MLflow run claims (contract 3 of issue 15): reported, never dropped.
    matched (fct_training_run_costs) + unmatched = all training cost of fct_cost_allocations,
    up to the 10-decimal rounding of time-window shares. -#}
with matches as (
    select * from {{ ref('int_training_cost_matches') }}
    where match_method = 'unmatched'
),

{%- set dims = ['billing_month', 'provider', 'team', 'ml_model', 'resource_id',
                'billing_currency', 'unmatched_reason'] %}

final as (
    select
        {{ md5_hex(grain_text(dims)) }} as unmatched_id,
        billing_month,
        provider,
        team,
        ml_model,
        resource_id,
        billing_currency,
        unmatched_reason,
        count(*) as cost_rows,
        {{ money('sum(matched_cost)') }} as cost
    from matches
    group by billing_month, provider, team, ml_model, resource_id, billing_currency, unmatched_reason
)

select * from final
