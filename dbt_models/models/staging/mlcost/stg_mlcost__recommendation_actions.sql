{#- One row per line of the current reviewed actions file (docs/recommendations.md), renamed
    and typed. The latest loaded file replaces the earlier ones; its lines are judged, one by
    one, in int_recommendation_actions_checked. -#}
with source as (
    select * from {{ source('raw', 'recommendation_actions') }}
),

current_files as (
    -- The reviewed file is one list: the latest loaded file replaces the earlier ones (edit
    -- it in place or land a new one). Ingest supersedes billing slices only.
    select
        file_id,
        path
    from (
        select
            file_id,
            path,
            row_number() over (order by loaded_at desc, file_id desc) as file_rank
        from {{ source('meta', 'load_ledger') }}
        where family = 'recommendation_actions' and status = 'loaded'
    ) as ranked
    where file_rank = 1
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
