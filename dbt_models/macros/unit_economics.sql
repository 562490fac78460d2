{#- cost / units as DECIMAL(38, 12), null when units is zero or null (unit economics,
    docs/unit-economics.md). DuckDB divides decimals in binary floating point, so the ratio is
    exact to about 15 significant digits; numerator and denominator are published beside it,
    exact. -#}
{% macro unit_ratio(numerator, denominator) -%}{{ return(adapter.dispatch('unit_ratio', 'mlcost')(numerator, denominator)) }}{%- endmacro %}
{% macro default__unit_ratio(numerator, denominator) -%}
cast({{ numerator }} / nullif({{ denominator }}, 0) as decimal(38, 12))
{%- endmacro %}
{% macro bigquery__unit_ratio(numerator, denominator) -%}
cast(round(safe_divide({{ numerator }}, nullif({{ denominator }}, 0)), 12) as {{ money_type() }})
{%- endmacro %}

{#- A stored quantity in TB-months (1 TB = 10^12 bytes, a month = the billing month), exact,
    from the pricing unit the provider billed; null for units that are not capacity (requests,
    operations). GB = 10^9 bytes and GiB = 2^30 bytes, except AWS's "GB-Mo", which AWS bills
    in binary gigabytes (2^30 bytes, as its S3 and EBS pricing pages define a GB). -#}
{% macro tb_months(quantity, unit, month, provider) -%}
{%- set q = to_decimal(quantity, 38, 12) -%}
{%- set days = days_in_month(month) -%}
{%- set factors = {
    'gb-months': '0.001', 'gb-month': '0.001', 'gb-mo': '0.001',
    'gib-months': '0.001073741824', 'gib-month': '0.001073741824',
    'tb-months': '1', 'tb-month': '1',
    'tib-months': '1.099511627776', 'tib-month': '1.099511627776'} -%}
case lower(replace(replace({{ unit }}, '/', '-'), ' ', ''))
{%- for name in ['gb-months', 'gb-month', 'gb-mo'] %}
    when {{ "'" ~ name ~ "'" }} then {{ money(q ~ ' * case when ' ~ provider ~ " = 'aws' then 0.001073741824 else 0.001 end") }}
{%- endfor %}
{%- for name, factor in factors.items() if not name.startswith('gb-mo') %}
    when '{{ name }}' then {{ money(q ~ ' * ' ~ factor) }}
{%- endfor %}
    {#- Per hour or second: divided by the month's length (exact to the decimal type's scale). #}
    when 'gb-hours' then {{ money(q ~ ' * 0.001 / (' ~ days ~ ' * 24)') }}
    when 'gib-hours' then {{ money(q ~ ' * 0.001073741824 / (' ~ days ~ ' * 24)') }}
    when 'byte-seconds' then {{ money(q ~ ' / (' ~ days ~ ' * 86400) / 1000000000000') }}
end
{%- endmacro %}

{% macro days_in_month(month) -%}{{ return(adapter.dispatch('days_in_month', 'mlcost')(month)) }}{%- endmacro %}
{% macro default__days_in_month(month) -%}cast(day(last_day({{ month }})) as decimal(38, 0)){%- endmacro %}
{% macro bigquery__days_in_month(month) -%}extract(day from last_day({{ month }})){%- endmacro %}
