-- Waste is priced from the resource's own cost: a finding never exceeds the effective cost
-- the resource (or commitment) carried in its billing month, and is never negative.
-- Shown in Dagster as a check on fct_idle_waste.
{{ config(meta={'dagster': {'ref': {'name': 'fct_idle_waste'}}}) }}
with waste as (
    select
        provider,
        resource_id,
        billing_month,
        sum(wasted_cost) as wasted_cost
    from {{ ref('fct_idle_waste') }}
    group by 1, 2, 3
),

resource_cost as (
    select
        provider,
        resource_id,
        {{ month_start('charge_date') }} as billing_month,
        -- A commitment fee amortized onto its usage (GCP CUDs) keeps its cost as BilledCost.
        sum(
            case
                when charge_category = 'Purchase' and effective_cost = 0 then billed_cost
                else effective_cost
            end
        ) as effective_cost
    from {{ ref('fct_cost_allocations') }}
    where
        charge_category in ('Usage', 'Purchase')
        and resource_id is not null
    group by 1, 2, 3
),

commitment_cost as (
    select
        provider,
        commitment_discount_id as resource_id,
        billing_month,
        sum(effective_cost) as effective_cost
    from {{ ref('fct_cost_allocations') }}
    where commitment_discount_status = 'Unused'
    group by 1, 2, 3
)

select
    w.*,
    r.effective_cost,
    c.effective_cost as unused_commitment_cost
from waste as w
left join resource_cost as r
    on
        w.provider = r.provider
        and w.resource_id = r.resource_id
        and w.billing_month = r.billing_month
left join commitment_cost as c
    on
        w.provider = c.provider
        and w.resource_id = c.resource_id
        and w.billing_month = c.billing_month
where
    w.wasted_cost < 0
    or w.wasted_cost > greatest(coalesce(r.effective_cost, 0), coalesce(c.effective_cost, 0))
