{#- Detector orphaned_storage (docs/waste.md): storage nobody tagged as theirs (no team or
    owner tag) read at most max_daily_read_requests times on a billed day, for at least
    min_idle_days consecutive days; one row per month of a run. Missing telemetry on a day is
    unknown, not idle: the metric must be present. -#}
with days as (
    select * from {{ ref('int_waste__resource_days') }}
),

idle_days as (
    select
        days.*,
        'orphaned_storage' as waste_type,
        days.read_requests as evidence_metric_value
    from days
    where
        days.is_storage_measured
        and not days.has_owner_tag
        and (days.workload = 'storage' or days.service_category = 'Storage')
        and days.read_requests <= {{ waste_threshold('orphaned_storage', 'max_daily_read_requests', 'days.workload') }}
),

{{ idle_run_pieces('orphaned_storage') }}

select * from final
