-- Attribution never creates or loses money: per provider, billing account, sub account,
-- billing period and currency, the allocations sum exactly (no tolerance) to the FOCUS rows.
-- Shown in Dagster as a check on fct_cost_allocations. A billing-period run checks its window
-- (the other periods did not change and were checked when they were built); a full run, all.
{{ config(meta={'dagster': {'ref': {'name': 'fct_cost_allocations'}}}) }}
with focus as (
    select
        {{ q('x_ProviderCode') }} as provider,
        {{ q('BillingAccountId') }} as billing_account_id,
        {{ q('SubAccountId') }} as sub_account_id,
        {{ q('x_BillingPeriod') }} as billing_period,
        {{ q('BillingCurrency') }} as billing_currency,
        sum({{ q('BilledCost') }}) as billed_cost,
        sum({{ q('EffectiveCost') }}) as effective_cost,
        sum({{ q('ListCost') }}) as list_cost,
        sum({{ q('PricingQuantity') }}) as pricing_quantity,
        count(*) as row_count
    from {{ ref('focus_cost_and_usage') }}
    where {{ billing_period_window(q('x_BillingPeriod')) }}
    group by 1, 2, 3, 4, 5
),

allocations as (
    select
        provider,
        billing_account_id,
        sub_account_id,
        billing_period,
        billing_currency,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost,
        sum(list_cost) as list_cost,
        sum(pricing_quantity) as pricing_quantity,
        count(distinct focus_row_id) as row_count
    from {{ ref('fct_cost_allocations') }}
    where {{ billing_period_window('billing_period') }}
    group by 1, 2, 3, 4, 5
)

select
    coalesce(f.provider, a.provider) as provider,
    coalesce(f.billing_account_id, a.billing_account_id) as billing_account_id,
    coalesce(f.sub_account_id, a.sub_account_id) as sub_account_id,
    coalesce(f.billing_period, a.billing_period) as billing_period,
    f.billed_cost as focus_billed_cost,
    a.billed_cost as allocated_billed_cost,
    f.effective_cost as focus_effective_cost,
    a.effective_cost as allocated_effective_cost,
    f.row_count as focus_rows,
    a.row_count as allocated_rows
from focus as f
full outer join allocations as a
    on
        f.provider = a.provider
        and f.billing_account_id is not distinct from a.billing_account_id
        and f.sub_account_id is not distinct from a.sub_account_id
        and f.billing_period is not distinct from a.billing_period
        and f.billing_currency is not distinct from a.billing_currency
where
    f.provider is null
    or a.provider is null
    or f.billed_cost <> a.billed_cost
    or f.effective_cost <> a.effective_cost
    or f.list_cost <> a.list_cost
    or f.pricing_quantity is distinct from a.pricing_quantity
    or f.row_count <> a.row_count
