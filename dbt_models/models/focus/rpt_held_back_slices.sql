{{ config(**billing_period_incremental('billing_period')) }}

{#- The slices of the run's window that are NOT published, one row per (slice, currency,
    file, failed rule). A slice is a (provider, billing account, billing period); it is held
    back from focus_cost_and_usage (and so from every mart) when any of its FOCUS rows breaks
    one of the FOCUS rules below or when it does not reconcile to the source
    (rpt_focus_reconciliation). Every other slice is published.

    The FOCUS rules are the data tests of focus_cost_and_usage in _focus__models.yml that data
    can break (tests/test_held_back_slices.py checks the two lists agree), evaluated per slice
    here so that a bad delivery stops only itself. x_RowId's not_null/unique tests stay dbt
    tests: the row id is built by mlcost, not read from the data.

    The table holds the current verdicts only: the window is cleared before the insert
    (clear_billing_window), so a slice fixed by a re-delivery leaves the table when its period
    is rebuilt. detected_at is when the build that reached the verdict ran. -#}
{%- set not_null = ['BilledCost', 'BillingAccountId', 'BillingCurrency', 'BillingPeriodEnd',
                    'BillingPeriodStart', 'ChargeCategory', 'ChargePeriodEnd',
                    'ChargePeriodStart', 'ContractedCost', 'EffectiveCost', 'InvoiceIssuerName',
                    'ListCost', 'ProviderName', 'PublisherName', 'ServiceCategory',
                    'ServiceName'] -%}
{%- set accepted_values = {
    'ChargeCategory': ['Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment'],
    'ChargeClass': ['Correction'],
    'ChargeFrequency': ['One-Time', 'Recurring', 'Usage-Based'],
    'CommitmentDiscountCategory': ['Spend', 'Usage'],
    'CommitmentDiscountStatus': ['Used', 'Unused'],
    'PricingCategory': ['Standard', 'Dynamic', 'Committed', 'Other'],
} -%}
{%- set str = dbt.type_string() -%}
{#- Row breaks an accepted-values rule (like dbt's test, a null is not a value). -#}
{%- set bad = {} -%}
{%- for c, values in accepted_values.items() -%}
    {%- do bad.update({c: '(' ~ q(c) ~ ' is not null and ' ~ q(c) ~ " not in ('"
                          ~ values | join("', '") ~ "'))"}) -%}
{%- endfor -%}
{#- Exact decimal text of a money column without the trailing zeros of its 24-digit scale. -#}
{%- set money_text = {} -%}
{%- for col in ['focus_billed_total', 'source_billed_total', 'billed_difference',
                'focus_effective_total', 'source_effective_total', 'effective_difference'] -%}
    {%- set t = 'cast(r.' ~ col ~ ' as ' ~ str ~ ')' -%}
    {%- do money_text.update({col: "case when strpos(" ~ t ~ ", '.') > 0 then rtrim(rtrim("
                                   ~ t ~ ", '0'), '.') else " ~ t ~ " end"}) -%}
{%- endfor %}

with candidates as (
    select * from {{ ref('int_focus__candidates') }}
),

-- One pass over the window's rows: per slice, currency and file, how many rows break each
-- rule, the first such source row and one offending value.
profiles as (
    select
        {{ q('x_ProviderCode') }} as provider,
        {{ q('BillingAccountId') }} as billing_account_id,
        {{ q('x_BillingPeriod') }} as billing_period,
        {{ q('BillingCurrency') }} as currency,
        {{ q('x_SourceFileId') }} as file_id,
        {%- for c in not_null %}
            sum(case when {{ q(c) }} is null then 1 else 0 end) as bad_{{ c }},
            min(case when {{ q(c) }} is null then {{ q('x_SourceRowNumber') }} end) as first_{{ c }},
        {%- endfor %}
        {%- for c, values in accepted_values.items() %}
            sum(case when {{ bad[c] }} then 1 else 0 end) as bad_{{ c }}_value,
            min(case when {{ bad[c] }} then {{ q('x_SourceRowNumber') }} end) as first_{{ c }}_value,
            min(case when {{ bad[c] }} then {{ q(c) }} end) as example_{{ c }}_value,
        {%- endfor %}
        count(*) as row_count
    from candidates
    group by 1, 2, 3, 4, 5
),

rule_failures as (
    {%- for c in not_null %}
        select
            provider,
            billing_account_id,
            billing_period,
            currency,
            file_id,
            'not_null:{{ c }}' as rule,
            '{{ c }} is null on ' || cast(bad_{{ c }} as {{ str }}) || ' of '
            || cast(row_count as {{ str }}) || ' rows (first at source row '
            || cast(first_{{ c }} as {{ str }}) || '); FOCUS 1.2 requires a value.' as detail
        from profiles
        where bad_{{ c }} > 0
        union all
    {%- endfor %}
    {%- for c, values in accepted_values.items() %}
        select
            provider,
            billing_account_id,
            billing_period,
            currency,
            file_id,
            'accepted_values:{{ c }}' as rule,
            '{{ c }} is "' || example_{{ c }}_value || '" on ' || cast(bad_{{ c }}_value as {{ str }})
            || ' of ' || cast(row_count as {{ str }}) || ' rows (first at source row '
            || cast(first_{{ c }}_value as {{ str }})
            || '); FOCUS 1.2 allows {{ values | join(", ") }}.' as detail
        from profiles
        where bad_{{ c }}_value > 0
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- The files behind each (provider, account, period, currency): the ledger's current
-- deliveries, and the files the FOCUS rows came from.
slice_files as (
    select distinct
        provider,
        billing_account_id,
        billing_period,
        currency,
        file_id
    from {{ source('meta', 'deliveries') }}
    where
        is_current and family not in {{ non_billing_families() }}
        and {{ billing_period_window('billing_period') }}
    union distinct
    select
        provider,
        billing_account_id,
        billing_period,
        currency,
        file_id
    from profiles
),

reconciliation_failures as (
    select
        r.provider,
        r.billing_account_id,
        r.billing_period,
        r.currency,
        f.file_id,
        'reconciliation' as rule,
        case r.status
            {%- for basis, column, total in [('billed', 'BilledCost', 'invoiced'),
                                             ('effective', 'EffectiveCost', 'amortized')] %}
                when '{{ basis }}_mismatch'
                    then
                        'Σ {{ column }} ' || {{ money_text['focus_' ~ basis ~ '_total'] }}
                        || ' differs from the {{ total }} total of the source, '
                        || {{ money_text['source_' ~ basis ~ '_total'] }} || ' by '
                        || {{ money_text[basis ~ '_difference'] }} || ' ' || coalesce(r.currency, '(no currency)')
                        || ' (the files of this slice are not extracts of the same charges, or the mapping lost some).'
            {%- endfor %}
            when 'source_without_focus'
                then
                    'The source delivered ' || cast(r.source_rows as {{ str }})
                    || ' rows for this slice but they produced no FOCUS rows.'
            else
                'FOCUS rows (' || cast(r.focus_rows as {{ str }})
                || ') without a current delivery of this slice in meta.deliveries.'
        end as detail
    from {{ ref('rpt_focus_reconciliation') }} as r
    left join slice_files as f
        on
            r.provider = f.provider
            and r.billing_account_id is not distinct from f.billing_account_id
            and r.billing_period = f.billing_period
            and r.currency is not distinct from f.currency
    where
        r.status <> 'reconciled'
        and {{ billing_period_window('r.billing_period') }}
),

failures as (
    select * from rule_failures
    union all
    select * from reconciliation_failures
),

final as (
    select
        failures.provider,
        failures.billing_account_id,
        failures.billing_period,
        failures.currency,
        failures.file_id,
        failures.rule,
        failures.detail,
        {% if target.type == 'bigquery' -%}
            current_timestamp()
        {%- else -%}
            cast(timezone('UTC', current_timestamp) as timestamp)
        {%- endif %} as detected_at
    from failures
)

select * from final
