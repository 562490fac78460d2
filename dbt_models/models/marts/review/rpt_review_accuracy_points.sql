{#- The review's forecast track record point by point (docs/review-marts.md): each locked
    snapshot's total forecast for each closed month against the actual, with its horizon. -#}
with scored as (
    select * from {{ ref('int_review__accuracy_scored') }}
),

final as (
    select
        quarter,
        snapshot_id,
        locked_quarter,
        as_of_month,
        is_retroactive_lock,
        scenario,
        month,
        horizon,
        point,
        lo_80,
        hi_80,
        lo_95,
        hi_95,
        actual,
        error,
        abs_pct_error,
        in_band_80,
        in_band_95
    from scored
    where level = 'total'
)

select * from final
