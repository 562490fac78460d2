{#- Idle and underused ML resources, priced (docs/waste.md). One row per provider, resource,
    waste type and month of an idle period: runs of consecutive idle days are found over the
    whole history, then cut at month boundaries so monthly reporting adds up.
    Resource-day cost is the effective cost of the resource's Usage rows (promotional credits
    and unused-commitment rows excluded); a day is "billed" when that cost is positive. -#}
with allocations as (
    select * from {{ ref('fct_cost_allocations') }}
),

metrics as (
    select * from {{ ref('stg_mlcost__utilization_metrics') }}
),

thresholds as (
    select * from {{ ref('waste_thresholds') }}
),

params as (
    select
        max(case when parameter = 'max_daily_invocations' then value end) as endpoint_max_invocations,
        max(case when waste_type = 'idle_endpoint' and parameter = 'min_idle_days' then value end)
            as endpoint_min_days,
        max(case when parameter = 'max_daily_active_minutes' then value end)
            as notebook_max_active_minutes,
        max(case when waste_type = 'idle_notebook' and parameter = 'min_idle_days' then value end)
            as notebook_min_days,
        max(case when parameter = 'max_mean_gpu_pct' then value end) as gpu_max_mean_pct,
        max(case when parameter = 'min_billed_days' then value end) as gpu_min_billed_days,
        max(case when parameter = 'min_unused_share' then value end) as commitment_min_unused_share,
        max(case when parameter = 'max_daily_read_requests' then value end) as storage_max_reads,
        max(case when waste_type = 'orphaned_storage' and parameter = 'min_idle_days' then value end)
            as storage_min_days,
        max(case when parameter = 'high_severity_min_cost' then value end) as high_min_cost,
        max(case when parameter = 'medium_severity_min_cost' then value end) as medium_min_cost
    from thresholds
),

resource_rows as (
    select *
    from allocations
    where
        resource_id is not null
        and charge_category = 'Usage'
        and commitment_discount_status is distinct from 'Unused'
),

resource_attributes as (
    -- The team / model / workload carrying most of the resource's cost, and whether anyone
    -- tagged it as theirs.
    select
        provider,
        resource_id,
        {{ arg_max("team", "effective_cost") }} as team,
        {{ arg_max("ml_model", "effective_cost") }} as ml_model,
        {{ arg_max("workload", "effective_cost") }} as workload,
        {{ arg_max("service_category", "effective_cost") }} as service_category,
        coalesce(max(resource_name), resource_id) as resource_name,
        {{ bool_or("has_owner_tag") }} as has_owner_tag,
        min(billing_currency) as billing_currency
    from resource_rows
    group by provider, resource_id
),

ambiguous_names as (
    -- Names shared by several resources (every SageMaker Studio app is "default") cannot
    -- identify the resource in a recommendation: those resources are named by their id.
    select
        provider,
        resource_name
    from resource_attributes
    group by provider, resource_name
    having count(*) > 1
),

resource_days as (
    select
        provider,
        resource_id,
        charge_date as usage_date,
        sum(effective_cost) as day_cost
    from resource_rows
    group by provider, resource_id, charge_date
),

daily_metrics as (
    select
        provider,
        resource_id,
        metric_date,
        max(case when metric_name = 'gpu_utilization_pct' then metric_value end) as gpu_pct,
        max(case when metric_name = 'invocations' then metric_value end) as invocations,
        max(case when metric_name = 'active_minutes' then metric_value end) as active_minutes,
        max(case when metric_name = 'read_requests' then metric_value end) as read_requests
    from metrics
    group by provider, resource_id, metric_date
),

metric_kinds as (
    -- What a resource is measured by tells what it is: endpoints report invocations,
    -- notebooks activity, storage reads.
    select
        provider,
        resource_id,
        {{ bool_or("metric_name = 'invocations'") }} as is_endpoint,
        {{ bool_or("metric_name = 'active_minutes'") }} as is_notebook,
        {{ bool_or("metric_name = 'read_requests'") }} as is_storage_measured,
        {{ bool_or("metric_name = 'gpu_utilization_pct'") }} as is_gpu
    from metrics
    group by provider, resource_id
),

days as (
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
    inner join resource_attributes as a
        on
            d.provider = a.provider
            and d.resource_id = a.resource_id
    left join daily_metrics as m
        on
            d.provider = m.provider
            and d.resource_id = m.resource_id
            and d.usage_date = m.metric_date
    where d.day_cost > 0
),

