{#- The status of each recommendation named by a usable line of the actions file: its latest
    line by date (a later row of the file wins a tie), so the file can keep a history. -#}
with checked as (
    select * from {{ ref('int_recommendation_actions_checked') }}
    where problem is null
),

final as (
    select
        recommendation_id,
        status,
        status_date,
        note,
        reviewer
    from (
        select
            *,
            row_number() over (
                partition by recommendation_id
                order by status_date desc, source_row_number desc
            ) as line_rank
        from checked
    ) as ranked
    where line_rank = 1
)

select * from final
