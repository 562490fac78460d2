{#- Unit costs per month x team x ML model x workload x unit (contract 5 of issue #15), with the
    numerator (cost) and the denominator (units) beside the ratio and where each comes from.
    A unit without an honest denominator is a row with is_available false and the reason,
    never a division by zero or a silent zero. Formulas: docs/unit-economics.md. -#}
with costs as (
    select * from {{ ref('fct_costs_monthly') }}
),

runs as (
    select * from {{ ref('fct_training_run_costs') }}
),

compute_hours as (
    select * from {{ ref('int_compute_hours_classified') }}
),

inference_units as (
    select * from {{ ref('int_inference_units_joined') }}
),

-- The latest MLflow load attempt decides whether runs can be trusted as the denominator.
mlflow_status as (
    select
        status,
        reason
    from {{ source('meta', 'mlflow_sync_status') }}
    order by loaded_at desc
    limit 1
),

workload_costs as (
    select
        billing_month,
        team,
        ml_model,
        workload,
        billing_currency,
        sum(effective_cost) as cost
    from costs
    where workload in ('training', 'realtime_inference', 'batch_inference', 'storage')
    group by billing_month, team, ml_model, workload, billing_currency
),

-- training_run: matched run cost / matched runs; months with training cost but no runs stay
-- visible as unavailable.
run_groups as (
    select
        billing_month,
        coalesce(team, 'unallocated') as team,
        coalesce(ml_model, 'none') as ml_model,
        billing_currency,
        count(*) as runs,
        sum(cost) as cost
    from runs
    where match_method <> 'unmatched' and billing_month is not null
    group by
        billing_month, coalesce(team, 'unallocated'), coalesce(ml_model, 'none'),
        billing_currency
),

training_keys as (
    select
        billing_month,
        team,
        ml_model,
        billing_currency
    from run_groups
    union distinct
    select
        billing_month,
        team,
        ml_model,
        billing_currency
    from workload_costs
    where workload = 'training' and ml_model <> 'none'
),

training_run as (
    select
        k.billing_month,
        k.team,
        k.ml_model,
        'training' as workload,
        'training_run' as unit,
        '' as unit_detail,
        {{ to_decimal('r.runs', 38, 24) }} as units,
        coalesce(r.cost, w.cost) as cost,
        k.billing_currency,
        case
            when s.status is null
                then 'no MLflow tracking store has been loaded (MLCOST_MLFLOW_URI / mlflow_uri), so there are no runs to divide by'
            when s.status <> 'ok'
                then 'MLflow runs unavailable (' || s.status || '): ' || coalesce(s.reason, 'no reason recorded')
            when r.runs is null
                then 'no MLflow run of this model in this month has cost matched to it; the training cost shown is not attributed to runs (see marts.rpt_unmatched_training_cost)'
        end as unavailable_reason,
        case
            when r.runs is not null
                then 'marts.fct_training_run_costs: cost matched to the runs (EffectiveCost)'
            else 'marts.fct_costs_monthly: training workload effective_cost'
        end as cost_source,
        'marts.fct_training_run_costs: MLflow runs with matched cost (match_method <> unmatched)'
            as units_source
    from training_keys as k
    left join run_groups as r
        on
            k.billing_month = r.billing_month and k.team = r.team
            and k.ml_model = r.ml_model and k.billing_currency = r.billing_currency
    left join workload_costs as w
        on
            w.workload = 'training' and k.billing_month = w.billing_month
            and k.team = w.team and k.ml_model = w.ml_model
            and k.billing_currency = w.billing_currency
    left join mlflow_status as s on true
),

inference as (
    select
        w.billing_month,
        w.team,
        w.ml_model,
        w.workload,
        '1k_inferences' as unit,
        '' as unit_detail,
        -- x 0.001, not / 1000: a decimal product stays exact (a quotient would be a double).
        {{ to_decimal('u.metric_value * 0.001', 38, 24) }} as units,
        w.cost,
        w.billing_currency,
        case
            when u.serving_resources is null or u.serving_resources = u.resources_counted_elsewhere
                then
                    'no serving resource (a resource id with compute-hour usage) in this cost, so no `'
                    || case w.workload when 'realtime_inference' then 'invocations' else 'batch_records' end
                    || '` metric can be joined'
            when u.metered_resources < u.serving_resources - u.resources_counted_elsewhere
                then
                    'metric `' || u.metric_name || '` missing for '
                    || cast(u.serving_resources - u.resources_counted_elsewhere - u.metered_resources as {{ dbt.type_string() }})
                    || ' of ' || cast(u.serving_resources - u.resources_counted_elsewhere as {{ dbt.type_string() }})
                    || ' serving resources in this month: ' || u.unmetered_resource_ids
                    || case
                        when u.serving_resources - u.resources_counted_elsewhere - u.metered_resources > 3
                            then
                                ' and '
                                || cast(
                                    u.serving_resources - u.resources_counted_elsewhere - u.metered_resources - 3
                                    as {{ dbt.type_string() }}
                                )
                                || ' more'
                        else ''
                    end
            when u.metric_value <= 0
                then
                    'metric `' || u.metric_name || '` is 0 for every serving resource in this month: cost with no '
                    || case w.workload when 'realtime_inference' then 'requests' else 'records scored' end
        end as unavailable_reason,
        'marts.fct_costs_monthly: ' || w.workload || ' workload effective_cost' as cost_source,
        'stg_mlcost__utilization_metrics: sum of `'
        || case w.workload when 'realtime_inference' then 'invocations' else 'batch_records' end
        || '` over the serving resources / 1000' as units_source
    from workload_costs as w
    left join inference_units as u
        on
            w.billing_month = u.billing_month and w.team = u.team
            and w.ml_model = u.ml_model and w.workload = u.workload
    where w.workload in ('realtime_inference', 'batch_inference')
),

gpu_hour as (
    select
        billing_month,
        team,
        ml_model,
        workload,
        'gpu_hour' as unit,
        gpu_type as unit_detail,
        sum(gpu_hours) as units,
        sum(effective_cost) as cost,
        billing_currency,
        case when sum(gpu_hours) <= 0 then 'no GPU-hours recorded for this GPU type in this month' end
            as unavailable_reason,
        'int_compute_hours_classified: EffectiveCost of the GPU instances (GCP: VM or GPU SKU)'
            as cost_source,
        'int_compute_hours_classified: instance-hours x GPUs per instance (GCP: GPU SKU hours)'
            as units_source
    from compute_hours
    where gpu_type is not null
    group by billing_month, team, ml_model, workload, gpu_type, billing_currency
),

-- Stored capacity in TB-months (1 TB = 10^12 bytes), converted exactly from the unit billed.
storage_quantities as (
    select
        billing_month,
        team,
        ml_model,
        billing_currency,
        sum({{ tb_months('pricing_quantity', 'pricing_unit', 'billing_month', 'provider') }}) as tb_months,
        string_agg(distinct pricing_unit, ', ' order by pricing_unit) as pricing_units
    from costs
    where workload = 'storage'
    group by billing_month, team, ml_model, billing_currency
),

tb_month as (
    select
        w.billing_month,
        w.team,
        w.ml_model,
        w.workload,
        'tb_month' as unit,
        '' as unit_detail,
        q.tb_months as units,
        w.cost,
        w.billing_currency,
        case
            when coalesce(q.tb_months, 0) <= 0
                then
                    'no stored capacity (GB/GiB/TB/TiB-months, -hours or byte-seconds) in this storage cost; pricing units seen: '
                    || coalesce(q.pricing_units, 'none')
        end as unavailable_reason,
        'marts.fct_costs_monthly: storage workload effective_cost' as cost_source,
        'marts.fct_costs_monthly: storage pricing_quantity in capacity units, converted to TB-months'
            as units_source
    from workload_costs as w
    left join storage_quantities as q
        on
            w.billing_month = q.billing_month and w.team = q.team
            and w.ml_model = q.ml_model and w.billing_currency = q.billing_currency
    where w.workload = 'storage'
),

unioned as (
    select * from training_run
    union all
    select * from inference
    union all
    select * from gpu_hour
    union all
    select * from tb_month
),

final as (
    -- Published columns first (`mlcost export unit_costs`), then the rest.
    select
        billing_month as month,
        team,
        ml_model,
        workload,
        unit,
        units,
        {{ money('cost') }} as cost,
        case when unavailable_reason is null then {{ unit_ratio('cost', 'units') }} end
            as cost_per_unit,
        unit_detail,
        billing_currency,
        unavailable_reason is null as is_available,
        unavailable_reason,
        cost_source,
        units_source,
        {{ md5_hex(grain_text(['billing_month', 'team', 'ml_model', 'workload', 'unit',
            'unit_detail', 'billing_currency'])) }} as unit_cost_id
    from unioned
)

select * from final
