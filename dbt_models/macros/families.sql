{#- The source families that are not billing data (plan and telemetry): they never define a
    billing slice. Python owns the list (lib/ingest/families.py, `is_billing`);
    tests/test_single_owner.py checks that this macro says the same. -#}
{% macro non_billing_families() -%}
('budgets', 'recommendation_actions', 'utilization_metrics')
{%- endmacro %}
