{#- Detector idle_endpoint (docs/waste.md): endpoints (resources reporting invocations)
    serving at most max_daily_invocations requests on a billed day, for at least min_idle_days
    consecutive days; one row per month of a run. Missing telemetry on a day is unknown, not
    idle: the metric must be present. -#}
with days as (
    select * from {{ ref('int_waste__resource_days') }}
),

idle_days as (
    select
        days.*,
        'idle_endpoint' as waste_type,
        days.invocations as evidence_metric_value
    from days
    where
        days.is_endpoint and days.invocations <= {{ waste_threshold('idle_endpoint', 'max_daily_invocations', 'days.workload') }}
),

{{ idle_run_pieces('idle_endpoint') }}

select * from final
