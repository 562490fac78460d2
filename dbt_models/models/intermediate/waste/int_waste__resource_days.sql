{#- One row per billed resource-day (the effective cost of its resource rows, see
    int_waste__resource_attributes, is positive) of a resource that reports utilisation
    metrics, with that day's metrics and what the resource is. The input of the day-based
    detectors. -#}
with allocations as (
    select * from {{ ref('fct_cost_allocations') }}
),

metrics as (
    select * from {{ ref('stg_mlcost__utilization_metrics') }}
),

attributes as (
    select * from {{ ref('int_waste__resource_attributes') }}
),

resource_days as (
    select
        provider,
        resource_id,
        charge_date as usage_date,
        sum(effective_cost) as day_cost
    from allocations
    where {{ is_waste_resource_row() }}
    group by provider, resource_id, charge_date
),

daily_metrics as (
    -- One pass over the metrics: the day's values, and which metrics the resource reports.
    select
        provider,
        resource_id,
        metric_date,
        max(case when metric_name = 'gpu_utilization_pct' then metric_value end) as gpu_pct,
        max(case when metric_name = 'invocations' then metric_value end) as invocations,
        max(case when metric_name = 'active_minutes' then metric_value end) as active_minutes,
        max(case when metric_name = 'read_requests' then metric_value end) as read_requests,
        {{ bool_or("metric_name = 'invocations'") }} as has_invocations,
        {{ bool_or("metric_name = 'active_minutes'") }} as has_active_minutes,
        {{ bool_or("metric_name = 'read_requests'") }} as has_read_requests,
        {{ bool_or("metric_name = 'gpu_utilization_pct'") }} as has_gpu_pct
    from metrics
    group by provider, resource_id, metric_date
),

metric_kinds as (
    -- What a resource is measured by tells what it is: endpoints report invocations,
    -- notebooks activity, storage reads.
    select
        provider,
        resource_id,
        {{ bool_or("has_invocations") }} as is_endpoint,
        {{ bool_or("has_active_minutes") }} as is_notebook,
        {{ bool_or("has_read_requests") }} as is_storage_measured,
        {{ bool_or("has_gpu_pct") }} as is_gpu
    from daily_metrics
    group by provider, resource_id
),

final as (
    select
        d.provider,
        d.resource_id,
        d.usage_date,
        {{ month_start('d.usage_date') }} as usage_month,
        d.day_cost,
        m.gpu_pct,
        m.invocations,
        m.active_minutes,
        m.read_requests,
        k.is_endpoint,
        k.is_notebook,
        k.is_storage_measured,
        k.is_gpu,
        a.has_owner_tag,
        a.workload,
        a.service_category
    from resource_days as d
    inner join metric_kinds as k
        on
            d.provider = k.provider
            and d.resource_id = k.resource_id
    inner join attributes as a
        on
            d.provider = a.provider
            and d.resource_id = a.resource_id
    left join daily_metrics as m
        on
            d.provider = m.provider
            and d.resource_id = m.resource_id
            and d.usage_date = m.metric_date
    where d.day_cost > 0
)

select * from final
