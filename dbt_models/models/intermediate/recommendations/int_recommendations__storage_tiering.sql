{#- Storage tiering (docs/recommendations.md): stored resources with 0 read requests on each of
    their last storage_untouched_days billed days (the read_requests metric) move to the
    provider's cheaper class in the seed storage_tier_prices (public list prices, with their
    sources). Saving: the resource's daily cost over those days x days_per_month x (1 - the
    cheaper class's price / the current class's price).
    No double counting: a resource fct_idle_waste flags as orphaned storage in the window is
    left to that finding (archive or delete saves more than tiering). -#}
with resource_days as (
    select * from {{ ref('int_waste__resource_days') }}
    where is_storage_measured
),

waste as (
    select * from {{ ref('fct_idle_waste') }}
    where waste_type = 'orphaned_storage'
),

attributes as (
    select * from {{ ref('int_waste__resource_attributes') }}
),

prices as (
    {{ reference_rows('storage_tier_prices') }}
),

params as (
    select
        {{ recommendation_param('storage_untouched_days') }} as untouched_days,
        (
            select max(t.value) from {{ ref('waste_thresholds') }} as t
            where t.waste_type = 'all' and t.parameter = 'days_per_month'
        ) as days_per_month
),

ranked as (
    select
        d.*,
        row_number() over (
            partition by d.provider, d.resource_id order by d.usage_date desc
        ) as day_rank
    from resource_days as d
),

recent as (
    -- The last untouched_days billed days of each stored resource.
    select
        r.provider,
        r.resource_id,
        min(r.usage_date) as window_start,
        max(r.usage_date) as window_end,
        count(*) as billed_days,
        sum(r.day_cost) as window_cost,
        max(coalesce(r.read_requests, 0)) as max_reads,
        sum(case when r.read_requests is null then 1 else 0 end) as unmeasured_days
    from ranked as r
    cross join params as p
    where r.day_rank <= p.untouched_days
    group by r.provider, r.resource_id
),

untouched as (
    select c.*
    from recent as c
    cross join params as p
    where
        c.billed_days >= p.untouched_days
        and c.max_reads = 0
        and c.unmeasured_days = 0
        and not exists (
            select 1 from waste as f
            where
                f.provider = c.provider
                and f.resource_id = c.resource_id
                and f.period_end >= c.window_start
        )
),

final as (
    select
        {{ recommendation_id("'storage_tiering'", 'u.provider', 'u.resource_id') }} as recommendation_id,
        'storage_tiering' as recommendation_type,
        u.provider,
        coalesce(a.team, 'unallocated') as team,
        coalesce(a.ml_model, 'none') as ml_model,
        u.resource_id,
        'resource' as scope,
        'Move ' || coalesce(a.resource_name, u.resource_id) || ' from ' || s.from_class || ' to '
        || s.to_class || '; nothing read it for ' || cast(u.billed_days as {{ dbt.type_string() }})
        || ' days.' as action,
        coalesce(a.team, 'unallocated') as owner,
        '0 read requests on each of the ' || cast(u.billed_days as {{ dbt.type_string() }})
        || ' billed days from ' || cast(u.window_start as {{ dbt.type_string() }}) || ' to '
        || cast(u.window_end as {{ dbt.type_string() }}) || '; cost in those days '
        || cast(round(u.window_cost, 2) as {{ dbt.type_string() }}) || '; list price '
        || cast(s.from_price_per_gb_month as {{ dbt.type_string() }}) || ' -> '
        || cast(s.to_price_per_gb_month as {{ dbt.type_string() }}) || ' ' || s.currency
        || ' per GB-month (' || s.source || ')' as evidence,
        cast(
            round({{ money_mul('u.window_cost', to_decimal(
            'p.days_per_month / u.billed_days * (1 - s.to_price_per_gb_month / s.from_price_per_gb_month)', 38, 10)) }}, 2)
            as {{ money_type() }}
        ) as estimated_monthly_saving,
        'daily storage cost x days_per_month x (1 - cheaper class price / current class price), list prices of seeds/storage_tier_prices.csv' as saving_basis,
        a.billing_currency,
        {{ month_start('u.window_end') }} as source_month,
        u.window_start as period_start,
        u.window_end as period_end
    from untouched as u
    inner join prices as s
        on u.provider = s.provider
    cross join params as p
    left join attributes as a
        on
            u.provider = a.provider
            and u.resource_id = a.resource_id
)

select * from final
