{#- Budgets per team and fiscal quarter: the only reader of stg_mlcost__budgets, itself the only
    reader of the landed budgets file. Variance and the report read budgets from here.
    Finance re-issues budgets: the latest delivery holding a (quarter, team) wins, and the lines
    it gives for that quarter and team add up (a budget may arrive split into several lines). -#}
with budgets as (
    select * from {{ ref('stg_mlcost__budgets') }}
    -- A row without an amount sets no budget (ingest rejects amounts that are not numbers).
    where budget_amount is not null
),

deliveries as (
    select distinct
        fiscal_quarter,
        team,
        file_id,
        loaded_at
    from budgets
),

latest_delivery as (
    select
        fiscal_quarter,
        team,
        file_id
    from (
        select
            *,
            row_number() over (
                partition by fiscal_quarter, team order by loaded_at desc, file_id desc
            ) as delivery_rank
        from deliveries
    ) as ranked
    where delivery_rank = 1
),

final as (
    select
        {{ md5_hex("b.fiscal_quarter || '|' || b.team") }} as budget_id,
        b.fiscal_quarter,
        min(b.quarter_start) as quarter_start,
        b.team,
        min(b.currency) as currency,
        count(distinct b.currency) as currency_count,
        cast(sum(b.budget_amount) as {{ money_type() }}) as budget_amount,
        count(*) as budget_lines,
        max(b.loaded_at) as loaded_at,
        b.file_id
    from budgets as b
    inner join latest_delivery as l
        on
            b.fiscal_quarter = l.fiscal_quarter
            and b.team = l.team
            and b.file_id is not distinct from l.file_id
    group by b.fiscal_quarter, b.team, b.file_id
)

select * from final
