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
    * quarantined_files, late_deliveries, redeliveries (int_review__delivery_checks, from the
      load ledger and the delivery slices): warn when any. -#}
{%- set warn_share = var('attribution_coverage_target', 0.95) | float -%}
{%- set fail_pct = var('review_coverage_fail_pct', 80) | float -%}
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

delivery_checks as (
    select * from {{ ref('int_review__delivery_checks') }}
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

coverage_ranked as (
    select
        *,
        -- the least covered month; the earliest of equals, so the detail is reproducible
        row_number() over (
            partition by quarter, provider
            order by unallocated_cost / nullif(total_cost, 0) desc nulls last, billing_month
        ) as coverage_rank
    from coverage_months
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
        || max(case
            when coverage_rank = 1
                then
                    cast(billing_month as {{ text }}) || ' at '
                    || cast(round(cast(
                        100 * (1 - unallocated_cost / nullif(total_cost, 0)) as {{ float_type() }}
                    ), 1) as {{ text }}) || '%'
        end) as detail,
        cast(sum(allocation_rows) as {{ dbt.type_int() }}) as checked_rows
    from coverage_ranked
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
        {{ listagg_first(
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
        {{ listagg_first(
            "account || ' ' || cast(billing_period as " ~ text ~ ") || ': ' || rule",
            "'; '", "order by account, billing_period, rule", 10) }} as detail,
        cast(count(*) as {{ dbt.type_int() }}) as checked_rows
    from held_back_slices
    group by quarter, provider
),

checks as (
    select * from coverage_check
    union all
    select * from reconciliation_check
    union all
    select * from held_back_check
    union all
    select * from delivery_checks
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
