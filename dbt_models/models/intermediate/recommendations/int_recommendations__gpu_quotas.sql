{#- GPU quotas per team (docs/recommendations.md): the seed gpu_quotas (team, GPU type, quota
    in GPUs) against the observed peak of concurrent GPUs, measured as the highest monthly mean
    over the last gpu_quota_window_months months of marts.fct_unit_costs: the month's GPU-hours
    of the team and GPU type (unit gpu_hour) / (24 x the days of the month). Monthly GPU-hours
    give a mean, not an instantaneous peak, so short bursts above it are not seen.
    Over quota: raise the quota or cap the usage; below gpu_quota_release_below_share of it:
    release the unused part. A quota costs nothing by itself, so the saving is 0.
    Teams without a quota row get no row. -#}
-- depends_on: {{ ref('recommendation_parameters') }}
-- depends_on: {{ ref('gpu_quotas') }}
{%- set unit_costs = ref('fct_unit_costs') %}
with quotas as (
    {{ reference_rows('gpu_quotas') }}
),

gpu_hours as (
    select
        month,
        team,
        unit_detail as gpu_type,
        sum(units) as gpu_hours
    from {{ unit_costs }}
    where unit = 'gpu_hour' and units is not null
    group by month, team, unit_detail
),

params as (
    select
        {{ recommendation_param('gpu_quota_window_months') }} as window_months,
        {{ recommendation_param('gpu_quota_release_below_share') }} as release_share
),

last_month as (
    select max(month) as last_month from gpu_hours
),

monthly as (
    select
        g.team,
        g.gpu_type,
        g.month,
        g.gpu_hours / (24 * ({{ days_between('cast(' ~ add_months('g.month', 1) ~ ' as date)', 'g.month') }})) as mean_gpus
    from gpu_hours as g
    cross join last_month as l
    cross join params as p
    where g.month > {{ add_months('l.last_month', '(-1 * cast(p.window_months as integer))') }}
),

peaks as (
    select
        team,
        gpu_type,
        max(mean_gpus) as peak_gpus,
        {{ arg_max('month', 'mean_gpus') }} as peak_month
    from monthly
    group by team, gpu_type
),

compared as (
    select
        q.team,
        q.gpu_type,
        q.quota_gpus,
        coalesce(k.peak_gpus, 0) as peak_gpus,
        k.peak_month,
        l.last_month,
        case
            when coalesce(k.peak_gpus, 0) > q.quota_gpus then 'over'
            when coalesce(k.peak_gpus, 0) < p.release_share * q.quota_gpus then 'under'
        end as verdict
    from quotas as q
    cross join params as p
    cross join last_month as l
    left join peaks as k
        on
            q.team = k.team
            and q.gpu_type = k.gpu_type
),

final as (
    select
        {{ recommendation_id("'gpu_quota'", "'*'", "team || '|' || gpu_type") }} as recommendation_id,
        'gpu_quota' as recommendation_type,
        '*' as provider,
        team,
        '*' as ml_model,
        gpu_type as resource_id,
        'team_gpu_type' as scope,
        case verdict
            when 'over'
                then
                    'Raise the ' || gpu_type || ' GPU quota of ' || team || ' to at least '
                    || cast(cast(ceil(peak_gpus) as integer) as {{ dbt.type_string() }})
                    || ' GPUs, or cap its usage at the quota of '
                    || cast(quota_gpus as {{ dbt.type_string() }}) || '.'
            else
                'Release ' || cast(cast(floor(quota_gpus - ceil(peak_gpus)) as integer) as {{ dbt.type_string() }})
                || ' of the ' || cast(quota_gpus as {{ dbt.type_string() }}) || ' ' || gpu_type
                || ' GPUs of the quota of ' || team || '.'
        end as action,
        team as owner,
        'peak concurrent ' || gpu_type || ' GPUs (highest monthly mean, GPU-hours / 24 / days) '
        || cast(round(peak_gpus, 2) as {{ dbt.type_string() }})
        || coalesce(' in ' || cast(peak_month as {{ dbt.type_string() }}), ' (no use)')
        || ' against a quota of ' || cast(quota_gpus as {{ dbt.type_string() }}) as evidence,
        {{ money('0') }} as estimated_monthly_saving,
        'none: a quota costs nothing by itself; it bounds what the team can spend' as saving_basis,
        cast(null as {{ dbt.type_string() }}) as billing_currency,
        last_month as source_month,
        coalesce(peak_month, last_month) as period_start,
        {{ date_minus_days('cast(' ~ add_months('last_month', 1) ~ ' as date)', 1) }} as period_end
    from compared
    where verdict is not null
)

select * from final
