{#- Rows of a raw table that belong to the current delivery of their (provider, billing
    account, billing period, currency) slice, with the lineage of the file they came from.
    Superseded deliveries stay in raw for audit but never reach staging. -#}
{% macro current_raw_rows(table_name) -%}
select
    r.*,
    d.dataset_type as _dataset_type,
    l.path as _source_path,
    l.source_format as _source_format,
    l.schema_version as _schema_version
from {{ source('raw', table_name) }} as r
inner join {{ source('meta', 'deliveries') }} as d
    on d.file_id = r._file_id
    and d.provider = r._provider
    and d.billing_account_id is not distinct from r._billing_account_id
    and d.billing_period = r._billing_period
    and d.currency is not distinct from r._currency
    and d.is_current
inner join {{ source('meta', 'load_ledger') }} as l
    on l.file_id = r._file_id
    and l.status = 'loaded'
where {{ billing_period_window('r._billing_period') }}
{%- endmacro %}

{#- The lineage every staged row carries, from current_raw_rows(). -#}
{% macro lineage_columns() -%}
_file_id as file_id,
        _row_number as source_row_number,
        _source_path as source_path,
        _source_format as source_format,
        _schema_version as schema_version,
        _loaded_at as loaded_at,
        _billing_period as billing_period
{%- endmacro %}
