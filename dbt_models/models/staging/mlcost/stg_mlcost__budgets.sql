{#- One row per landed budget line, renamed and typed. Which delivery counts (finance re-issues
    budgets) is decided by fct_budgets, the only reader. -#}
with source as (
    select * from {{ source('raw', 'budgets') }}
),

renamed as (
    select
        upper(trim(fiscal_quarter)) as fiscal_quarter,
        _billing_period as quarter_start,
        team,
        {{ money('budget_amount') }} as budget_amount,
        upper(trim(currency)) as currency,
        _loaded_at as loaded_at,
        _file_id as file_id,
        _row_number as row_number
    from source
)

select * from renamed
