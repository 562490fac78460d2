{#- Idle and underused ML resources, priced (docs/waste.md). One row per provider, resource,
    waste type and month of an idle period: the union of the detectors in
    models/intermediate/waste (one model each), named, attributed, described, graded, with
    the owner, the action and what acting would save per month from now on. -#}
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
        {{ waste_param('all', 'medium_severity_min_cost') }} as medium_min_cost,
        {{ waste_param('all', 'days_per_month') }} as days_per_month
    from {{ ref('waste_thresholds') }}
),

data_ends as (
    -- The last day each provider's billing covers: a finding still running there is current.
    select
        provider,
        max(charge_date) as data_end
    from {{ ref('fct_cost_allocations') }}
    group by provider
),

gpu_period_costs as (
    -- The full cost of a low-GPU finding's billed days (wasted_cost is only its unused part).
    select
        f.provider,
        f.resource_id,
        f.period_start,
        sum(r.day_cost) as period_cost,
        count(*) as period_days
    from findings as f
    inner join {{ ref('int_waste__resource_days') }} as r
        on
            f.provider = r.provider
            and f.resource_id = r.resource_id
            and r.usage_date between f.period_start and f.period_end
    where f.waste_type = 'low_gpu_utilization'
    group by f.provider, f.resource_id, f.period_start
),

current_findings as (
    -- Only the latest finding of a resource and waste type can save anything from now on, and
    -- only while it is still going at the end of the data (2 days' slack for export and
    -- telemetry lag): an endpoint idle in July and busy or deleted since saves nothing.
    select
        f.provider,
        f.resource_id,
        f.waste_type,
        f.period_start
    from findings as f
    inner join data_ends as e
        on f.provider = e.provider
    where
        f.period_end >= {{ date_minus_days('e.data_end', 2) }}
        and f.period_start = (
            select max(l.period_start) from findings as l
            where
                l.provider = f.provider
                and l.resource_id = f.resource_id
                and l.waste_type = f.waste_type
        )
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
        c_now.resource_id is not null as is_current,
        g.period_cost as gpu_period_cost,
        g.period_days as gpu_period_days,
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
    left join current_findings as c_now
        on
            f.provider = c_now.provider
            and f.resource_id = c_now.resource_id
            and f.waste_type = c_now.waste_type
            and f.period_start = c_now.period_start
    left join gpu_period_costs as g
        on
            f.provider = g.provider
            and f.resource_id = g.resource_id
            and f.period_start = g.period_start
),

saved as (
    -- estimated_monthly_saving (docs/waste.md): the daily run-rate of the waste x days per
    -- month; for low GPU use the right-sizing difference (the run-rate x (1 - mean GPU % /
    -- rightsized_gpu_pct)); 0 when the finding is not current.
    select
        d.*,
        case
            when not d.is_current then {{ money('0') }}
            when d.waste_type = 'low_gpu_utilization'
                then {{ money_mul('d.gpu_period_cost', '' ~ to_decimal(
                    'p.days_per_month / d.gpu_period_days * greatest(0, 1 - d.evidence_metric_value / '
                    ~ waste_threshold('low_gpu_utilization', 'rightsized_gpu_pct', 'd.workload') ~ ')', 38, 10)) }}
            else {{ money_mul('d.wasted_cost', '' ~ to_decimal('p.days_per_month / d.idle_days', 38, 10)) }}
        end as estimated_monthly_saving
    from described as d
    cross join params as p
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
        d.team as owner,
        case d.waste_type
            when 'idle_endpoint' then 'delete_or_scale_to_zero'
            when 'idle_notebook' then 'stop_and_enable_auto_shutdown'
            when 'orphaned_storage' then 'find_owner_then_archive_or_delete'
            when 'low_gpu_utilization' then 'rightsize'
            when 'unused_commitment' then 'move_usage_onto_or_shrink_at_renewal'
        end as action,
        -- An estimate: rounded to the cent.
        cast(round(d.estimated_monthly_saving, 2) as {{ money_type() }}) as estimated_monthly_saving,
        -- A commitment is paid until it expires: its unused share is saved only by moving
        -- usage onto it, or at renewal / exchange.
        d.waste_type <> 'unused_commitment' as is_saving_available_now,
        case
            when not d.is_current
                then 'none from now on: the waste stopped before the end of the data'
            when d.waste_type = 'unused_commitment'
                then 'unused share of the commitment per month; not saveable until the commitment expires or is exchanged, unless usage moves onto it'
            when d.waste_type = 'low_gpu_utilization'
                then 'right-sizing: daily cost x (1 - mean GPU % / rightsized_gpu_pct) x days_per_month'
            else 'daily cost while idle x days_per_month, saved by stopping or deleting it'
        end as saving_basis,
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
    from saved as d
    cross join params as p
)

select * from final
