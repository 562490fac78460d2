-- Every FOCUS row is allocated, and the pieces of a split row add up exactly to the row, with
-- shares summing to 1 (the rounding remainder sits on the largest share).
-- Shown in Dagster as a check on fct_cost_allocations. A billing-period run checks its window
-- (the other periods did not change and were checked when they were built); a full run, all.
{{ config(meta={'dagster': {'ref': {'name': 'fct_cost_allocations'}}}) }}
with focus as (
    select
        {{ q('x_RowId') }} as focus_row_id,
        {{ q('BilledCost') }} as billed_cost,
        {{ q('EffectiveCost') }} as effective_cost,
        {{ q('ListCost') }} as list_cost,
        {{ q('PricingQuantity') }} as pricing_quantity
    from {{ ref('focus_cost_and_usage') }}
    where {{ billing_period_window(q('x_BillingPeriod')) }}
),

pieces as (
    select
        focus_row_id,
        sum(allocation_share) as total_share,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost,
        sum(list_cost) as list_cost,
        sum(pricing_quantity) as pricing_quantity
    from {{ ref('fct_cost_allocations') }}
    where {{ billing_period_window('billing_period') }}
    group by focus_row_id
)

select
    f.focus_row_id,
    p.total_share,
    f.effective_cost,
    p.effective_cost as allocated_effective_cost
from focus as f
left join pieces as p on f.focus_row_id = p.focus_row_id
where
    p.focus_row_id is null
    or p.total_share <> 1
    or p.billed_cost <> f.billed_cost
    or p.effective_cost <> f.effective_cost
    or p.list_cost <> f.list_cost
    or p.pricing_quantity is distinct from f.pricing_quantity
