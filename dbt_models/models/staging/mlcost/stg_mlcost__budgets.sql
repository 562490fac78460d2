{#- Budgets are re-issued by finance; the latest load of a (quarter, team) wins. -#}
with source as (
    select * from {{ source('raw', 'budgets') }}
),

renamed as (
    select
        upper(fiscal_quarter) as fiscal_quarter,
        _billing_period as quarter_start,
        team,
        {{ money('budget_amount') }} as budget_amount,
        currency,
        _loaded_at as loaded_at,
        _file_id as file_id
    from source
),

final as (
    select * {{ star_except(['rn']) }}
    from (
        select
            *,
            row_number() over (
                partition by fiscal_quarter, team order by loaded_at desc, file_id desc
            ) as rn
        from renamed
    ) as ranked
    where rn = 1
)

select * from final
