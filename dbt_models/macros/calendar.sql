{#- One row per month (column `month`, a date) from `first_col` to `last_col` of the one-row
    relation `bounds` (both first days of months). No row when the bounds are null. -#}
{% macro month_spine(bounds, first_col, last_col) -%}{{ return(adapter.dispatch('month_spine', 'mlcost')(bounds, first_col, last_col)) }}{%- endmacro %}
{% macro default__month_spine(bounds, first_col, last_col) -%}
select cast(generated as date) as month
from (
    select unnest(generate_series({{ first_col }}, {{ last_col }}, interval 1 month)) as generated
    from {{ bounds }}
) as series
{%- endmacro %}
{% macro bigquery__month_spine(bounds, first_col, last_col) -%}
select month
from {{ bounds }}
cross join unnest(generate_date_array({{ first_col }}, {{ last_col }}, interval 1 month)) as month
{%- endmacro %}

{#- The quarter label `YYYYQn` of a date (dim_calendar's `quarter`; for dates outside the
    calendar's months, e.g. an action dated after the last month of data). -#}
{% macro quarter_label(expr) -%}
cast(extract(year from {{ expr }}) as {{ dbt.type_string() }})
|| 'Q'
|| cast(extract(quarter from {{ expr }}) as {{ dbt.type_string() }})
{%- endmacro %}
