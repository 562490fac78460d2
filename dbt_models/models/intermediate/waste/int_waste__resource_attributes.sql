{#- One row per priced resource: the team / model / workload carrying most of its cost, whether
    anyone tagged it as theirs, and whether its name is shared with another resource. Resource
    rows are Usage rows with a resource (promotional credits and unused-commitment rows
    excluded). -#}
with allocations as (
    select * from {{ ref('fct_cost_allocations') }}
),

resource_rows as (
    select *
    from allocations
    where {{ is_waste_resource_row() }}
),

resource_attributes as (
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

final as (
    select
        a.*,
        n.resource_name is not null as is_name_shared
    from resource_attributes as a
    left join ambiguous_names as n
        on
            a.provider = n.provider
            and a.resource_name = n.resource_name
)

select * from final
