{#- Idle-waste detection (models/intermediate/waste, docs/waste.md). -#}

{#- One threshold of the waste_thresholds seed, as an aggregate over the seed's rows. -#}
{% macro waste_param(waste_type, parameter) -%}
max(case when waste_type = '{{ waste_type }}' and parameter = '{{ parameter }}' then value end)
{%- endmacro %}

{#- The CTEs shared by the three idle-run detectors (endpoint, notebook, storage): `idle_days`
    (one row per idle billed day, with waste_type and evidence_metric_value) is cut into runs
    of consecutive days (gaps-and-islands); runs of at least `params.min_days` days are
    reported, one row per month of the run so monthly reporting adds up. Ends with `final`. -#}
{% macro idle_run_pieces() -%}
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
    cross join params
    where r.run_days >= params.min_days
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
