{#- The biggest unattributed cost: per billing month, provider, account and resource, the
    effective cost left on the fallback team `unallocated`, ranked within the month and
    provider (rank 1 = largest). What to tag first; the coverage check names the top ones. -#}
with allocations as (
    select * from {{ ref('fct_cost_allocations') }}
    where team = 'unallocated'
),

by_resource as (
    select
        billing_month,
        provider,
        billing_currency,
        billing_account_id,
        sub_account_id,
        -- Rows without a resource (fees, adjustments) are grouped by service.
        coalesce(resource_id, '(no resource: ' || coalesce(service_name, 'unknown service') || ')')
            as resource_key,
        resource_id,
        max(resource_name) as resource_name,
        max(service_name) as service_name,
        count(*) as allocation_count,
        sum(effective_cost) as unattributed_cost
    from allocations
    group by
        billing_month, provider, billing_currency, billing_account_id, sub_account_id,
        coalesce(resource_id, '(no resource: ' || coalesce(service_name, 'unknown service') || ')'),
        resource_id
),

final as (
    select
        {{ md5_hex("concat(cast(billing_month as " ~ dbt.type_string() ~ "), '|', provider, '|', billing_currency, '|', coalesce(billing_account_id, '~'), '|', coalesce(sub_account_id, '~'), '|', resource_key)") }}
            as unattributed_resource_id,
        billing_month,
        provider,
        billing_currency,
        billing_account_id,
        sub_account_id,
        resource_key,
        resource_id,
        resource_name,
        service_name,
        allocation_count,
        cast(unattributed_cost as {{ money_type() }}) as unattributed_cost,
        row_number() over (
            partition by billing_month, provider, billing_currency
            order by unattributed_cost desc, resource_key asc
        ) as cost_rank
    from by_resource
)

select * from final
