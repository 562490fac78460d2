{#- The resources and SKUs behind each material variance (docs/review-marts.md, "Drivers").
    Parent: a material team or team x model row of rpt_review_bridge. Within it, a resource's
    (or SKU's) expected cost is the parent's forecast_cost x its share of the parent's
    effective cost over the three months up to and including the plan snapshot's as-of month;
    delta = actual - expected. Shares are rounded to 10 decimals and the driver with the
    largest reference cost takes the remainder, so the expected costs add up exactly to the
    forecast and the deltas of a parent (per kind) to its variance. A parent with no reference
    cost to spread its plan by gets one row '(plan without reference cost)' holding the plan.
    Every driver is kept (driver_rank 1 = largest abs delta), except rows with neither actual
    nor expected cost. -#}
with bridge as (
    select * from {{ ref('rpt_review_bridge') }}
),

snapshots as (
    {{ optional_source('forecast', 'forecast_snapshots', [
        ('snapshot_id', 'string'), ('as_of_month', 'date')]) }}
),

calendar as (
    select
        month,
        quarter
    from {{ ref('dim_calendar') }}
),

parents as (
    select
        {{ md5_hex(grain_text(['b.quarter', 'b.level', 'b.team', 'b.ml_model'])) }} as parent_key,
        b.quarter,
        b.level,
        b.team,
        case when b.level = 'team_model' then b.ml_model end as ml_model,
        b.currency,
        b.forecast_cost,
        b.variance_vs_forecast,
        s.as_of_month,
        cast({{ add_months('s.as_of_month', '(-2)') }} as date) as reference_start
    from bridge as b
    left join snapshots as s on b.snapshot_id = s.snapshot_id
    where b.is_material and b.level in ('team', 'team_model')
),

allocations as (
    select
        billing_month,
        team,
        ml_model,
        provider,
        service_name,
        resource_id,
        coalesce(usage_type, pricing_unit, '(no sku)') as sku,
        sum(effective_cost) as effective_cost
    from {{ ref('fct_cost_allocations') }}
    where team in (select p.team from parents as p)
    group by
        billing_month, team, ml_model, provider, service_name, resource_id,
        coalesce(usage_type, pricing_unit, '(no sku)')
),

-- Each parent's cost rows: the quarter's (actual) and the reference months'.
parent_rows as (
    select
        p.parent_key,
        'actual' as period,
        a.provider,
        a.service_name,
        a.resource_id,
        a.sku,
        a.effective_cost
    from parents as p
    inner join calendar as c on p.quarter = c.quarter
    inner join allocations as a
        on
            c.month = a.billing_month
            and p.team = a.team
            and (p.level = 'team' or p.ml_model = a.ml_model)
    union all
    select
        p.parent_key,
        'reference' as period,
        a.provider,
        a.service_name,
        a.resource_id,
        a.sku,
        a.effective_cost
    from parents as p
    inner join allocations as a
        on
            a.billing_month >= p.reference_start
            and a.billing_month <= p.as_of_month
            and p.team = a.team
            and (p.level = 'team' or p.ml_model = a.ml_model)
),

keyed as (
    select
        parent_key,
        period,
        'resource' as driver_kind,
        coalesce(
            resource_id,
            '(no resource id) ' || provider || ' ' || coalesce(service_name, '')
        ) as driver_key,
        provider,
        service_name,
        resource_id,
        cast(null as {{ dbt.type_string() }}) as sku,
        effective_cost
    from parent_rows
    union all
    select
        parent_key,
        period,
        'sku' as driver_kind,
        provider || ' | ' || coalesce(service_name, '') || ' | ' || sku as driver_key,
        provider,
        service_name,
        cast(null as {{ dbt.type_string() }}) as resource_id,
        sku,
        effective_cost
    from parent_rows
),

drivers as (
    select
        parent_key,
        driver_kind,
        driver_key,
        max(provider) as provider,
        -- A resource billed under several services is shown under its costliest one.
        {{ arg_max('service_name', 'effective_cost') }} as service_name,
        max(resource_id) as resource_id,
        max(sku) as sku,
        sum(case when period = 'actual' then effective_cost else 0 end) as actual_cost,
        sum(case when period = 'reference' then effective_cost else 0 end) as reference_cost,
        0 as is_unspread
    from keyed
    group by parent_key, driver_kind, driver_key
),

kinds as (
    select 'resource' as driver_kind
    union all
    select 'sku' as driver_kind
),

reference_totals as (
    select
        p.parent_key,
        k.driver_kind,
        coalesce(sum(d.reference_cost), 0) as reference_total
    from parents as p
    cross join kinds as k
    left join drivers as d on p.parent_key = d.parent_key and k.driver_kind = d.driver_kind
    group by p.parent_key, k.driver_kind
),

-- No reference cost to spread the plan by (a team or model new since the as-of month).
unspread as (
    select
        t.parent_key,
        t.driver_kind,
        '(plan without reference cost)' as driver_key,
        cast(null as {{ dbt.type_string() }}) as provider,
        cast(null as {{ dbt.type_string() }}) as service_name,
        cast(null as {{ dbt.type_string() }}) as resource_id,
        cast(null as {{ dbt.type_string() }}) as sku,
        {{ money('0') }} as actual_cost,
        {{ money('0') }} as reference_cost,
        1 as is_unspread
    from reference_totals as t
    inner join parents as p on t.parent_key = p.parent_key
    where t.reference_total <= 0 and p.forecast_cost <> 0
),

all_drivers as (
    select * from drivers
    union all
    select * from unspread
),

shared as (
    select
        d.*,
        p.forecast_cost,
        case
            when t.reference_total > 0
                then {{ to_decimal('round(d.reference_cost / t.reference_total, 10)', 38, 10) }}
        end as plan_share,
        row_number() over (
            partition by d.parent_key, d.driver_kind
            order by d.is_unspread desc, d.reference_cost desc, d.driver_key asc
        ) as share_rank
    from all_drivers as d
    inner join parents as p on d.parent_key = p.parent_key
    inner join reference_totals as t
        on d.parent_key = t.parent_key and d.driver_kind = t.driver_kind
),

pieces as (
    select
        *,
        case
            when plan_share is null then {{ money('0') }}
            else {{ money_mul('forecast_cost', 'plan_share') }}
        end as plan_piece
    from shared
),

-- The first driver takes the rounding remainder: the pieces add up to the forecast exactly.
expected as (
    select
        *,
        sum(case when share_rank > 1 then plan_piece else 0 end)
            over (partition by parent_key, driver_kind) as other_pieces
    from pieces
),

deltas as (
    select
        e.parent_key,
        e.driver_kind,
        e.driver_key,
        e.provider,
        e.service_name,
        e.resource_id,
        e.sku,
        {{ money('e.actual_cost') }} as actual_cost,
        {{ money('case when e.share_rank = 1 then e.forecast_cost - e.other_pieces else e.plan_piece end') }}
            as expected_cost
    from expected as e
),

final as (
    select
        p.quarter,
        p.team,
        p.ml_model,
        d.driver_kind,
        d.driver_key,
        d.provider,
        d.service_name,
        d.resource_id,
        d.sku,
        p.currency,
        d.actual_cost,
        d.expected_cost,
        {{ money('d.actual_cost - d.expected_cost') }} as delta_cost,
        {{ to_decimal('round((d.actual_cost - d.expected_cost) / nullif(p.variance_vs_forecast, 0), 12)', 38, 12) }}
            as share_of_variance,
        cast(row_number() over (
            partition by d.parent_key, d.driver_kind
            order by abs(d.actual_cost - d.expected_cost) desc, d.driver_key asc
        ) as {{ dbt.type_int() }}) as driver_rank,
        {{ md5_hex(grain_text(['p.quarter', 'p.team', 'p.ml_model', 'd.driver_kind', 'd.driver_key'])) }}
            as driver_id
    from deltas as d
    inner join parents as p on d.parent_key = p.parent_key
    where d.actual_cost <> 0 or d.expected_cost <> 0
)

select * from final
