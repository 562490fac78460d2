{#- One row per commitment (CommitmentDiscountId, or the ResourceId of a purchase without one):
    the team of the account that bought it (or else the team carrying the cost), its name and
    currency. Names the unused_commitment findings. -#}
with allocations as (
    select * from {{ ref('fct_cost_allocations') }}
),

final as (
    select
        provider,
        coalesce(commitment_discount_id, resource_id) as resource_id,
        {{ arg_max("coalesce(account_team, team)", "abs(effective_cost) + abs(billed_cost)") }} as team,
        coalesce(max(resource_name), max(commitment_discount_id)) as resource_name,
        min(billing_currency) as billing_currency
    from allocations
    where
        {{ is_commitment_row() }}
        and (commitment_discount_status = 'Unused' or charge_category = 'Purchase')
    group by provider, coalesce(commitment_discount_id, resource_id)
)

select * from final
