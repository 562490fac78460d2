{#- Dialect differences between DuckDB (dev, tests) and BigQuery (prod), one macro each.
    `default__` is the DuckDB form, kept exactly as the models wrote it before, so DuckDB
    results do not change; `bigquery__` is the GoogleSQL equivalent (docs/bigquery.md). -#}

{#- A quoted identifier: FOCUS columns are PascalCase ("BilledCost" in DuckDB, `BilledCost`
    in BigQuery, where a double-quoted name would be a string literal). -#}
{% macro q(name) -%}{{ adapter.quote(name) }}{%- endmacro %}

{#- `select * {{ star_except(['a']) }}`: DuckDB's EXCLUDE is BigQuery's EXCEPT. -#}
{% macro star_except(columns) -%}{{ return(adapter.dispatch('star_except', 'mlcost')(columns)) }}{%- endmacro %}
{% macro default__star_except(columns) -%}exclude ({{ columns | join(', ') }}){%- endmacro %}
{% macro bigquery__star_except(columns) -%}except ({{ columns | join(', ') }}){%- endmacro %}

{#- Rounding cast to an exact decimal type. BigQuery's NUMERIC holds at most 9 decimals, wider
    ones are BIGNUMERIC; the emulator has neither BIGNUMERIC nor parameterised types, so there
    the value is rounded to (at most) 9 decimals instead (docs/bigquery.md). -#}
{% macro to_decimal(expr, precision, scale) -%}{{ return(adapter.dispatch('to_decimal', 'mlcost')(expr, precision, scale)) }}{%- endmacro %}
{% macro default__to_decimal(expr, precision, scale) -%}cast({{ expr }} as decimal({{ precision }}, {{ scale }})){%- endmacro %}
{% macro bigquery__to_decimal(expr, precision, scale) -%}
{%- if target.name == 'emulator' -%}round(cast({{ expr }} as numeric), {{ [scale, 9] | min }})
{%- elif scale <= 9 and precision - scale <= 29 -%}cast({{ expr }} as numeric({{ precision }}, {{ scale }}))
{%- else -%}cast({{ expr }} as bignumeric({{ precision }}, {{ scale }})){%- endif -%}
{%- endmacro %}

{% macro float_type() -%}{{ return(adapter.dispatch('float_type', 'mlcost')()) }}{%- endmacro %}
{% macro default__float_type() -%}double{%- endmacro %}
{% macro bigquery__float_type() -%}float64{%- endmacro %}

{#- Hex md5 of a string (DuckDB's md5 returns hex text, BigQuery's returns bytes). -#}
{% macro md5_hex(expr) -%}{{ return(adapter.dispatch('md5_hex', 'mlcost')(expr)) }}{%- endmacro %}
{% macro default__md5_hex(expr) -%}md5({{ expr }}){%- endmacro %}
{% macro bigquery__md5_hex(expr) -%}to_hex(md5({{ expr }})){%- endmacro %}

{#- A regular expression literal: BigQuery needs a raw string so that backslashes reach RE2. -#}
{% macro regex_literal(pattern) -%}{{ return(adapter.dispatch('regex_literal', 'mlcost')(pattern)) }}{%- endmacro %}
{% macro default__regex_literal(pattern) -%}'{{ pattern }}'{%- endmacro %}
{% macro bigquery__regex_literal(pattern) -%}r'{{ pattern }}'{%- endmacro %}

{#- Whole-string match; every alternative of the patterns used here is anchored. -#}
{% macro regex_full_match(expr, pattern) -%}{{ return(adapter.dispatch('regex_full_match', 'mlcost')(expr, pattern)) }}{%- endmacro %}
{% macro default__regex_full_match(expr, pattern) -%}regexp_full_match({{ expr }}, '{{ pattern }}'){%- endmacro %}
{% macro bigquery__regex_full_match(expr, pattern) -%}regexp_contains({{ expr }}, r'^(?:{{ pattern }})$'){%- endmacro %}

{#- First match (or its first group); '' when nothing matches, as DuckDB returns. -#}
{% macro regex_extract(expr, pattern, group=0) -%}{{ return(adapter.dispatch('regex_extract', 'mlcost')(expr, pattern, group)) }}{%- endmacro %}
{% macro default__regex_extract(expr, pattern, group) -%}
regexp_extract({{ expr }}, '{{ pattern }}'{% if group %}, {{ group }}{% endif %})
{%- endmacro %}
{% macro bigquery__regex_extract(expr, pattern, group) -%}
coalesce(regexp_extract({{ expr }}, r'{{ pattern }}'), '')
{%- endmacro %}

{#- Replace every match. `replacement` uses \1 for groups on both engines. -#}
{% macro regex_replace_all(expr, pattern, replacement) -%}{{ return(adapter.dispatch('regex_replace_all', 'mlcost')(expr, pattern, replacement)) }}{%- endmacro %}
{% macro default__regex_replace_all(expr, pattern, replacement) -%}
regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}
{% macro bigquery__regex_replace_all(expr, pattern, replacement) -%}
regexp_replace({{ expr }}, r'{{ pattern }}', r'{{ replacement }}')
{%- endmacro %}

{#- n-th (1-based) part of a delimited string; '' past the end, as DuckDB returns. -#}
{% macro split_part(expr, delimiter, n) -%}{{ return(adapter.dispatch('split_part', 'mlcost')(expr, delimiter, n)) }}{%- endmacro %}
{% macro default__split_part(expr, delimiter, n) -%}split_part({{ expr }}, {{ delimiter }}, {{ n }}){%- endmacro %}
{% macro bigquery__split_part(expr, delimiter, n) -%}
coalesce(split({{ expr }}, {{ delimiter }})[safe_offset({{ n - 1 }})], '')
{%- endmacro %}

{#- A string member of a JSON text by JSONPath ($.a). -#}
{% macro json_string(expr, path) -%}{{ return(adapter.dispatch('json_string', 'mlcost')(expr, path)) }}{%- endmacro %}
{% macro default__json_string(expr, path) -%}json_extract_string({{ expr }}, '{{ path }}'){%- endmacro %}
{% macro bigquery__json_string(expr, path) -%}json_value({{ expr }}, '{{ path }}'){%- endmacro %}

{% macro is_valid_json(expr) -%}{{ return(adapter.dispatch('is_valid_json', 'mlcost')(expr)) }}{%- endmacro %}
{% macro default__is_valid_json(expr) -%}json_valid({{ expr }}){%- endmacro %}
{% macro bigquery__is_valid_json(expr) -%}(safe.parse_json({{ expr }}) is not null){%- endmacro %}

{#- Aggregates. -#}
{% macro bool_or(expr) -%}{{ return(adapter.dispatch('bool_or', 'mlcost')(expr)) }}{%- endmacro %}
{% macro default__bool_or(expr) -%}bool_or({{ expr }}){%- endmacro %}
{% macro bigquery__bool_or(expr) -%}logical_or({{ expr }}){%- endmacro %}

{% macro arg_max(expr, by) -%}{{ return(adapter.dispatch('arg_max', 'mlcost')(expr, by)) }}{%- endmacro %}
{% macro default__arg_max(expr, by) -%}arg_max({{ expr }}, {{ by }}){%- endmacro %}
{% macro bigquery__arg_max(expr, by) -%}max_by({{ expr }}, {{ by }}){%- endmacro %}

{#- The value of `expr` on the row with the largest `by`, among rows where `expr` is not null. -#}
{% macro arg_max_not_null(expr, by) -%}{{ return(adapter.dispatch('arg_max_not_null', 'mlcost')(expr, by)) }}{%- endmacro %}
{% macro default__arg_max_not_null(expr, by) -%}arg_max({{ expr }}, {{ by }}) filter (where {{ expr }} is not null){%- endmacro %}
{% macro bigquery__arg_max_not_null(expr, by) -%}
array_agg({{ expr }} ignore nulls order by {{ by }} desc limit 1)[safe_offset(0)]
{%- endmacro %}

{#- dbt.listagg with a limit. BigQuery's STRING_AGG takes LIMIT too, but the emulator's
    translation to DuckDB does not, so BigQuery aggregates an array (same result; null when
    every value is null, as STRING_AGG). -#}
{% macro listagg_first(measure, delimiter_text, order_by_clause, limit_num) -%}
{{ return(adapter.dispatch('listagg_first', 'mlcost')(measure, delimiter_text, order_by_clause, limit_num)) }}
{%- endmacro %}
{% macro default__listagg_first(measure, delimiter_text, order_by_clause, limit_num) -%}
{{ dbt.listagg(measure, delimiter_text, order_by_clause, limit_num) }}
{%- endmacro %}
{% macro bigquery__listagg_first(measure, delimiter_text, order_by_clause, limit_num) -%}
nullif(array_to_string(array_agg({{ measure }} ignore nulls {{ order_by_clause }} limit {{ limit_num }}), {{ delimiter_text }}), '')
{%- endmacro %}

{#- The columns of a grain as one text, '|'-separated, null as '~' (hashed into surrogate keys). -#}
{% macro grain_text(columns) -%}
concat({% for c in columns %}coalesce(cast({{ c }} as {{ dbt.type_string() }}), '~'){% if not loop.last %}, '|', {% endif %}{% endfor %})
{%- endmacro %}

{#- Date arithmetic on DATE values (DuckDB: date - integer is a date, date - date days). -#}
{% macro date_minus_days(expr, n) -%}{{ return(adapter.dispatch('date_minus_days', 'mlcost')(expr, n)) }}{%- endmacro %}
{% macro default__date_minus_days(expr, n) -%}{{ expr }} - {{ n }}{%- endmacro %}
{% macro bigquery__date_minus_days(expr, n) -%}date_sub({{ expr }}, interval {{ n }} day){%- endmacro %}

{% macro days_between(end_date, start_date) -%}{{ return(adapter.dispatch('days_between', 'mlcost')(end_date, start_date)) }}{%- endmacro %}
{% macro default__days_between(end_date, start_date) -%}{{ end_date }} - {{ start_date }}{%- endmacro %}
{% macro bigquery__days_between(end_date, start_date) -%}date_diff({{ end_date }}, {{ start_date }}, day){%- endmacro %}

{#- A month written YYYYMM (GCP invoice.month) as the timestamp of its first day. -#}
{% macro yyyymm_start(expr) -%}{{ return(adapter.dispatch('yyyymm_start', 'mlcost')(expr)) }}{%- endmacro %}
{% macro default__yyyymm_start(expr) -%}(strptime({{ expr }}, '%Y%m'))::timestamp{%- endmacro %}
{% macro bigquery__yyyymm_start(expr) -%}cast(parse_date('%Y%m', {{ expr }}) as timestamp){%- endmacro %}

{#- {"InstanceType": "..."} as JSON text. -#}
{% macro json_object_text(key, value) -%}{{ return(adapter.dispatch('json_object_text', 'mlcost')(key, value)) }}{%- endmacro %}
{% macro default__json_object_text(key, value) -%}to_json(struct_pack({{ key }} := {{ value }}))::varchar{%- endmacro %}
{% macro bigquery__json_object_text(key, value) -%}to_json_string(json_object('{{ key }}', {{ value }})){%- endmacro %}

{#- `name as {{ inline_cte() }} (...)` for a wide CTE that several parts of a query read:
    DuckDB materializes such a CTE by default, which at 10M CUR rows means holding every
    column in memory and spilling (2x slower, docs/benchmarks.md); inlined, each reader scans
    only what it needs. BigQuery inlines CTEs anyway and has no such keyword. -#}
{% macro inline_cte() -%}{{ return(adapter.dispatch('inline_cte', 'mlcost')()) }}{%- endmacro %}
{% macro default__inline_cte() -%}not materialized{%- endmacro %}
{% macro bigquery__inline_cte() -%}{%- endmacro %}

{#- How far two sums of money may differ and still be equal: 0 (exact) everywhere but on the
    BigQuery emulator, whose NUMERIC holds 9 decimals, so values the Python stages push there
    (variance effects) are each rounded to 9 decimals and their sums can miss by a few 1e-9
    (docs/bigquery.md, "What the emulator cannot show"). -#}
{% macro money_tolerance() -%}
    {{ '0.00000001' if target.name == 'emulator' else '0' }}
{%- endmacro %}
