{#- Forecast accuracy by horizon (docs/review-marts.md): per level (total, team), horizon
    (months ahead, 1-18) and scope (`all` months, or the months of one quarter), pooled over
    every locked snapshot: WAPE = sum |error| / sum |actual| (a fraction), bias_pct =
    100 x sum error / sum actual (positive = actuals above the forecast), and the share of
    actuals inside the 80% and 95% bands. -#}
with scored as (
    select * from {{ ref('int_review__accuracy_scored') }}
),

scoped as (
    select
        scored.quarter as quarter_scope,
        scored.*
    from scored
    union all
    select
        'all' as quarter_scope,
        scored.*
    from scored
),

final as (
    select
        level,
        horizon,
        quarter_scope,
        cast(count(*) as {{ dbt.type_int() }}) as n_points,
        {{ to_decimal('sum(abs(error)) / nullif(sum(abs(actual)), 0)', 38, 12) }} as wape,
        {{ to_decimal('100 * sum(error) / nullif(sum(actual), 0)', 38, 12) }} as bias_pct,
        {{ to_decimal('sum(case when in_band_80 then 1 else 0 end) / count(*)', 38, 12) }}
            as coverage_80,
        {{ to_decimal('sum(case when in_band_95 then 1 else 0 end) / count(*)', 38, 12) }}
            as coverage_95,
        cast(count(distinct snapshot_id) as {{ dbt.type_int() }}) as snapshots,
        min(month) as first_month,
        max(month) as last_month
    from scoped
    group by level, horizon, quarter_scope
)

select * from final