idle_days as (
    -- Missing telemetry on a day is unknown, not idle: each rule needs the metric present.
    select
        days.*,
        'idle_endpoint' as waste_type,
        days.invocations as evidence_metric_value
    from days cross join params
    where days.is_endpoint and days.invocations <= params.endpoint_max_invocations

    union all

    select
        days.*,
        'idle_notebook' as waste_type,
        days.active_minutes as evidence_metric_value
    from days cross join params
    where
        days.is_notebook and not days.is_endpoint
        and days.active_minutes <= params.notebook_max_active_minutes

    union all

    select
        days.*,
        'orphaned_storage' as waste_type,
        days.read_requests as evidence_metric_value
    from days cross join params
    where
        days.is_storage_measured
        and not days.has_owner_tag
        and (days.workload = 'storage' or days.service_category = 'Storage')
        and days.read_requests <= params.storage_max_reads
),

islands as (
    select
        *,
        -- Consecutive days share one key (gaps-and-islands).
        {{ date_minus_days('usage_date', 'cast(row_number() over (partition by provider, resource_id, waste_type order by usage_date) as integer)') }}
            as island_key
    from idle_days
),

runs as (
    select
        provider,
        resource_id,
        waste_type,
        island_key,
        min(usage_date) as run_start,
        max(usage_date) as run_end,
        count(*) as run_days
    from islands
    group by provider, resource_id, waste_type, island_key
),

long_runs as (
    select runs.*
    from runs cross join params
    where
        (runs.waste_type = 'idle_endpoint' and runs.run_days >= params.endpoint_min_days)
        or (runs.waste_type = 'idle_notebook' and runs.run_days >= params.notebook_min_days)
        or (runs.waste_type = 'orphaned_storage' and runs.run_days >= params.storage_min_days)
),

run_pieces as (
    select
        i.provider,
        i.resource_id,
        i.waste_type,
        i.usage_month,
        r.run_start,
        r.run_end,
        r.run_days,
        min(i.usage_date) as period_start,
        max(i.usage_date) as period_end,
        count(*) as idle_days,
        sum(i.day_cost) as wasted_cost,
        max(i.evidence_metric_value) as evidence_metric_value
    from islands as i
    inner join long_runs as r
        on
            i.provider = r.provider
            and i.resource_id = r.resource_id
            and i.waste_type = r.waste_type
            and i.island_key = r.island_key
    group by
        i.provider, i.resource_id, i.waste_type, i.usage_month, r.run_start, r.run_end,
        r.run_days
),

idle_run_days as (
    -- Days already reported as idle are not judged again for GPU utilisation.
    select distinct
        i.provider,
        i.resource_id,
        i.usage_date
    from islands as i
    inner join long_runs as r
        on
            i.provider = r.provider
            and i.resource_id = r.resource_id
            and i.waste_type = r.waste_type
            and i.island_key = r.island_key
    where i.waste_type in ('idle_endpoint', 'idle_notebook')
),

gpu_days as (
    select days.*
    from days
    left join idle_run_days as x
        on
            days.provider = x.provider
            and days.resource_id = x.resource_id
            and days.usage_date = x.usage_date
    where
        days.is_gpu
        and days.gpu_pct is not null
        and x.usage_date is null
),

