{#- The facts behind each commentary sentence (docs/review-marts.md, "Commentary facts"): one
    row per material variance of rpt_review_bridge (total, team, team x model) with its
    direction, its dominant effect and its top driver (fct_variance_drivers: the rank-1
    resource, else the rank-1 SKU; none for the total, which has no drivers). The report turns
    each row into one sentence, in fact_rank order (the total first, then by abs variance).
    Every number is copied from the table named in source_table, never recomputed. -#}
with bridge as (
    select * from {{ ref('rpt_review_bridge') }}
    where is_material
),

-- One row per effect (unpivoted), in bridge order.
effects as (
    select
        quarter,
        level,
        team,
        ml_model,
        'volume_effect' as effect,
        volume_effect as amount,
        1 as effect_order
    from bridge
    union all
    select
        quarter,
        level,
        team,
        ml_model,
        'mix_effect' as effect,
        mix_effect as amount,
        2 as effect_order
    from bridge
    union all
    select
        quarter,
        level,
        team,
        ml_model,
        'price_effect' as effect,
        price_effect as amount,
        3 as effect_order
    from bridge
    union all
    select
        quarter,
        level,
        team,
        ml_model,
        'commitment_effect' as effect,
        commitment_effect as amount,
        4 as effect_order
    from bridge
    union all
    select
        quarter,
        level,
        team,
        ml_model,
        'new_discontinued_effect' as effect,
        new_discontinued_effect as amount,
        5 as effect_order
    from bridge
    union all
    select
        quarter,
        level,
        team,
        ml_model,
        'unquantified_effect' as effect,
        unquantified_effect as amount,
        6 as effect_order
    from bridge
),

-- Ties go to the effect listed first (volume, mix, price, commitment, new/discontinued,
-- unquantified).
dominant as (
    select
        quarter,
        level,
        team,
        ml_model,
        effect,
        amount,
        row_number() over (
            partition by quarter, level, team, ml_model
            order by abs(amount) desc, effect_order asc
        ) as effect_rank
    from effects
),

drivers as (
    select
        quarter,
        team,
        ml_model,
        driver_kind,
        driver_key,
        delta_cost,
        expected_cost,
        row_number() over (
            partition by quarter, team, ml_model
            order by case when driver_kind = 'resource' then 0 else 1 end
        ) as pick
    from {{ ref('fct_variance_drivers') }}
    where driver_rank = 1
),

facts as (
    select
        b.quarter,
        b.level,
        b.team,
        b.ml_model,
        b.currency,
        b.variance_vs_forecast,
        b.variance_vs_forecast_pct,
        case when b.variance_vs_forecast > 0 then 'over' else 'under' end as direction,
        e.effect as dominant_effect,
        e.amount as dominant_effect_amount,
        d.driver_key as top_driver_key,
        d.driver_kind as top_driver_kind,
        d.delta_cost as top_driver_delta,
        {{ pct_of('d.delta_cost', 'd.expected_cost', 38) }} as top_driver_growth_pct,
        'marts.rpt_review_bridge (from variance.quarterly_variance)'
        || case when d.driver_key is not null then '; marts.fct_variance_drivers' else '' end
            as source_table
    from bridge as b
    inner join dominant as e
        on
            b.quarter = e.quarter
            and b.level = e.level
            and coalesce(b.team, '') = coalesce(e.team, '')
            and coalesce(b.ml_model, '') = coalesce(e.ml_model, '')
            and e.effect_rank = 1
    left join drivers as d
        on
            b.quarter = d.quarter
            and b.team = d.team
            and d.pick = 1
            and (
                (b.level = 'team' and d.ml_model is null)
                or (b.level = 'team_model' and b.ml_model = d.ml_model)
            )
),

final as (
    select
        quarter,
        level,
        team,
        ml_model,
        currency,
        variance_vs_forecast,
        variance_vs_forecast_pct,
        direction,
        dominant_effect,
        dominant_effect_amount,
        top_driver_key,
        top_driver_kind,
        top_driver_delta,
        top_driver_growth_pct,
        cast(row_number() over (
            partition by quarter
            order by
                case when level = 'total' then 0 else 1 end asc,
                abs(variance_vs_forecast) desc,
                level asc,
                team asc,
                ml_model asc
        ) as {{ dbt.type_int() }}) as fact_rank,
        source_table
    from facts
)

select * from final
