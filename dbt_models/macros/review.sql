{#- The quarterly review pack's marts (models/marts/review, docs/review-marts.md). -#}

{#- A materiality threshold (docs/review-marts.md, "Materiality"): the dbt var of that name,
    else MLCOST_MATERIALITY_AMOUNT / MLCOST_MATERIALITY_PCT (how `mlcost` passes mlcost.toml's
    keys; read only when executing, so a change re-parses nothing), else 1000 / 5. The value
    is checked before it reaches SQL as a literal. -#}
{% macro materiality(name) -%}
    {%- set defaults = {'materiality_amount': '1000', 'materiality_pct': '5'} -%}
    {%- set value = var(name, none) -%}
    {%- if value is none and execute -%}
        {%- set value = env_var('MLCOST_' ~ name | upper, '') -%}
    {%- endif -%}
    {%- set value = (value if value is not none and value | string | trim != '' else defaults[name]) | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]{1,15}([.][0-9]{1,9})?', value) -%}
        {{ exceptions.raise_compiler_error(
            name ~ " " ~ (value | tojson) ~ " is not a materiality threshold: a number >= 0 "
            ~ "with at most 9 decimals (e.g. 1000 or 2.5); set by the dbt var " ~ name ~ ", "
            ~ "MLCOST_" ~ name | upper ~ " or mlcost.toml") }}
    {%- endif -%}
    {{- return(value) -}}
{%- endmacro %}

{#- The thresholds as typed columns. -#}
{% macro materiality_amount_column() -%}{{ money("'" ~ materiality('materiality_amount') ~ "'") }}{%- endmacro %}
{% macro materiality_pct_column() -%}{{ to_decimal("'" ~ materiality('materiality_pct') ~ "'", 18, 6) }}{%- endmacro %}

{#- Material: abs(amount) >= materiality_amount AND abs(pct) >= materiality_pct. A variance
    against a zero plan or budget has no percentage (it is infinitely large): the amount
    alone decides. No comparison (null amount) or no variance at all (0, even with both
    thresholds at 0): not material. -#}
{% macro is_material(amount, pct) -%}
coalesce(
    {{ amount }} <> 0
    and abs({{ amount }}) >= {{ materiality('materiality_amount') }}
    and (
        {{ pct }} is null
        or abs({{ pct }}) >= {{ materiality('materiality_pct') }}
    ),
    false
)
{%- endmacro %}

{#- favourable / unfavourable for a material variance (actual below / above the comparison),
    `within` for one that is not, `missing` when there is nothing to compare with. -#}
{% macro variance_flag(amount, material, within, missing) -%}
case
    when {{ amount }} is null then '{{ missing }}'
    when not {{ material }} then '{{ within }}'
    when {{ amount }} > 0 then 'unfavourable'
    else 'favourable'
end
{%- endmacro %}

{#- 100 * num / den in DECIMAL(p, 6), null when den is 0 or null (DuckDB divides decimals in
    double precision: a percentage, never money). -#}
{% macro pct_of(num, den, precision=18) -%}
{{ to_decimal('round(100 * (' ~ num ~ ') / nullif(' ~ den ~ ', 0), 6)', precision, 6) }}
{%- endmacro %}

{#- The rows of a table another part of mlcost writes (a Python asset) when it exists, else no
    rows with the same columns, so a build before that asset ran still succeeds (empty marts).
    `columns` is a list of (name, type) with type in string, money, pct, date, int, bool. -#}
{% macro optional_source(source_name, table_name, columns) -%}
    {%- set declared = source(source_name, table_name) -%}
    {%- set found = optional_relation(declared.schema, declared.identifier) -%}
    {%- if found is none %}
    select
        {%- for name, type in columns %}
        {{ review_null(type) }} as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from (select 1 as no_row) as empty_input
    where 1 = 0
    {%- else %}
    select
        {%- for name, type in columns %}
        {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ declared }}
    {%- endif %}
{%- endmacro %}

{% macro review_null(type) -%}
{%- if type == 'money' -%}cast(null as {{ money_type() }})
{%- elif type == 'pct' -%}{{ to_decimal('null', 18, 6) }}
{%- elif type == 'date' -%}cast(null as date)
{%- elif type == 'int' -%}cast(null as {{ dbt.type_int() }})
{%- elif type == 'bool' -%}cast(null as {{ dbt.type_boolean() }})
{%- elif type == 'timestamp' -%}cast(null as {{ dbt.type_timestamp() }})
{%- elif type == 'float' -%}cast(null as {{ dbt.type_float() }})
{%- else -%}cast(null as {{ dbt.type_string() }})
{%- endif -%}
{%- endmacro %}
