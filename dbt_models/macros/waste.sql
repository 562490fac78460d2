{#- Idle-waste detection (models/intermediate/waste, docs/waste.md). -#}

{#- A threshold of the waste_thresholds seed that applies to every workload (workload `*`), as
    an aggregate over the seed's rows. -#}
{% macro waste_param(waste_type, parameter) -%}
max(case when waste_type = '{{ waste_type }}' and parameter = '{{ parameter }}' and coalesce(workload, '*') = '*' then value end)
{%- endmacro %}

{#- The threshold for one resource: the seed row of its workload when there is one, else the
    `*` row (most specific match wins). A correlated scalar subquery, `workload` an expression
    of the outer row (null = any workload). -#}
{% macro waste_threshold(waste_type, parameter, workload) -%}
(
    select t.value
    from {{ ref('waste_thresholds') }} as t
    where
        t.waste_type = '{{ waste_type }}'
        and t.parameter = '{{ parameter }}'
        and coalesce(t.workload, '*') in (coalesce({{ workload }}, '*'), '*')
    order by case when coalesce(t.workload, '*') = '*' then 1 else 0 end
    limit 1
)
{%- endmacro %}

{#- The CTEs shared by the three idle-run detectors (endpoint, notebook, storage): `idle_days`
    (one row per idle billed day, with waste_type and evidence_metric_value) is cut into runs
    of consecutive days (gaps-and-islands); runs of at least the `min_idle_days` threshold of
    the resource's workload are reported, one row per month of the run so monthly reporting
    adds up. Ends with `final`. -#}
{% macro idle_run_pieces(waste_type) -%}
islands as (
    select
        *,
        -- Consecutive days share one key.
        {{ date_minus_days('usage_date', 'cast(row_number() over (partition by provider, resource_id order by usage_date) as integer)') }}
            as island_key
    from idle_days
),

runs as (
    select
        provider,
        resource_id,
        island_key,
        min(usage_date) as run_start,
        max(usage_date) as run_end,
        count(*) as run_days
    from islands
    group by provider, resource_id, island_key
),

final as (
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
    inner join runs as r
        on
            i.provider = r.provider
            and i.resource_id = r.resource_id
            and i.island_key = r.island_key
    where r.run_days >= {{ waste_threshold(waste_type, 'min_idle_days', 'i.workload') }}
    group by
        i.provider, i.resource_id, i.waste_type, i.usage_month, r.run_start, r.run_end,
        r.run_days
)
{%- endmacro %}

{#- The columns every detector returns, in this order (fct_idle_waste unions them). -#}
{% macro waste_finding_columns() -%}
{{ return(['provider', 'resource_id', 'waste_type', 'usage_month', 'run_start', 'run_end',
           'run_days', 'period_start', 'period_end', 'idle_days', 'wasted_cost',
           'evidence_metric_value']) }}
{%- endmacro %}

{#- The rows that are a resource's own cost (shared by the resource models): Usage rows with a
    resource, not promotional credits and not unused-commitment rows. -#}
{% macro is_waste_resource_row() -%}
resource_id is not null
        and charge_category = 'Usage'
        and commitment_discount_status is distinct from 'Unused'
{%- endmacro %}

{#- The rows that belong to a commitment: covered or unused usage (they carry its id) and
    commitment fees (Purchase rows with a resource). -#}
{% macro is_commitment_row() -%}
(commitment_discount_id is not null or (charge_category = 'Purchase' and resource_id is not null))
{%- endmacro %}
