-- The monthly contract adds up to the allocations, per month, provider, team and currency.
-- Shown in Dagster as a check on fct_costs_monthly.
{{ config(meta={'dagster': {'ref': {'name': 'fct_costs_monthly'}}}) }}
with monthly as (
    select
        billing_month,
        provider,
        team,
        billing_currency,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost
    from {{ ref('fct_costs_monthly') }}
    group by 1, 2, 3, 4
),

allocations as (
    select
        billing_month,
        provider,
        team,
        billing_currency,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost
    from {{ ref('fct_cost_allocations') }}
    group by 1, 2, 3, 4
)

select
    m.*,
    a.billed_cost as allocated_billed_cost,
    a.effective_cost as allocated_effective_cost
from monthly as m
full outer join allocations as a
    on
        m.billing_month = a.billing_month
        and m.provider = a.provider
        and m.team = a.team
        and m.billing_currency = a.billing_currency
where
    m.provider is null
    or a.provider is null
    or m.billed_cost <> a.billed_cost
    or m.effective_cost <> a.effective_cost
