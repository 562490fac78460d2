{#- Required columns of one model in one test (docs/development.md, "Tests"): one scan instead
    of one dbt node and one scan per column (a not_null test per column was 60% of a run's
    dbt nodes and half its dbt time, docs/benchmarks.md). A failure is one row per column
    that has nulls: the column and how many rows. -#}
{% test not_null_columns(model, columns) %}
with null_counts as (
    select
    {%- for column in columns %}
        sum(case when {{ column }} is null then 1 else 0 end) as null_rows_{{ loop.index }}
        {{- "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
)

{% for column in columns -%}
select
    '{{ column }}' as column_name,
    null_rows_{{ loop.index }} as null_rows
from null_counts
where null_rows_{{ loop.index }} > 0
{% if not loop.last %}union all
{% endif -%}
{%- endfor %}
{% endtest %}
