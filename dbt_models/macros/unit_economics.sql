{#- cost / units as DECIMAL(38, 12), null when units is zero or null (unit economics,
    docs/unit-economics.md). DuckDB divides decimals in binary floating point, so the ratio is
    exact to about 15 significant digits; numerator and denominator are published beside it,
    exact. -#}
{% macro unit_ratio(numerator, denominator) -%}{{ return(adapter.dispatch('unit_ratio', 'mlcost')(numerator, denominator)) }}{%- endmacro %}
{% macro default__unit_ratio(numerator, denominator) -%}
cast({{ numerator }} / nullif({{ denominator }}, 0) as decimal(38, 12))
{%- endmacro %}
{% macro bigquery__unit_ratio(numerator, denominator) -%}
cast(round(safe_divide({{ numerator }}, nullif({{ denominator }}, 0)), 12) as bignumeric)
{%- endmacro %}
