{#- Idle and underused ML resources, priced (docs/waste.md). One row per provider, resource,
    waste type and month of an idle period: the union of the detectors in
    models/intermediate/waste (one model each), named, attributed, described and graded. -#}
with findings as (
    -- Every detector returns waste_finding_columns() (macros/waste.sql).
    select {{ waste_finding_columns() | join(', ') }}
    from {{ ref('int_waste__idle_endpoints') }}
    union all
    select {{ waste_finding_columns() | join(', ') }}
    from {{ ref('int_waste__idle_notebooks') }}
    union all
    select {{ waste_finding_columns() | join(', ') }}
    from {{ ref('int_waste__orphaned_storage') }}
    union all
    select {{ waste_finding_columns() | join(', ') }}
    from {{ ref('int_waste__low_gpu_utilization') }}
    union all
    select {{ waste_finding_columns() | join(', ') }}
    from {{ ref('int_waste__unused_commitments') }}
),

resource_attributes as (
    select * from {{ ref('int_waste__resource_attributes') }}
),

commitment_attributes as (
    select * from {{ ref('int_waste__commitment_attributes') }}
),

params as (
    select
        {{ waste_param('all', 'high_severity_min_cost') }} as high_min_cost,
        {{ waste_param('all', 'medium_severity_min_cost') }} as medium_min_cost
    from {{ ref('waste_thresholds') }}
),

described as (
    select
        f.*,
        coalesce(a.team, c.team, 'unallocated') as team,
        coalesce(a.ml_model, 'none') as ml_model,
        coalesce(a.workload, 'shared') as workload,
        case
            when a.is_name_shared then f.resource_id
            else coalesce(a.resource_name, c.resource_name, f.resource_id)
        end as resource_name,
        coalesce(a.billing_currency, c.billing_currency) as billing_currency,
        case f.waste_type
            when 'idle_endpoint' then 'max_daily_invocations'
            when 'idle_notebook' then 'max_daily_active_minutes'
            when 'orphaned_storage' then 'max_daily_read_requests'
            when 'low_gpu_utilization' then 'mean_gpu_utilization_pct'
            when 'unused_commitment' then 'unused_share'
        end as evidence_metric,
        cast(f.run_start as {{ dbt.type_string() }}) || ' to '
        || cast(f.run_end as {{ dbt.type_string() }}) as run_text
    from findings as f
    left join resource_attributes as a
        on
            f.provider = a.provider
            and f.resource_id = a.resource_id
    left join commitment_attributes as c
        on
            f.provider = c.provider
            and f.resource_id = c.resource_id
),

final as (
    select
        {{ md5_hex("d.provider || '|' || d.resource_id || '|' || d.waste_type || '|' || cast(d.period_start as " ~ dbt.type_string() ~ ")") }}
            as waste_id,
        d.provider,
        d.resource_id,
        d.resource_name,
        d.team,
        d.ml_model,
        d.workload,
        d.waste_type,
        d.usage_month as billing_month,
        d.period_start,
        d.period_end,
        cast(d.idle_days as integer) as idle_days,
        d.run_start as idle_run_start,
        d.run_end as idle_run_end,
        cast(d.run_days as integer) as idle_run_days,
        d.billing_currency,
        cast(d.wasted_cost as {{ money_type() }}) as wasted_cost,
        d.evidence_metric,
        {{ to_decimal('round(d.evidence_metric_value, 4)', 18, 4) }} as evidence_value,
        case d.waste_type
            when 'idle_endpoint'
                then
                    'at most ' || cast(cast(d.evidence_metric_value as bigint) as {{ dbt.type_string() }})
                    || ' invocations/day on ' || cast(d.idle_days as {{ dbt.type_string() }})
                    || ' billed days; idle run ' || d.run_text
            when 'idle_notebook'
                then
                    'at most ' || cast(cast(d.evidence_metric_value as bigint) as {{ dbt.type_string() }})
                    || ' active minutes/day on ' || cast(d.idle_days as {{ dbt.type_string() }})
                    || ' billed days; idle run ' || d.run_text
            when 'orphaned_storage'
                then
                    'no team or owner tag; at most '
                    || cast(cast(d.evidence_metric_value as bigint) as {{ dbt.type_string() }})
                    || ' reads/day on ' || cast(d.idle_days as {{ dbt.type_string() }})
                    || ' billed days; unread since ' || cast(d.run_start as {{ dbt.type_string() }})
            when 'low_gpu_utilization'
                then
                    'mean GPU utilisation '
                    || cast(round(d.evidence_metric_value, 1) as {{ dbt.type_string() }})
                    || '% over ' || cast(d.idle_days as {{ dbt.type_string() }})
                    || ' billed GPU days in the month'
            when 'unused_commitment' then
                cast(round(100 * d.evidence_metric_value, 1) as {{ dbt.type_string() }})
                || '% of the commitment unused in the month'
        end as evidence,
        case d.waste_type
            when 'idle_endpoint'
                then
                    'Delete endpoint ' || d.resource_name
                    || ' or scale it to zero; 0 invocations for '
                    || cast(d.run_days as {{ dbt.type_string() }}) || ' days (' || d.run_text || ').'
            when 'idle_notebook'
                then
                    'Stop notebook ' || d.resource_name
                    || ' and turn on idle auto-shutdown; no activity for '
                    || cast(d.run_days as {{ dbt.type_string() }}) || ' days (' || d.run_text || ').'
            when 'orphaned_storage'
                then
                    'Find an owner for ' || d.resource_name
                    || ' (no team or owner tag, no reads for '
                    || cast(d.run_days as {{ dbt.type_string() }})
                    || ' days), then tag it or move it to an archive tier or delete it.'
            when 'low_gpu_utilization'
                then
                    'Right-size ' || d.resource_name
                    || ' to a smaller GPU or a CPU instance, or stop it when unused; mean GPU '
                    || cast(round(d.evidence_metric_value, 1) as {{ dbt.type_string() }})
                    || '% on ' || cast(d.idle_days as {{ dbt.type_string() }}) || ' days in '
                    || cast(d.usage_month as {{ dbt.type_string() }}) || '.'
            when 'unused_commitment' then
                'Commitment ' || d.resource_name || ' was '
                || cast(round(100 * d.evidence_metric_value, 1) as {{ dbt.type_string() }})
                || '% unused in the month of ' || cast(d.usage_month as {{ dbt.type_string() }})
                || '; move eligible usage onto it, or exchange or shrink it at renewal.'
        end as recommended_action,
        case
            when d.wasted_cost >= p.high_min_cost then 'high'
            when d.wasted_cost >= p.medium_min_cost then 'medium'
            else 'low'
        end as severity
    from described as d
    cross join params as p
)

select * from final
