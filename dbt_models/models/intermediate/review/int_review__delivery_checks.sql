{#- The data-quality checks of rpt_review_data_quality that read the load ledger and the
    delivery slices (docs/review-marts.md), one row per quarter, provider and check, only
    where the check saw something (the mart fills in the rest):
    * quarantined_files: files the ledger quarantined, in the quarter of their billing period
      when a delivery names it, else of their load time.
    * late_deliveries: account x period slices whose FIRST delivery was loaded more than
      var review_late_days (5) days after the period ended, except periods that arrived within
      24 hours of the account's first load (a backfill: their lateness says nothing).
    * redeliveries: superseded deliveries of the quarter's periods. -#}
{{ config(materialized='ephemeral') }}
{%- set late_days = var('review_late_days', 5) | int -%}
{%- set text = dbt.type_string() -%}
{%- set value_type = 'numeric' if target.type == 'bigquery' else 'decimal(38, 6)' -%}

with ledger as (
    select * from {{ source('meta', 'load_ledger') }}
),

deliveries as (
    select *
    from {{ source('meta', 'deliveries') }}
    where family not in {{ non_billing_families() }} and billing_period is not null
),

-- A quarantined file's quarter: the billing period a delivery of the same file names, else
-- the day it was loaded (a quarantined file rarely gets as far as a delivery).
quarantined as (
    select
        coalesce(
            max({{ quarter_label('d.billing_period') }}),
            {{ quarter_label('cast(min(l.loaded_at) as date)') }}
        ) as quarter,
        coalesce(l.provider, 'unknown') as provider,
        l.file_id,
        min(l.file_name) as file_name,
        min(l.error) as error
    from ledger as l
    left join {{ source('meta', 'deliveries') }} as d on l.file_id = d.file_id
    where l.status = 'quarantined'
    group by coalesce(l.provider, 'unknown'), l.file_id
),

quarantined_check as (
    select
        quarter,
        provider,
        'quarantined_files' as check_name,
        cast(count(*) as {{ value_type }}) as value,
        'count' as unit,
        {{ listagg_first(
            "file_name || coalesce(' (' || substr(error, 1, 120) || ')', '')",
            "'; '", "order by file_name", 10) }} as detail,
        cast(count(*) as {{ dbt.type_int() }}) as checked_rows
    from quarantined
    group by quarter, provider
),

first_loads as (
    select
        provider,
        coalesce(billing_account_id, '(none)') as account,
        billing_period,
        min(loaded_at) as first_loaded_at
    from deliveries
    group by provider, coalesce(billing_account_id, '(none)'), billing_period
),

account_first_loads as (
    select
        provider,
        account,
        min(first_loaded_at) as account_first_loaded_at
    from first_loads
    group by provider, account
),

lateness as (
    select
        {{ quarter_label('f.billing_period') }} as quarter,
        f.provider,
        f.account,
        f.billing_period,
        f.first_loaded_at,
        -- Within 24 hours, not on the same calendar day: a first load that runs past midnight
        -- is still one backfill.
        f.first_loaded_at < {{ add_days('a.account_first_loaded_at', 1) }} as is_backfill,
        f.first_loaded_at
        > {{ add_days(dbt.dateadd('month', 1, 'f.billing_period'), late_days) }} as is_late
    from first_loads as f
    inner join account_first_loads as a
        on f.provider = a.provider and f.account = a.account
),

late_slices as (
    select
        quarter,
        provider,
        {{ listagg_first(
            "account || ' ' || cast(billing_period as " ~ text ~ ") || ' first loaded ' || cast(cast(first_loaded_at as date) as " ~ text ~ ")",
            "'; '", "order by account, billing_period", 10) }} as detail
    from lateness
    where is_late and not is_backfill
    group by quarter, provider
),

late_check as (
    select
        lateness.quarter,
        lateness.provider,
        'late_deliveries' as check_name,
        cast(
            sum(case when lateness.is_late and not lateness.is_backfill then 1 else 0 end)
            as {{ value_type }}
        ) as value,
        'count' as unit,
        coalesce(
            min(late_slices.detail),
            case
                when sum(case when lateness.is_backfill then 1 else 0 end) > 0
                    then
                        cast(sum(case when lateness.is_backfill then 1 else 0 end) as {{ text }})
                        || ' period(s) arrived with the first load of their account (a backfill):'
                        || ' lateness not judged'
            end
        ) as detail,
        cast(count(*) as {{ dbt.type_int() }}) as checked_rows
    from lateness
    left join late_slices
        on lateness.quarter = late_slices.quarter and lateness.provider = late_slices.provider
    group by lateness.quarter, lateness.provider
),

superseded as (
    select
        {{ quarter_label('billing_period') }} as quarter,
        provider,
        coalesce(billing_account_id, '(none)') as account,
        billing_period,
        file_id,
        min(path) as path,
        min(loaded_at) as loaded_at
    from deliveries
    where not is_current
    group by
        {{ quarter_label('billing_period') }}, provider, coalesce(billing_account_id, '(none)'),
        billing_period, file_id
),

redelivery_check as (
    select
        quarter,
        provider,
        'redeliveries' as check_name,
        cast(count(*) as {{ value_type }}) as value,
        'count' as unit,
        {{ listagg_first(
            "account || ' ' || cast(billing_period as " ~ text ~ ") || ' replaced: ' || path",
            "'; '", "order by account, billing_period, path", 10) }} as detail,
        cast(count(*) as {{ dbt.type_int() }}) as checked_rows
    from superseded
    group by quarter, provider
),

final as (
    select * from quarantined_check
    union all
    select * from late_check
    union all
    select * from redelivery_check
)

select * from final
