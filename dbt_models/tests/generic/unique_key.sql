{#- A key that is unique and never null, in one test (docs/development.md, "Tests"): one scan
    instead of dbt's `unique` and `not_null`, two scans. Used on views, where each scan runs
    the view's whole query again (the provider mappings over every raw row, the
    recommendation sources). A failure is one row per key value that is null or repeated. -#}
{% test unique_key(model, column_name) %}
select
    {{ column_name }} as key_value,
    count(*) as n_records
from {{ model }}
group by {{ column_name }}
having {{ column_name }} is null or count(*) > 1
{% endtest %}
