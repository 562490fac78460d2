{#- Auto-shutdown schedules (docs/recommendations.md): dev endpoints and experimentation
    notebooks that ran through nights and weekends over the last auto_shutdown_window_days of
    their provider's data. A day counts as running all night when the resource billed at least
    auto_shutdown_min_hours_per_day usage hours; a candidate did so on every weekend day and on
    average. Saving: its daily cost x days_per_month x the share of the week the schedule turns
    it off (1 - auto_shutdown_on_hours_per_week / 168).
    No double counting: a resource with an idle-waste finding in the window gets no row here
    (stopping, deleting or right-sizing it comes first and fct_idle_waste prices it). -#}
with resource_days as (
    select * from {{ ref('int_waste__resource_days') }}
),

allocations as (
    select * from {{ ref('fct_cost_allocations') }}
),

waste as (
    select * from {{ ref('fct_idle_waste') }}
),

attributes as (
    select * from {{ ref('int_waste__resource_attributes') }}
),

params as (
    select
        {{ recommendation_param('auto_shutdown_window_days') }} as window_days,
        {{ recommendation_param('auto_shutdown_min_hours_per_day') }} as min_hours,
        {{ recommendation_param('auto_shutdown_on_hours_per_week') }} as on_hours,
        (
            select max(t.value) from {{ ref('waste_thresholds') }} as t
            where t.waste_type = 'all' and t.parameter = 'days_per_month'
        ) as days_per_month
),

data_ends as (
    select
        provider,
        max(charge_date) as data_end
    from allocations
    group by provider
),

windows as (
    select
        e.provider,
        e.data_end,
        {{ date_minus_days('e.data_end', '(cast(p.window_days as integer) - 1)') }} as window_start
    from data_ends as e
    cross join params as p
),

usage_hours as (
    -- Hours a resource ran per day: the least quantity of its hour-priced lines that day (an
    -- instance bills several lines per hour: vCPU-hours, GPU-hours, a fee; the smallest is the
    -- instance's own hours when one of them counts one unit per hour).
    select
        provider,
        resource_id,
        charge_date,
        min(pricing_quantity) as hours
    from (
        select
            provider,
            resource_id,
            charge_date,
            focus_row_id,
            sum(pricing_quantity) as pricing_quantity
        from allocations
        where pricing_unit = 'Hours'
        group by provider, resource_id, charge_date, focus_row_id
    ) as lines
    group by provider, resource_id, charge_date
),

candidates as (
    select
        d.provider,
        d.resource_id,
        w.window_start,
        w.data_end,
        count(*) as billed_days,
        sum(d.day_cost) as window_cost,
        avg(coalesce(h.hours, 0)) as mean_hours,
        sum(case when {{ is_weekend('d.usage_date') }} then 1 else 0 end) as weekend_days,
        sum(case when {{ is_weekend('d.usage_date') }} and coalesce(h.hours, 0) >= p.min_hours then 1 else 0 end)
            as weekend_days_on
    from resource_days as d
    inner join windows as w
        on
            d.provider = w.provider
            and d.usage_date between w.window_start and w.data_end
    left join usage_hours as h
        on
            d.provider = h.provider
            and d.resource_id = h.resource_id
            and d.usage_date = h.charge_date
    cross join params as p
    where
        d.is_notebook
        or (
            d.is_endpoint and (
                d.workload = 'experimentation'
                or {{ dbt.position("'dev'", 'lower(d.resource_id)') }} > 0
                or {{ dbt.position("'staging'", 'lower(d.resource_id)') }} > 0
            )
        )
    group by d.provider, d.resource_id, w.window_start, w.data_end
),

always_on as (
    select c.*
    from candidates as c
    cross join params as p
    where
        c.weekend_days > 0
        and c.weekend_days_on = c.weekend_days
        and c.mean_hours >= p.min_hours
        and not exists (
            select 1 from waste as f
            where
                f.provider = c.provider
                and f.resource_id = c.resource_id
                and f.period_end >= c.window_start
        )
),

final as (
    select
        {{ recommendation_id("'auto_shutdown'", 'c.provider', 'c.resource_id') }} as recommendation_id,
        'auto_shutdown' as recommendation_type,
        c.provider,
        coalesce(a.team, 'unallocated') as team,
        coalesce(a.ml_model, 'none') as ml_model,
        c.resource_id,
        'resource' as scope,
        'Put ' || coalesce(a.resource_name, c.resource_id)
        || ' on an auto-shutdown schedule (on ' || cast(cast(p.on_hours as integer) as {{ dbt.type_string() }})
        || ' h a week, weekdays 08:00-20:00); it runs nights and weekends.' as action,
        coalesce(a.team, 'unallocated') as owner,
        'billed on ' || cast(c.billed_days as {{ dbt.type_string() }}) || ' days from '
        || cast(c.window_start as {{ dbt.type_string() }}) || ' to ' || cast(c.data_end as {{ dbt.type_string() }})
        || ', ' || cast(round(c.mean_hours, 1) as {{ dbt.type_string() }}) || ' usage hours a day on average, running on all '
        || cast(c.weekend_days as {{ dbt.type_string() }}) || ' weekend days; cost in the window '
        || cast(round(c.window_cost, 2) as {{ dbt.type_string() }}) as evidence,
        cast(
            round({{ money_mul('c.window_cost', to_decimal('p.days_per_month / c.billed_days * (1 - p.on_hours / 168)', 38, 10)) }}, 2)
            as {{ money_type() }}
        ) as estimated_monthly_saving,
        'off-hours cost: daily cost in the window x days_per_month x (1 - on hours a week / 168)' as saving_basis,
        a.billing_currency,
        {{ month_start('c.data_end') }} as source_month,
        c.window_start as period_start,
        c.data_end as period_end
    from always_on as c
    cross join params as p
    left join attributes as a
        on
            c.provider = a.provider
            and c.resource_id = a.resource_id
)

select * from final
