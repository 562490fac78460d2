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
        quarter as quarter_scope,
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
        cast(
            sum(abs(error)) / nullif(sum(abs(actual)), 0) as decimal(38, 12)
        ) as wape,
        cast(100 * sum(error) / nullif(sum(actual), 0) as decimal(38, 12)) as bias_pct,
        cast(
            avg(case when in_band_80 then 1.0 else 0.0 end) as decimal(38, 12)
        ) as coverage_80,
        cast(
            avg(case when in_band_95 then 1.0 else 0.0 end) as decimal(38, 12)
        ) as coverage_95,
        cast(count(distinct snapshot_id) as {{ dbt.type_int() }}) as snapshots,
        min(month) as first_month,
        max(month) as last_month
    from scoped
    group by level, horizon, quarter_scope
)

select * from final
