{#- The lines of the reviewed actions file that were ignored, each with the paragraph naming
    the file, row, column and problem (docs/bad-input.md). Empty when every line applies. -#}
with checked as (
    select * from {{ ref('int_recommendation_actions_checked') }}
),

final as (
    select
        file_id,
        source_path,
        source_row_number,
        recommendation_id,
        status,
        status_date,
        problem
    from checked
    where problem is not null
)

select * from final
