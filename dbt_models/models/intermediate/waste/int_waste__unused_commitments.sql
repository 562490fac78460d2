{#- Detector unused_commitment (docs/waste.md): the unused share of a commitment in a month,
    reported from min_unused_share. Two shapes: FOCUS Usage rows with
    CommitmentDiscountStatus = 'Unused' (their cost is the waste), and commitment fees kept as
    a Purchase with no Unused rows (GCP resource-based CUDs): judged from the commitment's
    usage against its size, the fee times 1 - covered / committed quantity, whether the
    mapping left the fee on the Purchase row or amortized it onto the covered usage. One row
    per commitment and month. -#}
with allocations as (
    select * from {{ ref('fct_cost_allocations') }}
),

commitment_rows as (
    select *
    from allocations
    where {{ is_commitment_row() }}
),

unused_rows as (
    -- FOCUS carries unused commitment as Usage rows with CommitmentDiscountStatus = 'Unused'.
    select
        provider,
        commitment_discount_id as resource_id,
        billing_month as usage_month,
        min(cast(charge_period_start as date)) as period_start,
        max({{ date_minus_days('cast(charge_period_end as date)', 1) }}) as period_end,
        sum(effective_cost) as wasted_cost
    from commitment_rows
    where commitment_discount_status = 'Unused'
    group by provider, commitment_discount_id, billing_month
),

commitment_totals as (
    select
        provider,
        commitment_discount_id as resource_id,
        billing_month as usage_month,
        sum(effective_cost) as commitment_cost
    from commitment_rows
    where commitment_discount_status in ('Used', 'Unused')
    group by provider, commitment_discount_id, billing_month
),

unused_from_status as (
    select
        u.provider,
        u.resource_id,
        u.usage_month,
        u.period_start,
        u.period_end,
        u.wasted_cost,
        cast(u.wasted_cost / nullif(t.commitment_cost, 0) as {{ float_type() }}) as unused_share
    from unused_rows as u
    inner join commitment_totals as t
        on
            u.provider = t.provider
            and u.resource_id = t.resource_id
            and u.usage_month = t.usage_month
),

commitment_fees as (
    -- GCP resource-based CUDs publish a Purchase row per day (the fee, PricingQuantity = the
    -- committed quantity) and no Unused rows. The mlcost GCP model amortizes the whole fee
    -- onto the covered usage, so the Purchase row's EffectiveCost is 0 and its BilledCost is
    -- the fee; other mappings keep the fee's EffectiveCost on it. The fee's resource names
    -- the commitment; the covered usage names it at the end of CommitmentDiscountId.
    -- Unused share = 1 - covered / committed quantity.
    select
        provider,
        resource_id,
        billing_month as usage_month,
        {{ regex_extract('resource_id', '[^/:]+$') }} as commitment_name,
        pricing_unit,
        min(cast(charge_period_start as date)) as period_start,
        max({{ date_minus_days('cast(charge_period_end as date)', 1) }}) as period_end,
        sum(case when effective_cost <> 0 then effective_cost else billed_cost end) as fee_cost,
        sum(pricing_quantity) as committed_quantity
    from commitment_rows
    where
        charge_category = 'Purchase'
        and commitment_discount_id is null
        and (effective_cost <> 0 or billed_cost <> 0)
    group by provider, resource_id, billing_month, pricing_unit
),

covered_usage as (
    select
        provider,
        billing_month as usage_month,
        {{ regex_extract('commitment_discount_id', '[^/:]+$') }} as commitment_name,
        pricing_unit,
        sum(pricing_quantity) as covered_quantity
    from commitment_rows
    where commitment_discount_status = 'Used'
    group by
        provider, billing_month, {{ regex_extract('commitment_discount_id', '[^/:]+$') }},
        pricing_unit
),

unused_from_fees as (
    select
        f.provider,
        f.resource_id,
        f.usage_month,
        f.period_start,
        f.period_end,
        {{ money_mul('f.fee_cost', '' ~ to_decimal('1 - least(coalesce(c.covered_quantity, 0) / f.committed_quantity, 1)', 38, 10)) }}
            as wasted_cost,
        cast(1 - least(coalesce(c.covered_quantity, 0) / f.committed_quantity, 1) as {{ float_type() }})
            as unused_share
    from commitment_fees as f
    left join covered_usage as c
        on
            f.provider = c.provider
            and f.usage_month = c.usage_month
            and f.commitment_name = c.commitment_name
            and f.pricing_unit is not distinct from c.pricing_unit
    where f.committed_quantity > 0
    -- A commitment never seen in use may be an unrelated purchase: not judged.
    and exists (
        select 1 from covered_usage as any_use
        where
            any_use.provider = f.provider
            and any_use.commitment_name = f.commitment_name
    )
),

final as (
    select
        u.provider,
        u.resource_id,
        'unused_commitment' as waste_type,
        u.usage_month,
        u.period_start as run_start,
        u.period_end as run_end,
        {{ days_between('u.period_end', 'u.period_start') }} + 1 as run_days,
        u.period_start,
        u.period_end,
        {{ days_between('u.period_end', 'u.period_start') }} + 1 as idle_days,
        u.wasted_cost,
        u.unused_share as evidence_metric_value
    from (
        select * from unused_from_status
        union all
        select * from unused_from_fees
    ) as u
    where u.unused_share >= {{ waste_threshold('unused_commitment', 'min_unused_share', 'null') }}
)

select * from final
