{#- Budgets per team and fiscal quarter: the only reader of stg_mlcost__budgets, itself the only
    reader of the landed budgets file. Variance and the report read budgets from here. -#}
with budgets as (
    select * from {{ ref('stg_mlcost__budgets') }}
),

final as (
    select
        {{ md5_hex("upper(trim(fiscal_quarter)) || '|' || team") }} as budget_id,
        upper(trim(fiscal_quarter)) as fiscal_quarter,
        quarter_start,
        team,
        upper(trim(currency)) as currency,
        cast(budget_amount as {{ money_type() }}) as budget_amount,
        loaded_at,
        file_id
    from budgets
    -- A row without an amount sets no budget (ingest rejects amounts that are not numbers).
    where budget_amount is not null
)

select * from final
