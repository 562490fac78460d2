{#- The review's data-quality section (docs/review-marts.md): one row per quarter, provider
    and check, each with a status, a value, its unit and a sentence naming the periods or
    files. Every check appears for every (quarter, provider) seen by any of them, so "no
    quarantined file" is a row that says 0, not a missing row. Thresholds (documented in
    docs/review-marts.md):
    * attribution_coverage: % of effective cost attributed to a team; warn below the dbt var
      attribution_coverage_target (default 95%), fail below var review_coverage_fail_pct (80).
    * reconciliation: slices (account x period x currency) whose FOCUS totals differ from the
      source's own; fail when any.
    * held_back_slices: slices kept out of FOCUS and the marts; fail when any.
    * quarantined_files: files the ledger quarantined, in the quarter of their billing period
      when a delivery names it, else of their load time; warn when any.
    * late_deliveries: account x period slices whose FIRST delivery was loaded more than
      var review_late_days (5) days after the period ended, except periods that arrived with
      the account's first load (a backfill: their lateness says nothing); warn when any.
    * redeliveries: superseded deliveries of the quarter's periods (a month whose figures
      were replaced); warn when any. -#}
{%- set warn_share = var('attribution_coverage_target', 0.95) | float -%}
{%- set fail_pct = var('review_coverage_fail_pct', 80) | float -%}
{%- set late_days = var('review_late_days', 5) | int -%}
{%- set text = dbt.type_string() -%}
{#- value: a percentage or a count, one decimal type for both. -#}
{%- set value_type = 'numeric' if target.type == 'bigquery' else 'decimal(38, 6)' -%}

with coverage as (
    select * from {{ ref('rpt_attribution_coverage') }}
),

reconciliation as (
    select * from {{ ref('rpt_focus_reconciliation') }}
),

held_back as (
    select * from {{ ref('rpt_held_back_slices') }}
),

ledger as (
    select * from {{ source('meta', 'load_ledger') }}
),

deliveries as (
    select *
    from {{ source('meta', 'deliveries') }}
    where family not in {{ non_billing_families() }} and billing_period is not null
),

coverage_months as (
    select
        {{ quarter_label('billing_month') }} as quarter,
        provider,
        billing_month,
        sum(total_effective_cost) as total_cost,
        sum(unallocated_cost) as unallocated_cost,
        sum(allocation_count) as allocation_rows
    from coverage
    group by {{ quarter_label('billing_month') }}, provider, billing_month
),

coverage_check as (
    select
        quarter,
        provider,
        'attribution_coverage' as check_name,
        cast(
            100 * (1 - sum(unallocated_cost) / nullif(sum(total_cost), 0)) as {{ value_type }}
        ) as value,
        'pct' as unit,
        'lowest month '
        || {{ arg_max(
            "cast(billing_month as " ~ text ~ ") || ' at ' || cast(round(cast(100 * (1 - unallocated_cost / nullif(total_cost, 0)) as " ~ float_type() ~ "), 1) as " ~ text ~ ") || '%'",
            "unallocated_cost / nullif(total_cost, 0)") }} as detail,
        cast(sum(allocation_rows) as {{ dbt.type_int() }}) as checked_rows
    from coverage_months
    group by quarter, provider
),

slices as (
    select
        {{ quarter_label('billing_period') }} as quarter,
        provider,
        billing_period,
        coalesce(billing_account_id, '(none)') as account,
        status
    from reconciliation
),

reconciliation_failures as (
    select
        quarter,
        provider,
        {{ dbt.listagg(
            "account || ' ' || cast(billing_period as " ~ text ~ ") || ': ' || status",
            "'; '", "order by account, billing_period", 10) }} as detail
    from slices
    where status <> 'reconciled'
    group by quarter, provider
),

reconciliation_check as (
    select
        slices.quarter,
        slices.provider,
        'reconciliation' as check_name,
        cast(
            sum(case when slices.status <> 'reconciled' then 1 else 0 end)
            as {{ value_type }}
        ) as value,
        'count' as unit,
        min(reconciliation_failures.detail) as detail,
        cast(count(*) as {{ dbt.type_int() }}) as checked_rows
    from slices
    left join reconciliation_failures
        on
            slices.quarter = reconciliation_failures.quarter
            and slices.provider = reconciliation_failures.provider
    group by slices.quarter, slices.provider
),

held_back_slices as (
    select distinct
        {{ quarter_label('billing_period') }} as quarter,
        provider,
        billing_period,
        coalesce(billing_account_id, '(none)') as account,
        rule
    from held_back
),

held_back_check as (
    select
        quarter,
        provider,
        'held_back_slices' as check_name,
        cast(
            count(distinct account || '|' || cast(billing_period as {{ text }}))
            as {{ value_type }}
        ) as value,
        'count' as unit,
        {{ dbt.listagg(
            "account || ' ' || cast(billing_period as " ~ text ~ ") || ': ' || rule",
            "'; '", "order by account, billing_period, rule", 10) }} as detail,
        cast(count(*) as {{ dbt.type_int() }}) as checked_rows
    from held_back_slices
    group by quarter, provider
),

-- A quarantined file's quarter: the billing period a delivery of the same file names, else
-- the day it was loaded (a quarantined file rarely gets as far as a delivery).
quarantined as (
    select
        coalesce(
            max({{ quarter_label('d.billing_period') }}),
            {{ quarter_label('min(l.loaded_at)') }}
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
        {{ dbt.listagg(
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
        cast(f.first_loaded_at as date) = cast(a.account_first_loaded_at as date) as is_backfill,
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
        {{ dbt.listagg(
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
        {{ dbt.listagg(
            "account || ' ' || cast(billing_period as " ~ text ~ ") || ' replaced: ' || path",
            "'; '", "order by account, billing_period, path", 10) }} as detail,
        cast(count(*) as {{ dbt.type_int() }}) as checked_rows
    from superseded
    group by quarter, provider
),

checks as (
    select * from coverage_check
    union all
    select * from reconciliation_check
    union all
    select * from held_back_check
    union all
    select * from quarantined_check
    union all
    select * from late_check
    union all
    select * from redelivery_check
),

check_names as (
    select
        'attribution_coverage' as check_name,
        'pct' as unit
    union all
    select
        'reconciliation' as check_name,
        'count' as unit
    union all
    select
        'held_back_slices' as check_name,
        'count' as unit
    union all
    select
        'quarantined_files' as check_name,
        'count' as unit
    union all
    select
        'late_deliveries' as check_name,
        'count' as unit
    union all
    select
        'redeliveries' as check_name,
        'count' as unit
),

quarter_providers as (
    select distinct
        quarter,
        provider
    from checks
),

grid as (
    select
        quarter_providers.quarter,
        quarter_providers.provider,
        check_names.check_name,
        check_names.unit
    from quarter_providers
    cross join check_names
),

final as (
    select
        grid.quarter,
        grid.provider,
        grid.check_name,
        case
            when grid.check_name = 'attribution_coverage'
                then
                    case
                        when checks.value is null then 'warn'
                        when checks.value < {{ fail_pct }} then 'fail'
                        when checks.value < {{ warn_share * 100 }} then 'warn'
                        else 'ok'
                    end
            when coalesce(checks.value, 0) = 0 then 'ok'
            when grid.check_name in ('reconciliation', 'held_back_slices') then 'fail'
            else 'warn'
        end as status,
        case
            when grid.check_name = 'attribution_coverage' then checks.value
            else coalesce(checks.value, 0)
        end as value,
        grid.unit,
        case
            when grid.check_name = 'attribution_coverage' and checks.value is null
                then 'no cost rows for this provider in the quarter'
            else checks.detail
        end as detail,
        coalesce(checks.checked_rows, 0) as checked_rows
    from grid
    left join checks
        on
            grid.quarter = checks.quarter
            and grid.provider = checks.provider
            and grid.check_name = checks.check_name
)

select * from final
