{#- The calendar of the data and the ONE rule for "a complete quarter" (docs/variance-and-report.md):
    all three months of the quarter have cost data and have closed (the month is before the
    current UTC month). Variance, the report and the demo summary read the rule from here.
    `calendar_as_of` (a date, default today) only exists so tests can move the clock. -#}
{%- set as_of = var('calendar_as_of', none) -%}
{%- set today = "cast('" ~ as_of ~ "' as date)" if as_of else "current_date" -%}

with costs as (
    select distinct billing_month as month
    from {{ ref('fct_costs_monthly') }}
),

bounds as (
    select
        min(month) as data_first_month,
        max(month) as data_last_month
    from costs
),

spine as (
    {{ month_spine('bounds', 'data_first_month', 'data_last_month') }}
),

clock as (
    select {{ month_start(today) }} as current_month
),

months as (
    select
        spine.month,
        {{ quarter_label('spine.month') }} as quarter,
        cast({{ dbt.date_trunc('quarter', 'spine.month') }} as date) as quarter_start,
        costs.month is not null as has_cost_data,
        spine.month < clock.current_month as is_closed,
        {{ month_start(date_minus_days('clock.current_month', 1)) }} as closed_through_month
    from spine
    cross join clock
    left join costs on spine.month = costs.month
),

quarters as (
    select
        quarter,
        cast(sum(case when has_cost_data then 1 else 0 end) as {{ dbt.type_int() }})
            as months_in_quarter_with_data,
        sum(case when has_cost_data and is_closed then 1 else 0 end) as closed_months_with_data
    from months
    group by quarter
),

final as (
    select
        months.month,
        months.quarter,
        months.quarter_start,
        months.has_cost_data,
        months.is_closed,
        quarters.months_in_quarter_with_data,
        quarters.closed_months_with_data = 3 as is_quarter_complete,
        months.closed_through_month,
        bounds.data_first_month,
        bounds.data_last_month
    from months
    inner join quarters on months.quarter = quarters.quarter
    cross join bounds
)

select * from final
