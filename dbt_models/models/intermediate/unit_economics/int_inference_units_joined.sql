{#- The denominators of the 1k_inferences unit cost: per month, team, ML model and inference
    workload, the requests (`invocations`, real-time) or records scored (`batch_records`,
    batch) that the metrics report for the model's serving resources, and which serving
    resources have no such metric. A serving resource is a resource id with compute-hour usage
    in the workload's cost; each resource-month counts for the one team/model/workload carrying
    most of its cost, so requests are never counted twice (docs/unit-economics.md). -#}
with allocations as {{ inline_cte() }} (
    select * from {{ ref('fct_cost_allocations') }}
),

metrics as (
    select * from {{ ref('stg_mlcost__utilization_metrics') }}
),

serving as (
    select
        billing_month,
        provider,
        resource_id,
        team,
        ml_model,
        workload,
        sum(effective_cost) as resource_cost
    from allocations
    where
        workload in ('realtime_inference', 'batch_inference')
        and resource_id is not null
        and charge_category = 'Usage'
        -- An unused reservation's hours are a commitment, not a server.
        and coalesce(commitment_discount_status, '') <> 'Unused'
        and lower(pricing_unit) like '%hour%'
    group by billing_month, provider, resource_id, team, ml_model, workload
),

owned as (
    select
        *,
        case workload
            when 'realtime_inference' then 'invocations' else 'batch_records'
        end as metric_name,
        row_number() over (
            partition by billing_month, provider, resource_id
            order by resource_cost desc, team asc, ml_model asc, workload asc
        ) as owner_rank
    from serving
),

resource_metrics as (
    select
        cast({{ dbt.date_trunc('month', 'metric_date') }} as date) as metric_month,
        provider,
        lower(resource_id) as resource_key,
        metric_name,
        sum(metric_value) as metric_value
    from metrics
    where metric_name in ('invocations', 'batch_records')
    group by
        cast({{ dbt.date_trunc('month', 'metric_date') }} as date), provider, lower(resource_id),
        metric_name
),

joined as (
    select
        o.billing_month,
        o.team,
        o.ml_model,
        o.workload,
        o.metric_name,
        o.resource_id,
        o.owner_rank,
        m.metric_value,
        -- The first few unmetered resources are named in the reason; the rest are counted.
        row_number() over (
            partition by
                o.billing_month, o.team, o.ml_model, o.workload,
                o.owner_rank = 1 and m.metric_value is null
            order by o.resource_id
        ) as resource_rank
    from owned as o
    left join resource_metrics as m
        on
            o.owner_rank = 1
            and m.metric_month = o.billing_month
            and m.provider = o.provider
            and m.resource_key = lower(o.resource_id)
            and m.metric_name = o.metric_name
),

final as (
    select
        billing_month,
        team,
        ml_model,
        workload,
        max(metric_name) as metric_name,
        count(*) as serving_resources,
        sum(case when metric_value is not null then 1 else 0 end) as metered_resources,
        sum(case when owner_rank > 1 then 1 else 0 end) as resources_counted_elsewhere,
        sum(metric_value) as metric_value,
        string_agg(
            case
                when metric_value is null and owner_rank = 1 and resource_rank <= 3
                    then resource_id
            end, ', '
            order by resource_id
        ) as unmetered_resource_ids
    from joined
    group by billing_month, team, ml_model, workload
)

select * from final
