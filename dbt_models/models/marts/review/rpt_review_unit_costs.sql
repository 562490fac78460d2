{#- Unit-cost trends by quarter (docs/review-marts.md): marts.fct_unit_costs summed over the
    available months of each quarter, cost_per_unit = cost / units over the quarter (not an
    average of monthly ratios), beside the previous quarter's ratio for the same team, model,
    workload, unit, unit detail and currency and the change in percent. Months where the unit
    is unavailable are left out of both sums (rpt_review_unit_costs_unavailable lists them). -#}
with unit_costs as (
    select * from {{ ref('fct_unit_costs') }}
),

monthly as (
    select
        {{ quarter_label('month') }} as quarter,
        cast({{ dbt.date_trunc('quarter', 'month') }} as date) as quarter_start,
        unit_costs.*
    from unit_costs
    where unit_costs.is_available
),

quarterly as (
    select
        quarter,
        quarter_start,
        ml_model,
        team,
        workload,
        unit,
        unit_detail,
        billing_currency,
        sum(units) as units,
        sum(cost) as cost,
        cast(count(distinct month) as {{ dbt.type_int() }}) as months_available
    from monthly
    group by
        quarter, quarter_start, ml_model, team, workload, unit, unit_detail, billing_currency
),

with_ratio as (
    select
        quarterly.*,
        {{ unit_ratio('cost', 'units') }} as cost_per_unit
    from quarterly
),

-- The same row one quarter earlier, whatever came before it.
lagged as (
    select
        *,
        lag(quarter_start) over grain_by_quarter as prev_quarter_start,
        lag(cost_per_unit) over grain_by_quarter as prev_cost_per_unit
    from with_ratio
    window grain_by_quarter as (
        partition by ml_model, team, workload, unit, unit_detail, billing_currency
        order by quarter_start
    )
),

-- Only the quarter right before counts as "previous": a gap is not a trend.
with_previous as (
    select
        *,
        case
            when prev_quarter_start = cast({{ dbt.dateadd('month', -3, 'quarter_start') }} as date)
                then prev_cost_per_unit
        end as prev_quarter_cost_per_unit
    from lagged
),

final as (
    select
        quarter,
        ml_model,
        team,
        workload,
        unit,
        unit_detail,
        units,
        cost,
        cost_per_unit,
        billing_currency,
        months_available,
        prev_quarter_cost_per_unit,
        {{ to_decimal(
            '100 * (cost_per_unit - prev_quarter_cost_per_unit)'
            ~ ' / nullif(prev_quarter_cost_per_unit, 0)', 38, 6) }} as change_pct
    from with_previous
)

select * from final
