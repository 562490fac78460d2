{#- Helpers of the FOCUS 1.3 allocation dataset (models/focus/focus_allocated.sql). -#}

{#- focus_allocated (docs/focus-allocated.md): the AllocatedMethodId of a shared-cost split,
    `mlcost/<rule_id>/<split method>` (split_basis is `<method>:<basis>`). -#}
{% macro allocated_method_id(rule_id, split_basis) -%}
'mlcost/' || {{ rule_id }} || '/' || {{ split_part_first(split_basis, ':') }}
{%- endmacro %}

{% macro split_part_first(expr, sep) -%}{{ return(adapter.dispatch('split_part_first', 'mlcost')(expr, sep)) }}{%- endmacro %}
{% macro default__split_part_first(expr, sep) -%}split_part({{ expr }}, '{{ sep }}', 1){%- endmacro %}
{% macro bigquery__split_part_first(expr, sep) -%}split({{ expr }}, '{{ sep }}')[safe_offset(0)]{%- endmacro %}

{#- A JSON value as JSON text (the FOCUS JSON columns are strings). -#}
{% macro json_text(expr) -%}{{ return(adapter.dispatch('json_text', 'mlcost')(expr)) }}{%- endmacro %}
{% macro default__json_text(expr) -%}cast({{ expr }} as varchar){%- endmacro %}
{% macro bigquery__json_text(expr) -%}to_json_string({{ expr }}){%- endmacro %}
