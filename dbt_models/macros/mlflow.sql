{#- Cross-database helpers of the MLflow join (models/intermediate/unit_economics). -#}

{#- `from r cross join {{ split_items('r.col', 'token') }}`: one row per comma-separated item. -#}
{% macro split_items(expr, alias) -%}{{ return(adapter.dispatch('split_items', 'mlcost')(expr, alias)) }}{%- endmacro %}
{% macro default__split_items(expr, alias) -%}unnest(string_split({{ expr }}, ',')) as {{ alias }}_items ({{ alias }}){%- endmacro %}
{% macro bigquery__split_items(expr, alias) -%}unnest(split({{ expr }}, ',')) as {{ alias }}{%- endmacro %}

{#- Whole seconds from start_ts to end_ts (timestamps). -#}
{% macro seconds_between(end_ts, start_ts) -%}{{ return(adapter.dispatch('seconds_between', 'mlcost')(end_ts, start_ts)) }}{%- endmacro %}
{% macro default__seconds_between(end_ts, start_ts) -%}date_diff('second', {{ start_ts }}, {{ end_ts }}){%- endmacro %}
{% macro bigquery__seconds_between(end_ts, start_ts) -%}timestamp_diff({{ end_ts }}, {{ start_ts }}, second){%- endmacro %}

{#- A billing tag key in the form the run-id match compares: lower case, `user:` / `user_`
    prefix dropped, non-alphanumerics removed (`user_mlflow_run_id` -> `mlflowrunid`). -#}
{% macro normalised_tag_key(expr) -%}
{{ regex_replace_all(regex_replace_all('lower(' ~ expr ~ ')', '^user[:_]', ''), '[^a-z0-9]', '') }}
{%- endmacro %}
