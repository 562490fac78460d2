{#- Spot candidates (docs/recommendations.md): on-demand training compute per provider and
    instance type moves to spot at the observed spot / on-demand price ratio of the same
    instance type, both from marts.fct_instance_prices (the observed prices) over its last
    spot_window_months months. Saving: the on-demand training cost per month x (1 - spot hourly
    price / on-demand hourly price); only where both prices were observed and spot is cheaper.
 -#}
-- depends_on: {{ ref('recommendation_parameters') }}
{%- set prices = ref('fct_instance_prices') %}
with prices as (
    select * from {{ prices }}
),

params as (
    select {{ recommendation_param('spot_window_months') }} as window_months
),

ends as (
    select
        provider,
        max(billing_month) as last_month
    from prices
    group by provider
),

recent as (
    select p.*
    from prices as p
    inner join ends as e
        on p.provider = e.provider
    cross join params as w
    where p.billing_month > {{ add_months('e.last_month', '(-1 * cast(w.window_months as integer))') }}
),

by_type as (
    select
        provider,
        instance_type,
        min(billing_currency) as billing_currency,
        min(billing_month) as first_month,
        max(billing_month) as last_month,
        count(distinct billing_month) as months,
        sum(case when pricing_category = 'on_demand' then cost end)
        / nullif(sum(case when pricing_category = 'on_demand' then usage_hours end), 0) as on_demand_price,
        sum(case when pricing_category = 'spot' then cost end)
        / nullif(sum(case when pricing_category = 'spot' then usage_hours end), 0) as spot_price,
        sum(case when pricing_category = 'on_demand' and workload = 'training' then cost else 0 end)
            as training_on_demand_cost,
        sum(case when pricing_category = 'on_demand' and workload = 'training' then usage_hours else 0 end)
            as training_on_demand_hours
    from recent
    group by provider, instance_type
),

candidates as (
    select *
    from by_type
    where
        training_on_demand_cost > 0
        and spot_price is not null
        and on_demand_price > 0
        and spot_price < on_demand_price
),

final as (
    select
        {{ recommendation_id("'spot'", 'provider', 'instance_type') }} as recommendation_id,
        'spot' as recommendation_type,
        provider,
        '*' as team,
        '*' as ml_model,
        instance_type as resource_id,
        'instance_type' as scope,
        'Run ' || provider || ' ' || instance_type
        || ' training on spot capacity with checkpointing (on-demand today).' as action,
        '*' as owner,
        cast(round(training_on_demand_hours, 1) as {{ dbt.type_string() }}) || ' on-demand training hours costing '
        || cast(round(training_on_demand_cost, 2) as {{ dbt.type_string() }}) || ' from '
        || cast(first_month as {{ dbt.type_string() }}) || ' to ' || cast(last_month as {{ dbt.type_string() }})
        || '; observed hourly price on demand ' || cast(round(on_demand_price, 4) as {{ dbt.type_string() }})
        || ', spot ' || cast(round(spot_price, 4) as {{ dbt.type_string() }})
        || ' (ratio ' || cast(round(spot_price / on_demand_price, 3) as {{ dbt.type_string() }}) || ')' as evidence,
        cast(
            round({{ money_mul('training_on_demand_cost', to_decimal('(1 - spot_price / on_demand_price) / months', 38, 10)) }}, 2)
            as {{ money_type() }}
        ) as estimated_monthly_saving,
        'on-demand training cost per month x (1 - observed spot price / on-demand price); interruptions and checkpoint overhead not priced (mlcost whatif spot)' as saving_basis,
        billing_currency,
        last_month as source_month,
        first_month as period_start,
        {{ date_minus_days('cast(' ~ add_months('last_month', 1) ~ ' as date)', 1) }} as period_end
    from candidates
)

select * from final