gpu_months as (
    -- Judged on the month's mean: single quiet days on a busy GPU are not waste.
    select
        provider,
        resource_id,
        usage_month,
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

low_gpu as (
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
    cross join params
    where
        g.idle_days >= params.gpu_min_billed_days
        and g.evidence_metric_value < params.gpu_max_mean_pct
),

commitment_rows as (
    select *
    from allocations
    where
        commitment_discount_id is not null
        or (charge_category = 'Purchase' and resource_id is not null)
),

unused_rows as (
    -- FOCUS carries unused commitment as Usage rows with CommitmentDiscountStatus = 'Unused'.
    select
        provider,
        commitment_discount_id as resource_id,
        billing_month as usage_month,
        min(cast(charge_period_start as date)) as period_start,
        max({{ date_minus_days('cast(charge_period_end as date)', 1) }}) as period_end,
        sum(effective_cost) as wasted_cost
    from commitment_rows
    where commitment_discount_status = 'Unused'
    group by provider, commitment_discount_id, billing_month
),

commitment_totals as (
    select
        provider,
        commitment_discount_id as resource_id,
        billing_month as usage_month,
        sum(effective_cost) as commitment_cost
    from commitment_rows
    where commitment_discount_status in ('Used', 'Unused')
    group by provider, commitment_discount_id, billing_month
),

unused_from_status as (
    select
        u.provider,
        u.resource_id,
        u.usage_month,
        u.period_start,
        u.period_end,
        u.wasted_cost,
        cast(u.wasted_cost / nullif(t.commitment_cost, 0) as {{ float_type() }}) as unused_share
    from unused_rows as u
    inner join commitment_totals as t
        on
            u.provider = t.provider
            and u.resource_id = t.resource_id
            and u.usage_month = t.usage_month
),

unamortized_fees as (
    -- Some mappings keep a commitment fee as a Purchase with its cost (GCP resource-based
    -- CUDs) and no Unused rows. The fee's resource names the commitment; the covered usage
    -- names it at the end of CommitmentDiscountId. Unused share = 1 - covered / committed.
    select
        provider,
        resource_id,
        billing_month as usage_month,
        {{ regex_extract('resource_id', '[^/:]+$') }} as commitment_name,
        pricing_unit,
        min(cast(charge_period_start as date)) as period_start,
        max({{ date_minus_days('cast(charge_period_end as date)', 1) }}) as period_end,
        sum(effective_cost) as fee_cost,
        sum(pricing_quantity) as committed_quantity
    from commitment_rows
    where
        charge_category = 'Purchase'
        and commitment_discount_id is null
        and effective_cost <> 0
    group by provider, resource_id, billing_month, pricing_unit
),

covered_usage as (
    select
        provider,
        billing_month as usage_month,
        {{ regex_extract('commitment_discount_id', '[^/:]+$') }} as commitment_name,
        pricing_unit,
        sum(pricing_quantity) as covered_quantity
    from commitment_rows
    where commitment_discount_status = 'Used'
    group by
        provider, billing_month, {{ regex_extract('commitment_discount_id', '[^/:]+$') }},
        pricing_unit
),

unused_from_fees as (
    select
        f.provider,
        f.resource_id,
        f.usage_month,
        f.period_start,
        f.period_end,
        {{ money_mul('f.fee_cost', '' ~ to_decimal('1 - least(coalesce(c.covered_quantity, 0) / f.committed_quantity, 1)', 38, 10)) }}
            as wasted_cost,
        cast(1 - least(coalesce(c.covered_quantity, 0) / f.committed_quantity, 1) as {{ float_type() }})
            as unused_share
    from unamortized_fees as f
    left join covered_usage as c
        on
            f.provider = c.provider
            and f.usage_month = c.usage_month
            and f.commitment_name = c.commitment_name
            and f.pricing_unit is not distinct from c.pricing_unit
    where f.committed_quantity > 0
    -- A commitment never seen in use may be an unrelated purchase: not judged.
    and exists (
        select 1 from covered_usage as any_use
        where
            any_use.provider = f.provider
            and any_use.commitment_name = f.commitment_name
    )
),

unused_commitment as (
    select
        u.provider,
        u.resource_id,
        'unused_commitment' as waste_type,
        u.usage_month,
        u.period_start as run_start,
        u.period_end as run_end,
        {{ days_between('u.period_end', 'u.period_start') }} + 1 as run_days,
        u.period_start,
        u.period_end,
        {{ days_between('u.period_end', 'u.period_start') }} + 1 as idle_days,
        u.wasted_cost,
        u.unused_share as evidence_metric_value
    from (
        select * from unused_from_status
        union all
        select * from unused_from_fees
    ) as u
    cross join params
    where u.unused_share >= params.commitment_min_unused_share
),

commitment_attributes as (
    select
        provider,
        coalesce(commitment_discount_id, resource_id) as resource_id,
        {{ arg_max("coalesce(account_team, team)", "abs(effective_cost) + abs(billed_cost)") }} as team,
        coalesce(max(resource_name), max(commitment_discount_id)) as resource_name,
        min(billing_currency) as billing_currency
    from commitment_rows
    where commitment_discount_status = 'Unused' or charge_category = 'Purchase'
    group by provider, coalesce(commitment_discount_id, resource_id)
),

findings as (
    -- The three have the same columns in the same order (positional union).
    select * from run_pieces
    union all
    select * from low_gpu
    union all
    select * from unused_commitment
),

described as (
    select
        f.*,
        coalesce(a.team, c.team, 'unallocated') as team,
        coalesce(a.ml_model, 'none') as ml_model,
        coalesce(a.workload, 'shared') as workload,
        case
            when n.resource_name is not null then f.resource_id
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
    left join ambiguous_names as n
        on
            a.provider = n.provider
            and a.resource_name = n.resource_name
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
