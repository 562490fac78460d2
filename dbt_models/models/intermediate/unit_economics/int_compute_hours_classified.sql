{#- A table, not a view: both unit-economics marts read it, and as a view each would re-join
    the allocations with FOCUS. -#}
{{ config(materialized='table') }}
{#- Compute usage hours of the cost allocations, each resolved to an instance type (seed
    instance_types), a pricing category and GPU-hours: the one input of observed instance
    prices (fct_instance_prices) and of the gpu_hour unit cost (fct_unit_costs). Rules and the
    GCP VM pricing in docs/unit-economics.md. -#}
with allocations as {{ inline_cte() }} (
    select * from {{ ref('fct_cost_allocations') }}
),

focus as {{ inline_cte() }} (
    select * from {{ ref('focus_cost_and_usage') }}
),

instance_types as (
    select * from {{ ref('instance_types') }}
),

-- Usage rows of compute services: unused commitments and purchases carry no instance-hours.
usage_rows as (
    select
        a.billing_month,
        a.provider,
        a.resource_id,
        a.team,
        a.ml_model,
        a.workload,
        a.billing_currency,
        a.usage_type,
        a.pricing_unit,
        a.pricing_quantity,
        a.effective_cost,
        f.{{ q('SkuMeter') }} as sku_meter,
        f.{{ q('PricingCategory') }} as focus_pricing_category,
        a.commitment_discount_status,
        {{ json_string('f.' ~ q('Tags'), '$."gcp-system/compute.googleapis.com/machine_spec"') }}
            as gcp_machine_type
    from allocations as a
    inner join focus as f on a.focus_row_id = f.{{ q('x_RowId') }}
    where
        a.charge_category = 'Usage'
        and coalesce(a.commitment_discount_status, '') <> 'Unused'
        and a.service_category in ('Compute', 'AI and Machine Learning')
        and lower(a.pricing_unit) in ('hours', 'hour', 'hrs', 'gib-hours')
),

-- The Azure VM size as the meter names it: `NC6s v3 Spot` -> `NC6s v3`, `D3 v2/DS3 v2` -> `D3 v2`.
azure_sized as (
    select
        *,
        case
            when provider = 'azure' and usage_type = 'Virtual Machines'
                then trim({{ regex_replace_all(
                "trim(" ~ split_part('sku_meter', "'/'", 1) ~ ")",
                ' ([Ss]pot|[Ll]ow [Pp]riority)$', '') }})
        end as azure_vm_size
    from usage_rows
),

-- One price key per row: AWS usage-type suffix, Azure meter, GCP SKU description.
keyed as (
    select
        *,
        case
            -- `BoxUsage:g5.2xlarge`, `USE1-Host:ml.g5.2xlarge`, `...:JupyterLab-ml.g5.xlarge`;
            -- EBS-optimised and RI fee hours name an instance type but are surcharges.
            when
                provider = 'aws'
                and lower(usage_type) not like '%ebsoptimized%'
                and lower(usage_type) not like '%heavyusage%'
                then nullif({{ regex_extract(
                    'lower(usage_type)', '(?:ml\\.)?[a-z][a-z0-9]*\\.[a-z0-9-]+$') }}, '')
            -- The ARM SKU form (`Standard_NC6s_v3`) keys like the meter (`nc6s v3`).
            when provider = 'azure'
                then lower(replace({{ regex_replace_all('azure_vm_size', '^[Ss]tandard_', '') }}, '_', ' '))
        end as price_key,
        case
            when focus_pricing_category = 'Committed' or commitment_discount_status = 'Used'
                then 'committed'
            when
                focus_pricing_category = 'Dynamic'
                or usage_type like '%SpotUsage%'
                or lower(sku_meter) like '% spot'
                or lower(sku_meter) like '% low priority'
                or lower(usage_type) like '%preemptible%'
                then 'spot'
            else 'on_demand'
        end as row_pricing_category,
        case
            when provider = 'gcp' and lower(usage_type) like '%gpu%' then 'gpu'
            when provider = 'gcp' and lower(usage_type) like '% core %' then 'core'
            when provider = 'gcp' and lower(usage_type) like '% ram %' then 'ram'
        end as gcp_component
    from azure_sized
),

-- GCP GPU SKUs resolve through the longest matching seed key (`tesla a100 gpu` vs `a100 80gb gpu`).
gcp_gpu_skus as (
    select
        k.usage_type,
        {{ arg_max('t.instance_type', 'length(t.match_key)') }} as instance_type,
        {{ arg_max('t.gpu_type', 'length(t.match_key)') }} as gpu_type
    from (
        select distinct usage_type from keyed
        where gcp_component = 'gpu'
    ) as k
    inner join instance_types as t
        on
            t.provider = 'gcp' and t.match_on = 'gpu_sku'
            and {{ dbt.position('t.match_key', 'lower(k.usage_type)') }} > 0
    group by k.usage_type
),

gcp_machines as (
    select
        m.gcp_machine_type,
        t.gpu_type,
        t.gpus_per_instance,
        coalesce(t.vcpus, cast(
            nullif({{ regex_extract(
            'm.gcp_machine_type', '^[a-z0-9]+-(?:standard|highmem|highcpu)-([0-9]+)$', 1) }}, '')
            as {{ dbt.type_int() }}
        )) as vcpus
    from (
        select distinct gcp_machine_type from keyed
        where gcp_machine_type is not null
    ) as m
    left join instance_types as t
        on t.provider = 'gcp' and t.match_on = 'machine_type' and t.match_key = m.gcp_machine_type
),

-- AWS and Azure bill an instance-hour per row.
instance_rows as (
    select
        k.billing_month,
        k.provider,
        k.resource_id,
        k.team,
        k.ml_model,
        k.workload,
        k.billing_currency,
        case
            when k.provider = 'azure' then coalesce(t.instance_type, k.azure_vm_size)
            else k.price_key
        end as instance_type,
        t.gpu_type,
        t.gpus_per_instance,
        t.vcpus,
        k.row_pricing_category as pricing_category,
        'instance_hour' as price_basis,
        k.pricing_quantity as usage_hours,
        case
            when t.gpus_per_instance is not null
                then k.pricing_quantity * t.gpus_per_instance
        end as gpu_hours,
        k.effective_cost
    from keyed as k
    left join instance_types as t
        on
            t.provider = k.provider
            and t.match_on = case k.provider when 'aws' then 'instance_type' else 'meter' end
            and t.match_key = case
                when k.provider = 'aws' and k.price_key like 'ml.%' then substr(k.price_key, 4)
                else k.price_key
            end
    where
        k.provider in ('aws', 'azure') and k.price_key is not null
        and lower(k.pricing_unit) <> 'gib-hours'
),

-- A GCP VM of a known machine type is priced whole: its core, RAM and (bundled) GPU SKUs.
gcp_vm_rows as (
    select
        k.*,
        m.gpu_type,
        m.gpus_per_instance,
        m.vcpus
    from keyed as k
    inner join gcp_machines as m on k.gcp_machine_type = m.gcp_machine_type
    where
        k.provider = 'gcp' and m.vcpus is not null
        and (
            k.gcp_component in ('core', 'ram')
            or (k.gcp_component = 'gpu' and m.gpu_type is not null)
        )
),

gcp_vms as (
    select
        billing_month,
        provider,
        resource_id,
        team,
        ml_model,
        workload,
        billing_currency,
        gcp_machine_type as instance_type,
        max(gpu_type) as gpu_type,
        max(gpus_per_instance) as gpus_per_instance,
        max(vcpus) as vcpus,
        -- One category per VM and month: its SKUs are billed (and discounted) separately.
        case
            when {{ bool_or("row_pricing_category = 'spot'") }} then 'spot'
            when {{ bool_or("row_pricing_category = 'committed'") }} then 'committed'
            else 'on_demand'
        end as pricing_category,
        'gcp_vm_hour' as price_basis,
        sum(case when gcp_component = 'core' then pricing_quantity end) as core_hours,
        sum(case when gcp_component = 'gpu' then pricing_quantity end) as gpu_hours,
        sum(effective_cost) as effective_cost
    from gcp_vm_rows
    group by
        billing_month, provider, resource_id, team, ml_model, workload, billing_currency,
        gcp_machine_type
),

-- Other GCP GPU SKUs (GPUs attached to N1 VMs, Vertex AI accelerators): priced per GPU-hour.
gcp_gpu_rows as (
    select
        k.billing_month,
        k.provider,
        k.resource_id,
        k.team,
        k.ml_model,
        k.workload,
        k.billing_currency,
        g.instance_type,
        g.gpu_type,
        1 as gpus_per_instance,
        cast(null as {{ dbt.type_int() }}) as vcpus,
        k.row_pricing_category as pricing_category,
        'gpu_hour' as price_basis,
        k.pricing_quantity as usage_hours,
        k.pricing_quantity as gpu_hours,
        k.effective_cost
    from keyed as k
    inner join gcp_gpu_skus as g on k.usage_type = g.usage_type
    left join gcp_machines as m on k.gcp_machine_type = m.gcp_machine_type
    where
        k.provider = 'gcp' and k.gcp_component = 'gpu'
        and not (m.vcpus is not null and m.gpu_type is not null)
),

unioned as (
    select * from instance_rows
    union all
    select
        billing_month,
        provider,
        resource_id,
        team,
        ml_model,
        workload,
        billing_currency,
        instance_type,
        gpu_type,
        gpus_per_instance,
        vcpus,
        pricing_category,
        price_basis,
        -- VM-hours: GPU SKU hours / GPUs when the type bundles GPUs, else vCPU-hours / vCPUs.
        -- (A quotient is a binary double in DuckDB: rounded to 12 decimals, 576 stays 576.)
        {{ money(to_decimal(
            'case when gpus_per_instance is not null then gpu_hours / gpus_per_instance'
            ~ ' else core_hours / vcpus end', 38, 12)) }} as usage_hours,
        gpu_hours,
        effective_cost
    from gcp_vms
    union all
    select * from gcp_gpu_rows
),

final as (
    select
        billing_month,
        provider,
        resource_id,
        team,
        ml_model,
        workload,
        billing_currency,
        instance_type,
        gpu_type,
        gpus_per_instance,
        vcpus,
        pricing_category,
        price_basis,
        sum(usage_hours) as usage_hours,
        sum(gpu_hours) as gpu_hours,
        sum(effective_cost) as effective_cost
    from unioned
    where instance_type is not null
    group by
        billing_month, provider, resource_id, team, ml_model, workload, billing_currency,
        instance_type, gpu_type, gpus_per_instance, vcpus, pricing_category, price_basis
)

select * from final
