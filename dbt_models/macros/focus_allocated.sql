{#- Helpers of the FOCUS 1.3 allocation dataset (models/focus/focus_allocated.sql). -#}

{#- A JSON value as JSON text (the FOCUS JSON columns are strings). -#}
{% macro json_text(expr) -%}{{ return(adapter.dispatch('json_text', 'mlcost')(expr)) }}{%- endmacro %}
{% macro default__json_text(expr) -%}cast({{ expr }} as varchar){%- endmacro %}
{% macro bigquery__json_text(expr) -%}to_json_string({{ expr }}){%- endmacro %}
