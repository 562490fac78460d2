{#- Dagster group = dbt folder = warehouse schema: use the folder schema as is, not
    prefixed with the target schema, so analysts query `focus.focus_cost_and_usage`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
