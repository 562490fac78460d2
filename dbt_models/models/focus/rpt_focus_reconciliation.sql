{{ config(**billing_period_incremental('billing_period')) }}

{#- FOCUS totals against the source's own totals, per (provider, billing account, billing
    period, currency), from the ledger of current deliveries. The FOCUS side is every FOCUS row
    the current deliveries produce (int_focus__candidates), judged BEFORE publishing: a slice
    that does not reconcile here is held back (rpt_held_back_slices) and so absent from
    focus_cost_and_usage, whose published slices the Dagster check focus_reconciles_to_source
    compares with this table. Exact decimal comparison:
    BilledCost against the invoice basis, EffectiveCost against the amortized basis where the
    source has one (a null source total means the source has no such basis).
    Both sides are restricted to the billing-period window of the run, and only that window's
    rows are replaced, so a partitioned build reconciles exactly the periods it rebuilt. -#}
with source_totals as (
    select
        provider,
        billing_account_id,
        billing_period,
        currency,
        sum(billed_total) as source_billed_total,
        sum(effective_total) as source_effective_total,
        count(billed_total) > 0 as has_billed_basis,
        count(effective_total) > 0 as has_effective_basis,
        sum(row_count) as source_rows
    from {{ source('meta', 'deliveries') }}
    where
        is_current and family not in {{ non_billing_families() }}
        and {{ billing_period_window('billing_period') }}
    group by provider, billing_account_id, billing_period, currency
),

focus_totals as (
    select
        {{ q('x_ProviderCode') }} as provider,
        {{ q('BillingAccountId') }} as billing_account_id,
        {{ q('x_BillingPeriod') }} as billing_period,
        {{ q('BillingCurrency') }} as currency,
        sum({{ q('BilledCost') }}) as focus_billed_total,
        sum({{ q('EffectiveCost') }}) as focus_effective_total,
        count(*) as focus_rows
    -- Already restricted to the run's window.
    from {{ ref('int_focus__candidates') }}
    group by {{ q('x_ProviderCode') }}, {{ q('BillingAccountId') }}, {{ q('x_BillingPeriod') }}, {{ q('BillingCurrency') }}
),

joined as (
    select
        coalesce(s.provider, f.provider) as provider,
        coalesce(s.billing_account_id, f.billing_account_id) as billing_account_id,
        coalesce(s.billing_period, f.billing_period) as billing_period,
        coalesce(s.currency, f.currency) as currency,
        s.source_billed_total,
        f.focus_billed_total,
        s.source_effective_total,
        f.focus_effective_total,
        coalesce(s.has_billed_basis, false) as has_billed_basis,
        coalesce(s.has_effective_basis, false) as has_effective_basis,
        s.source_rows,
        f.focus_rows
    from source_totals as s
    full outer join focus_totals as f
        on
            s.provider = f.provider
            and s.billing_account_id = f.billing_account_id
            and s.billing_period = f.billing_period
            and s.currency = f.currency
),

final as (
    select
        *,
        coalesce(focus_billed_total, 0) - coalesce(source_billed_total, 0) as billed_difference,
        coalesce(focus_effective_total, 0) - coalesce(source_effective_total, 0)
            as effective_difference,
        case
            when source_rows is null then 'focus_without_source'
            when focus_rows is null then 'source_without_focus'
            when has_billed_basis and coalesce(focus_billed_total, 0) <> source_billed_total
                then 'billed_mismatch'
            when
                has_effective_basis
                and coalesce(focus_effective_total, 0) <> source_effective_total
                then 'effective_mismatch'
            else 'reconciled'
        end as status
    from joined
)

select * from final
