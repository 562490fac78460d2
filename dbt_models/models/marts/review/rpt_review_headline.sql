{#- The review pack's headline (docs/review-marts.md): per quarter with cost data, the total
    and each team's actual vs locked forecast vs budget, with materiality and flags.
    A quarter the variance has judged (variance.quarterly_variance, complete quarters) takes
    its numbers from there unchanged, so the total equals `mlcost export variance` to the
    cent. Any other quarter (running, or without a lock) is compared here to date: actuals of
    its months with cost data against its lock's plan for those months and the budget
    prorated by months with data / 3 (comparison_basis 'months_to_date' unless all three
    months have data). -#}
with calendar as (
    select * from {{ ref('dim_calendar') }}
),

-- One row per quarter (both flags are per quarter in dim_calendar, the rule's one owner).
quarters as (
    select
        quarter,
        is_quarter_complete,
        max(months_in_quarter_with_data) as months_with_data
    from calendar
    group by quarter, is_quarter_complete
    having max(months_in_quarter_with_data) > 0
),

data_through as (
    select
        c.quarter,
        max(d.charge_date) as data_through
    from {{ ref('fct_costs_daily') }} as d
    inner join calendar as c on d.billing_month = c.month
    group by c.quarter
),

monthly as (
    select
        c.quarter,
        m.team,
        m.billing_currency,
        m.effective_cost
    from {{ ref('fct_costs_monthly') }} as m
    inner join calendar as c on m.billing_month = c.month
),

currencies as (
    select
        quarter,
        case
            when count(distinct billing_currency) > 1 then 'MIXED'
            else max(billing_currency)
        end as currency
    from monthly
    group by quarter
),

variance as (
    {{ optional_source('variance', 'quarterly_variance', [
        ('quarter', 'string'), ('level', 'string'), ('team', 'string'),
        ('snapshot_id', 'string'), ('currency', 'string'), ('actual_cost', 'money'),
        ('forecast_cost', 'money'), ('budget_amount', 'money'),
        ('variance_vs_forecast', 'money'), ('variance_vs_forecast_pct', 'pct'),
        ('variance_vs_budget', 'money'), ('variance_vs_budget_pct', 'pct')]) }}
),

judged as (
    select distinct quarter
    from variance
    where level = 'total'
),

locks as (
    {{ optional_source('forecast', 'forecast_locks', [
        ('quarter', 'string'), ('snapshot_id', 'string')]) }}
),

forecast_values as (
    {{ optional_source('forecast', 'forecast_values', [
        ('snapshot_id', 'string'), ('scenario', 'string'), ('level', 'string'),
        ('team', 'string'), ('month', 'date'), ('point', 'money')]) }}
),

-- Quarters compared here: with cost data, not judged by the variance.
open_quarters as (
    select
        quarter,
        months_with_data
    from quarters
    where quarter not in (select j.quarter from judged as j)
),

-- Their lock's segment plan over the months with cost data (segments add up to every level).
lock_values as (
    select
        l.quarter,
        l.snapshot_id,
        v.scenario,
        v.team,
        v.point
    from locks as l
    inner join open_quarters as o on l.quarter = o.quarter
    inner join forecast_values as v on l.snapshot_id = v.snapshot_id
    inner join calendar as c on v.month = c.month and l.quarter = c.quarter
    where
        v.level = 'segment'
        and v.scenario in ('base', 'baseline')
        and c.has_cost_data
),

-- The base case; a snapshot from before scenarios has only baseline (as the variance reads it).
lock_plans as (
    select
        quarter,
        snapshot_id,
        case when {{ bool_or("scenario = 'base'") }} then 'base' else 'baseline' end as scenario
    from lock_values
    group by quarter, snapshot_id
),

plan_by_team as (
    select
        v.quarter,
        v.team,
        sum(v.point) as forecast_cost
    from lock_values as v
    inner join lock_plans as p on v.quarter = p.quarter and v.scenario = p.scenario
    group by v.quarter, v.team
),

actual_by_team as (
    select
        quarter,
        team,
        sum(effective_cost) as actual_cost
    from monthly
    where quarter in (select o.quarter from open_quarters as o)
    group by quarter, team
),

budgets as (
    select
        fiscal_quarter as quarter,
        team,
        sum(budget_amount) as budget_amount
    from {{ ref('fct_budgets') }}
    where fiscal_quarter in (select o.quarter from open_quarters as o)
    group by fiscal_quarter, team
),

open_teams as (
    select distinct
        quarter,
        team
    from (
        select
            quarter,
            team
        from actual_by_team
        union all
        select
            quarter,
            team
        from plan_by_team
        union all
        select
            quarter,
            team
        from budgets
    ) as team_keys
),

open_team_rows as (
    select
        t.quarter,
        t.team,
        p.snapshot_id,
        {{ money('coalesce(a.actual_cost, 0)') }} as actual_cost,
        -- With a plan for the quarter, a team it did not plan for is planned at 0.
        {{ money('case when p.quarter is not null then coalesce(f.forecast_cost, 0) end') }}
            as forecast_cost,
        -- Budget to date: the quarter's budget x months with data / 3, to the cent.
        {{ money(to_decimal('round(b.budget_amount * o.months_with_data / 3, 2)', 38, 2)) }}
            as budget_amount
    from open_teams as t
    inner join open_quarters as o on t.quarter = o.quarter
    left join actual_by_team as a on t.quarter = a.quarter and t.team = a.team
    left join plan_by_team as f on t.quarter = f.quarter and t.team = f.team
    left join lock_plans as p on t.quarter = p.quarter
    left join budgets as b on t.quarter = b.quarter and t.team = b.team
),

open_total_rows as (
    select
        quarter,
        max(snapshot_id) as snapshot_id,
        sum(actual_cost) as actual_cost,
        sum(forecast_cost) as forecast_cost,
        sum(budget_amount) as budget_amount
    from open_team_rows
    group by quarter
),

open_rows as (
    select
        quarter,
        'total' as level,
        cast(null as {{ dbt.type_string() }}) as team,
        snapshot_id,
        actual_cost,
        forecast_cost,
        budget_amount
    from open_total_rows
    union all
    select
        quarter,
        'team' as level,
        team,
        snapshot_id,
        actual_cost,
        forecast_cost,
        budget_amount
    from open_team_rows
),

compared as (
    select
        r.quarter,
        r.level,
        r.team,
        cur.currency,
        r.actual_cost,
        r.forecast_cost,
        r.budget_amount,
        {{ money('r.actual_cost - r.forecast_cost') }} as variance_vs_forecast,
        {{ pct_of('r.actual_cost - r.forecast_cost', 'r.forecast_cost') }}
            as variance_vs_forecast_pct,
        {{ money('r.actual_cost - r.budget_amount') }} as variance_vs_budget,
        {{ pct_of('r.actual_cost - r.budget_amount', 'r.budget_amount') }}
            as variance_vs_budget_pct,
        r.snapshot_id,
        case
            when o.months_with_data = 3 then 'quarter' else 'months_to_date'
        end as comparison_basis
    from open_rows as r
    inner join open_quarters as o on r.quarter = o.quarter
    left join currencies as cur on r.quarter = cur.quarter
    union all
    select
        quarter,
        level,
        team,
        currency,
        actual_cost,
        forecast_cost,
        budget_amount,
        variance_vs_forecast,
        variance_vs_forecast_pct,
        variance_vs_budget,
        variance_vs_budget_pct,
        snapshot_id,
        'quarter' as comparison_basis
    from variance
    where level in ('total', 'team')
),

flagged as (
    select
        c.*,
        {{ is_material('c.variance_vs_forecast', 'c.variance_vs_forecast_pct') }}
            as is_material_vs_forecast,
        {{ is_material('c.variance_vs_budget', 'c.variance_vs_budget_pct') }}
            as is_material_vs_budget
    from compared as c
),

final as (
    select
        f.quarter,
        f.level,
        f.team,
        f.currency,
        f.actual_cost,
        f.forecast_cost,
        f.budget_amount,
        f.variance_vs_forecast,
        f.variance_vs_forecast_pct,
        f.variance_vs_budget,
        f.variance_vs_budget_pct,
        f.is_material_vs_forecast,
        f.is_material_vs_budget,
        {{ variance_flag('f.variance_vs_forecast', 'f.is_material_vs_forecast', 'on_plan',
                         'no_forecast') }} as forecast_flag,
        {{ variance_flag('f.variance_vs_budget', 'f.is_material_vs_budget', 'on_budget',
                         'no_budget') }} as budget_flag,
        {{ materiality_amount_column() }} as materiality_amount,
        {{ materiality_pct_column() }} as materiality_pct,
        cast(q.months_with_data as {{ dbt.type_int() }}) as months_with_data,
        q.is_quarter_complete,
        d.data_through,
        f.snapshot_id,
        f.comparison_basis
    from flagged as f
    inner join quarters as q on f.quarter = q.quarter
    left join data_through as d on f.quarter = d.quarter
)

select * from final
