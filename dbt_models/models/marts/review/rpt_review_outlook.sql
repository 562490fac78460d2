{#- The review's 18-month outlook (docs/review-marts.md): the latest forecast snapshot (latest
    as-of month, then creation time, then id -- the rule of lib/planning and lib/whatif) at the
    total level, one row per scenario and month: base, best and worst, or baseline for a
    snapshot without scenarios; plus the actuals of the 12 months up to the as-of month as
    scenario `actual` (bands null). -#}
with snapshots as (
    {#- optional: no forecast yet (too little history) gives an empty outlook, not an error -#}
    {{ optional_source('forecast', 'forecast_snapshots', [
        ('snapshot_id', 'string'), ('as_of_month', 'date'), ('currencies', 'string'),
        ('created_at', 'timestamp')]) }}
),

forecast_values as (
    {{ optional_source('forecast', 'forecast_values', [
        ('snapshot_id', 'string'), ('scenario', 'string'), ('level', 'string'),
        ('month', 'date'), ('step', 'int'), ('point', 'money'), ('lo_80', 'money'),
        ('hi_80', 'money'), ('lo_95', 'money'), ('hi_95', 'money')]) }}
),

costs as (
    select * from {{ ref('fct_costs_monthly') }}
),

latest as (
    select
        snapshot_id,
        as_of_month,
        currencies
    from (
        select
            snapshot_id,
            as_of_month,
            currencies,
            row_number() over (
                order by as_of_month desc, created_at desc, snapshot_id desc
            ) as snapshot_rank
        from snapshots
    ) as ranked
    where snapshot_rank = 1
),

totals as (
    select forecast_values.*
    from forecast_values
    inner join latest on forecast_values.snapshot_id = latest.snapshot_id
    where forecast_values.level = 'total' and forecast_values.step between 1 and 18
),

has_scenarios as (
    select max(case when scenario = 'base' then 1 else 0 end) = 1 as has_base
    from totals
),

outlook as (
    select
        latest.snapshot_id,
        latest.as_of_month,
        totals.scenario,
        totals.month,
        {{ money('totals.point') }} as point,
        {{ money('totals.lo_80') }} as lo_80,
        {{ money('totals.hi_80') }} as hi_80,
        {{ money('totals.lo_95') }} as lo_95,
        {{ money('totals.hi_95') }} as hi_95,
        latest.currencies as currency
    from totals
    cross join latest
    cross join has_scenarios
    where
        (has_scenarios.has_base and totals.scenario in ('base', 'best', 'worst'))
        or (not has_scenarios.has_base and totals.scenario = 'baseline')
),

actuals as (
    select
        latest.snapshot_id,
        latest.as_of_month,
        'actual' as scenario,
        costs.billing_month as month,
        sum(costs.effective_cost) as point,
        cast(null as {{ money_type() }}) as lo_80,
        cast(null as {{ money_type() }}) as hi_80,
        cast(null as {{ money_type() }}) as lo_95,
        cast(null as {{ money_type() }}) as hi_95,
        latest.currencies as currency
    from costs
    cross join latest
    where
        costs.billing_month <= latest.as_of_month
        and costs.billing_month > cast({{ dbt.dateadd('month', -12, 'latest.as_of_month') }} as date)
    group by latest.snapshot_id, latest.as_of_month, costs.billing_month, latest.currencies
),

final as (
    select * from actuals
    union all
    select * from outlook
)

select * from final
