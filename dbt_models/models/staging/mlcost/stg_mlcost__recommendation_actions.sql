{#- One row per line of the current reviewed actions file (docs/recommendations.md), renamed
    and typed. The latest landed file replaces the earlier ones (ingest keeps one slice for the
    family); its lines are judged, one by one, in int_recommendation_actions_checked. -#}
with source as (
    select * from {{ source('raw', 'recommendation_actions') }}
),

current_files as (
    select distinct
        d.file_id,
        l.path
    from {{ source('meta', 'deliveries') }} as d
    inner join {{ source('meta', 'load_ledger') }} as l
        on
            d.file_id = l.file_id
            and l.status = 'loaded'
    where
        d.provider = 'actions'
        and d.is_current
),

renamed as (
    select
        {{ nullif_blank('s.recommendation_id') }} as recommendation_id,
        lower({{ nullif_blank('s.status') }}) as status,
        {{ nullif_blank('s.date') }} as status_date_text,
        {{ parse_date(nullif_blank('s.date')) }} as status_date,
        {{ nullif_blank('s.note') }} as note,
        {{ nullif_blank('s.reviewer') }} as reviewer,
        s._file_id as file_id,
        f.path as source_path,
        s._row_number as source_row_number,
        s._loaded_at as loaded_at
    from source as s
    inner join current_files as f
        on s._file_id = f.file_id
)

select * from renamed
