{#- The reference set (docs/attribution.md, "Reference sets"): which rows of the reference
    seeds with a `reference_set` column apply to this run. A row applies when its
    reference_set is `*` (every set) or the run's set: dbt var `reference_set`, else the
    environment variable MLCOST_REFERENCE_SET (how `mlcost` passes it, so a change re-parses
    nothing), else `default`. The name is checked before it reaches SQL. -#}
{% macro reference_set() -%}
    {%- set value = var('reference_set', none) -%}
    {%- if value is none and execute -%}
        {#- Read only when executing, as billing_period_bound does: no re-parse on a change. -#}
        {%- set value = env_var('MLCOST_REFERENCE_SET', '') -%}
    {%- endif -%}
    {%- set value = (value or 'default') | string -%}
    {%- if not modules.re.fullmatch('[a-z0-9][a-z0-9_-]{0,62}', value) -%}
        {{ exceptions.raise_compiler_error(
            "reference_set " ~ (value | tojson) ~ " is not a reference set name: lower-case "
            ~ "letters, digits, '-' and '_' (e.g. demo, default); set by the dbt var "
            ~ "reference_set or MLCOST_REFERENCE_SET") }}
    {%- endif -%}
    {{- return(value) -}}
{%- endmacro %}

{#- The rows of a reference seed that apply to the run's reference set. -#}
{% macro reference_rows(seed_name) -%}
    select * from {{ ref(seed_name) }}
    where reference_set in ('*', '{{ reference_set() }}')
{%- endmacro %}
