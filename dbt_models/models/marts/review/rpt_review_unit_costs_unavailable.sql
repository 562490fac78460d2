{#- The unit costs of each quarter that cannot be computed, with the reason
    (docs/review-marts.md): the rows of marts.fct_unit_costs with is_available false, per
    quarter, team, ML model, workload, unit, unit detail and currency; the reason is the latest
    month's, and months_unavailable says how many of the quarter's months it covers. -#}
with unit_costs as (
    select * from {{ ref('fct_unit_costs') }}
),

unavailable as (
    select
        {{ quarter_label('month') }} as quarter,
        unit_costs.*
    from unit_costs
    where not unit_costs.is_available
),

final as (
    select
        quarter,
        ml_model,
        team,
        unit,
        unit_detail,
        workload,
        {{ arg_max('unavailable_reason', 'month') }} as reason,
        cast(count(distinct month) as {{ dbt.type_int() }}) as months_unavailable,
        sum(cost) as cost,
        billing_currency
    from unavailable
    group by quarter, ml_model, team, unit, unit_detail, workload, billing_currency
)

select * from final
