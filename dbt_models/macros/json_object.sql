{#- A JSON object as text from (key, SQL expression) pairs; keys are literals of the model's
    own code, never data. Used for FOCUS AllocatedMethodDetails-style columns. -#}
{% macro json_object_pairs(pairs) -%}{{ return(adapter.dispatch('json_object_pairs', 'mlcost')(pairs)) }}{%- endmacro %}
{% macro default__json_object_pairs(pairs) -%}
    to_json(struct_pack({% for k, v in pairs %}{{ k }} := {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}))::varchar
{%- endmacro %}
{% macro bigquery__json_object_pairs(pairs) -%}
    to_json_string(json_object({% for k, v in pairs %}'{{ k }}', {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}))
{%- endmacro %}
