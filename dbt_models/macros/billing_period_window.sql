{#- Incremental-by-billing-period models (docs/operations.md). The window of the partitions
    being built: `billing_period_start` (inclusive) / `billing_period_end` (exclusive), first
    days of months, as dbt vars (`--vars`, for a hand-run dbt) or else as the environment
    variables MLCOST_BILLING_PERIOD_START / _END, which is how Dagster passes it
    (dagster_project/defs/dbt/assets.py): a changed var makes dbt re-parse the whole project.
    The environment is read only when executing: at parse time the window changes nothing dbt
    records (refs, configs), and a variable read then would make dbt re-parse every file that
    read it whenever its value changes (2-3 s a run). -#}

{#- Config of a model that grows with history: one billing period is replaced as a whole.
    DuckDB: delete+insert keyed on the period column. BigQuery: the table is partitioned by
    month on that column and the periods in the new data are overwritten. -#}
{% macro billing_period_incremental(column) -%}
    {%- set common = {'materialized': 'incremental', 'on_schema_change': 'fail'} -%}
    {%- if target.type == 'bigquery' -%}
        {%- do common.update({'incremental_strategy': 'insert_overwrite',
                              'partition_by': {'field': column, 'data_type': 'date',
                                               'granularity': 'month'}}) -%}
    {%- else -%}
        {%- do common.update({'incremental_strategy': 'delete+insert', 'unique_key': column,
                              'pre_hook': "{{ clear_billing_window('" ~ column ~ "') }}"}) -%}
    {%- endif -%}
    {{ return(common) }}
{%- endmacro %}

{#- Pre-hook of the DuckDB history models: empty the run's window before delete+insert, which
    only deletes the periods present in the new rows. Without it a period that lost every row
    (its only slice held back, rpt_held_back_slices; or a held-back verdict cleared by a fixed
    re-delivery) would keep its old rows. Runs in the model's transaction. -#}
{% macro clear_billing_window(column) -%}
    {%- if execute and not should_full_refresh() -%}
        {%- set existing = adapter.get_relation(this.database, this.schema, this.identifier) -%}
        {%- if existing is not none -%}
            delete from {{ this }} where {{ billing_period_window(adapter.quote(column)) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- A validated window bound (it is rendered into SQL, so only a month's first day passes). -#}
{% macro billing_period_bound(name) -%}
    {%- set value = var(name) -%}
    {%- if value is none and execute -%}
        {%- set value = env_var('MLCOST_' ~ name | upper, '') -%}
    {%- endif -%}
    {%- if value and not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-01', value | string) -%}
        {{ exceptions.raise_compiler_error(
            name ~ " = " ~ value ~ ": expected the first day of a month, YYYY-MM-01") }}
    {%- endif -%}
    {{ return(value | string if value else none) }}
{%- endmacro %}

{#- `column` within the window; `true` when no window is set (a full build). -#}
{% macro billing_period_window(column) -%}
    {%- set start = billing_period_bound('billing_period_start') -%}
    {%- set end = billing_period_bound('billing_period_end') -%}
    {%- if start or end -%}
        {%- if start %}{{ column }} >= cast('{{ start }}' as date){% endif -%}
        {%- if start and end %} and {% endif -%}
        {%- if end %}{{ column }} < cast('{{ end }}' as date){% endif -%}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
