{#- Detector low_gpu_utilization (docs/waste.md): GPU resources whose mean daily utilisation
    over a month's billed days is below max_mean_gpu_pct, judged on months with at least
    min_billed_days such days. Days already reported as an idle endpoint or notebook are not
    judged again. One row per month. -#}
with days as (
    select * from {{ ref('int_waste__resource_days') }}
),

idle_runs as (
    -- Run pieces cover consecutive days, so a day is in a reported idle run when it falls
    -- between a piece's first and last day.
    select
        provider,
        resource_id,
        period_start,
        period_end
    from {{ ref('int_waste__idle_endpoints') }}
    union all
    select
        provider,
        resource_id,
        period_start,
        period_end
    from {{ ref('int_waste__idle_notebooks') }}
),

gpu_days as (
    select days.*
    from days
    where
        days.is_gpu
        and days.gpu_pct is not null
        and not exists (
            select 1 from idle_runs as x
            where
                x.provider = days.provider
                and x.resource_id = days.resource_id
                and days.usage_date between x.period_start and x.period_end
        )
),

gpu_months as (
    -- Judged on the month's mean: single quiet days on a busy GPU are not waste.
    select
        provider,
        resource_id,
        usage_month,
        -- One workload per resource (int_waste__resource_attributes): picks its thresholds.
        max(workload) as workload,
        count(*) as idle_days,
        min(usage_date) as period_start,
        max(usage_date) as period_end,
        -- Priced as the unused share of each GPU day: cost x (100 - utilisation) / 100.
        sum({{ money_mul('day_cost', '' ~ to_decimal('(100 - least(gpu_pct, 100)) / 100', 38, 10)) }})
            as wasted_cost,
        avg(gpu_pct) as evidence_metric_value
    from gpu_days
    group by provider, resource_id, usage_month
),

final as (
    select
        g.provider,
        g.resource_id,
        'low_gpu_utilization' as waste_type,
        g.usage_month,
        g.period_start as run_start,
        g.period_end as run_end,
        g.idle_days as run_days,
        g.period_start,
        g.period_end,
        g.idle_days,
        g.wasted_cost,
        g.evidence_metric_value
    from gpu_months as g
    where
        g.idle_days >= {{ waste_threshold('low_gpu_utilization', 'min_billed_days', 'g.workload') }}
        and g.evidence_metric_value
        < {{ waste_threshold('low_gpu_utilization', 'max_mean_gpu_pct', 'g.workload') }}
)

select * from final
