{#- Recommendations (docs/recommendations.md). Every source model of fct_recommendations
    returns these columns, in this order. -#}
{% macro recommendation_columns() -%}
    {{ return(['recommendation_id', 'recommendation_type', 'provider', 'team', 'ml_model',
               'resource_id', 'scope', 'action', 'owner', 'evidence',
               'estimated_monthly_saving', 'saving_basis', 'billing_currency', 'source_month',
               'period_start', 'period_end']) }}
{%- endmacro %}

{#- The stable id of a recommendation: md5 of its type, provider and key (a resource id, or
    team|gpu_type, instance type, commitment type), never of its figures, so a status in the
    actions file keeps applying when the numbers move. Python's twin for the demo generator:
    lib/generate/recommendation_actions.py (recommendation_id). -#}
{% macro recommendation_id(recommendation_type, provider, key) -%}
{{ md5_hex(recommendation_type ~ " || '|' || " ~ provider ~ " || '|' || " ~ key) }}
{%- endmacro %}

{#- One parameter of the seed recommendation_parameters, for the run's reference set. -#}
{% macro recommendation_param(parameter) -%}
(select max(value) from ({{ reference_rows('recommendation_parameters') }}) as rp where rp.parameter = '{{ parameter }}')
{%- endmacro %}

{#- A relation another part of mlcost writes (a Python asset, another mart) that may not exist
    yet: the relation when it does, else none; the caller then selects no rows. -#}
{% macro optional_relation(schema, identifier) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- if not flags.INTROSPECT -%}
        {#- An offline compile (`--no-introspect`, the BigQuery CI target) cannot look: compile
            as if the table existed, so the SQL that reads it is checked too. -#}
        {{ return(api.Relation.create(database=target.database, schema=schema, identifier=identifier)) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=target.database, schema=schema, identifier=identifier)) }}
{%- endmacro %}

{#- Saturday or Sunday. -#}
{% macro is_weekend(expr) -%}{{ return(adapter.dispatch('is_weekend', 'mlcost')(expr)) }}{%- endmacro %}
{% macro default__is_weekend(expr) -%}(dayofweek({{ expr }}) in (0, 6)){%- endmacro %}
{% macro bigquery__is_weekend(expr) -%}(extract(dayofweek from {{ expr }}) in (1, 7)){%- endmacro %}

{#- No rows, typed like recommendation_columns(): a source whose input does not exist yet. -#}
{% macro no_recommendations() -%}
select
    cast(null as {{ dbt.type_string() }}) as recommendation_id,
    cast(null as {{ dbt.type_string() }}) as recommendation_type,
    cast(null as {{ dbt.type_string() }}) as provider,
    cast(null as {{ dbt.type_string() }}) as team,
    cast(null as {{ dbt.type_string() }}) as ml_model,
    cast(null as {{ dbt.type_string() }}) as resource_id,
    cast(null as {{ dbt.type_string() }}) as scope,
    cast(null as {{ dbt.type_string() }}) as action,
    cast(null as {{ dbt.type_string() }}) as owner,
    cast(null as {{ dbt.type_string() }}) as evidence,
    cast(null as {{ money_type() }}) as estimated_monthly_saving,
    cast(null as {{ dbt.type_string() }}) as saving_basis,
    cast(null as {{ dbt.type_string() }}) as billing_currency,
    cast(null as date) as source_month,
    cast(null as date) as period_start,
    cast(null as date) as period_end
from (select 1 as no_row) as empty_input
where 1 = 0
{%- endmacro %}

{#- The statuses a line of the actions file may give (docs/recommendations.md). -#}
{% macro recommendation_statuses() -%}
    {{ return(['open', 'accepted', 'in_progress', 'done', 'rejected']) }}
{%- endmacro %}

{#- A single-quote character as an SQL expression (a doubled quote in a literal is not BigQuery). -#}
{% macro single_quote() -%}{{ return(adapter.dispatch('single_quote', 'mlcost')()) }}{%- endmacro %}
{% macro default__single_quote() -%}chr(39){%- endmacro %}
{#- A double-quoted string literal (BigQuery strings take either quote; the emulator has no
    CODE_POINTS_TO_STRING). -#}
{% macro bigquery__single_quote() -%}"'"{%- endmacro %}
