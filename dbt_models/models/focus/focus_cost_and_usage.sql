{{ config(**billing_period_incremental('x_BillingPeriod')) }}

{#- The published FOCUS 1.2 Cost and Usage dataset: the FOCUS rows of the run's window
    (int_focus__candidates, where the mappings are unioned and the cross-provider rules
    applied) minus every slice held back in rpt_held_back_slices. A slice is a (provider,
    billing account, billing period) and is all-or-nothing: one failed FOCUS rule or
    reconciliation anywhere in it keeps all of its rows out (docs/focus.md). -#}
with candidates as (
    select * from {{ ref('int_focus__candidates') }}
),

held_back as (
    select distinct
        provider,
        billing_account_id,
        billing_period
    from {{ ref('rpt_held_back_slices') }}
    where {{ billing_period_window('billing_period') }}
),

final as (
    select candidates.*
    from candidates
    where not exists (
        select 1
        from held_back
        where
            held_back.provider = candidates.{{ q('x_ProviderCode') }}
            -- A null account is a slice of its own (held back: BillingAccountId is required).
            and held_back.billing_account_id is not distinct from candidates.{{ q('BillingAccountId') }}
            and held_back.billing_period = candidates.{{ q('x_BillingPeriod') }}
    )
)

select * from final
