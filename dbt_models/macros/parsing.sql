{#- Type and parsing helpers. DuckDB is the default implementation; other adapters dispatch. -#}

{% macro money_type() -%}{{ return(adapter.dispatch('money_type', 'mlcost')()) }}{%- endmacro %}
{% macro default__money_type() -%}decimal(38, 24){%- endmacro %}
{#- The emulator (crucible) has no BIGNUMERIC: money runs there as NUMERIC, 9 decimals. -#}
{% macro bigquery__money_type() -%}{% if target.name == 'emulator' %}numeric{% else %}bignumeric{% endif %}{%- endmacro %}

{#- Exact decimal from provider text. Floats never enter: sources are read as text. -#}
{% macro money(expr) -%}cast({{ expr }} as {{ money_type() }}){%- endmacro %}
{% macro try_money(expr) -%}{{ return(adapter.dispatch('try_money', 'mlcost')(expr)) }}{%- endmacro %}
{% macro default__try_money(expr) -%}try_cast({{ expr }} as {{ money_type() }}){%- endmacro %}
{% macro bigquery__try_money(expr) -%}safe_cast({{ expr }} as {{ money_type() }}){%- endmacro %}

{#- Provider timestamps (ISO with Z/offset, naive UTC, MM/DD/YYYY) -> naive UTC timestamp. -#}
{% macro parse_ts(expr) -%}{{ return(adapter.dispatch('parse_ts', 'mlcost')(expr)) }}{%- endmacro %}
{% macro default__parse_ts(expr) -%}
coalesce(
    timezone('UTC', try_cast(cast({{ expr }} as varchar) as timestamptz)),
    try_strptime(cast({{ expr }} as varchar), ['%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M', '%m/%d/%Y'])
)
{%- endmacro %}
{#- BigQuery keeps naive UTC as TIMESTAMP (the FOCUS columns' type), so that every timestamp a
    model compares has one type. -#}
{% macro bigquery__parse_ts(expr) -%}
coalesce(
    safe_cast({{ expr }} as timestamp),
    cast(safe.parse_datetime('%m/%d/%Y %H:%M:%S', {{ expr }}) as timestamp),
    cast(safe.parse_datetime('%m/%d/%Y %H:%M', {{ expr }}) as timestamp),
    cast(safe.parse_date('%m/%d/%Y', {{ expr }}) as timestamp)
)
{%- endmacro %}

{#- Dates: MM/DD/YYYY (Azure) first, then ISO. -#}
{% macro parse_date(expr) -%}{{ return(adapter.dispatch('parse_date', 'mlcost')(expr)) }}{%- endmacro %}
{% macro default__parse_date(expr) -%}
cast(coalesce(
    try_strptime(cast({{ expr }} as varchar), ['%m/%d/%Y', '%Y-%m-%d']),
    timezone('UTC', try_cast(cast({{ expr }} as varchar) as timestamptz))
) as date)
{%- endmacro %}
{% macro bigquery__parse_date(expr) -%}
coalesce(safe.parse_date('%m/%d/%Y', {{ expr }}), safe_cast(substr({{ expr }}, 1, 10) as date))
{%- endmacro %}

{% macro add_days(expr, n) -%}{{ return(adapter.dispatch('add_days', 'mlcost')(expr, n)) }}{%- endmacro %}
{% macro default__add_days(expr, n) -%}({{ expr }} + interval {{ n }} day){%- endmacro %}
{% macro bigquery__add_days(expr, n) -%}timestamp_add(cast({{ expr }} as timestamp), interval {{ n }} day){%- endmacro %}

{% macro add_months(expr, n) -%}{{ return(adapter.dispatch('add_months', 'mlcost')(expr, n)) }}{%- endmacro %}
{% macro default__add_months(expr, n) -%}({{ expr }} + interval {{ n }} month){%- endmacro %}
{% macro bigquery__add_months(expr, n) -%}cast(datetime_add(cast({{ expr }} as datetime), interval {{ n }} month) as timestamp){%- endmacro %}

{% macro month_start(expr) -%}{{ return(adapter.dispatch('month_start', 'mlcost')(expr)) }}{%- endmacro %}
{% macro default__month_start(expr) -%}cast(date_trunc('month', {{ expr }}) as date){%- endmacro %}
{% macro bigquery__month_start(expr) -%}date_trunc(cast({{ expr }} as date), month){%- endmacro %}

{#- Sum of `amount` over a JSON list of GCP credits, exact. -#}
{% macro credits_total(expr, types=none, exclude_types=none) -%}
{{ return(adapter.dispatch('credits_total', 'mlcost')(expr, types, exclude_types)) }}
{%- endmacro %}
{% macro default__credits_total(expr, types, exclude_types) -%}
coalesce(list_sum(list_transform(
    list_filter(
        from_json(cast({{ expr }} as varchar), '[{"amount":"VARCHAR","type":"VARCHAR"}]'),
        lambda c: true
        {%- if types %} and c.type in ({% for t in types %}'{{ t }}'{% if not loop.last %}, {% endif %}{% endfor %}){% endif %}
        {%- if exclude_types %} and coalesce(c.type, '') not in ({% for t in exclude_types %}'{{ t }}'{% if not loop.last %}, {% endif %}{% endfor %}){% endif %}
    ),
    lambda c: try_cast(c.amount as {{ money_type() }}))), 0)
{%- endmacro %}
{% macro bigquery__credits_total(expr, types, exclude_types) -%}
coalesce((
    select sum(safe_cast(json_value(c, '$.amount') as {{ money_type() }}))
    from unnest(json_query_array({{ expr }})) as c
    where true
    {%- if types %} and json_value(c, '$.type') in ({% for t in types %}'{{ t }}'{% if not loop.last %}, {% endif %}{% endfor %}){% endif %}
    {%- if exclude_types %} and coalesce(json_value(c, '$.type'), '') not in ({% for t in exclude_types %}'{{ t }}'{% if not loop.last %}, {% endif %}{% endfor %}){% endif %}
), 0)
{%- endmacro %}

{% macro nullif_blank(expr) -%}nullif(trim(cast({{ expr }} as {{ dbt.type_string() }})), ''){%- endmacro %}

{#- price x quantity in the money type. DuckDB adds scales on multiply (24 + 24 > 38), so the
    operands are narrowed first: prices to 14 decimals, quantities to 10; the product keeps 24. -#}
{% macro money_mul(price, quantity) -%}{{ return(adapter.dispatch('money_mul', 'mlcost')(price, quantity)) }}{%- endmacro %}
{% macro default__money_mul(price, quantity) -%}
cast(cast({{ price }} as decimal(38, 14)) * cast({{ quantity }} as decimal(38, 10)) as {{ money_type() }})
{%- endmacro %}
{% macro bigquery__money_mul(price, quantity) -%}
cast({{ price }} * {{ quantity }} as {{ money_type() }})
{%- endmacro %}
