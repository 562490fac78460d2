{#- Grain test: no two rows share the values of `combination_of_columns` (nulls compare equal,
    so a null key counts as a value; pair it with not_null on each key column). Used where the
    grain is several columns; a single-column key uses dbt's own unique + not_null. -#}
{% test unique_combination(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
