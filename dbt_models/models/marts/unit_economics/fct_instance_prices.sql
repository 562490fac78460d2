{#- Observed compute prices per instance type (contract 4 of issue #15): what the what-if
    calculators and recommendations price with. hourly_price = cost / usage_hours, EffectiveCost
    (amortised, after commitment discounts). Formation rules: docs/unit-economics.md. -#}
with hours as (
    select * from {{ ref('int_compute_hours_classified') }}
),

aggregated as (
    select
        billing_month,
        provider,
        instance_type,
        gpu_type,
        gpus_per_instance,
        vcpus,
        pricing_category,
        price_basis,
        workload,
        billing_currency,
        sum(usage_hours) as usage_hours,
        sum(gpu_hours) as gpu_hours,
        sum(effective_cost) as cost,
        count(distinct resource_id) as resources
    from hours
    group by
        billing_month, provider, instance_type, gpu_type, gpus_per_instance, vcpus,
        pricing_category, price_basis, workload, billing_currency
),

final as (
    select
        {{ md5_hex(grain_text(['billing_month', 'provider', 'instance_type', 'pricing_category',
            'workload', 'billing_currency', 'price_basis'])) }} as instance_price_id,
        billing_month,
        provider,
        instance_type,
        gpu_type,
        gpus_per_instance,
        pricing_category,
        workload,
        usage_hours,
        {{ money('cost') }} as cost,
        -- A ratio has no exact decimal form: rounded to 12 decimals (docs/unit-economics.md).
        case
            when usage_hours > 0
                then {{ unit_ratio('cost', 'usage_hours') }}
        end as hourly_price,
        billing_currency,
        vcpus,
        gpu_hours,
        price_basis,
        resources
    from aggregated
)

select * from final
