{#- Detector idle_notebook (docs/waste.md): notebooks (resources reporting active minutes,
    not endpoints) with at most max_daily_active_minutes of activity on a billed day, for at
    least min_idle_days consecutive days; one row per month of a run. Missing telemetry on a
    day is unknown, not idle: the metric must be present. -#}
with days as (
    select * from {{ ref('int_waste__resource_days') }}
),

idle_days as (
    select
        days.*,
        'idle_notebook' as waste_type,
        days.active_minutes as evidence_metric_value
    from days
    where
        days.is_notebook and not days.is_endpoint
        and days.active_minutes <= {{ waste_threshold('idle_notebook', 'max_daily_active_minutes', 'days.workload') }}
),

{{ idle_run_pieces('idle_notebook') }}

select * from final
