{#- Waste found and savings of each quarter (docs/review-marts.md), per team and source:
    * source `idle_waste`: the findings of marts.fct_idle_waste whose billing month is in the
      quarter -- items (distinct provider x resource x waste type) and waste_found (wasted
      cost in the quarter). Savings columns null: the idle-waste recommendations carry them.
    * one source per recommendation_type of marts.fct_recommendations: items = the
      recommendations whose data month (source_month) is in the quarter, with
      estimated_monthly_saving summed over those still open (status open, accepted or
      in_progress); implemented_items and realised_monthly_saving = the recommendations done
      (status_date) in the quarter. A recommendation found in one quarter and done in a later
      one counts in both, once as found and once as implemented.
    Never add waste_found to the savings: the same idle resource is in both. -#}
with waste as (
    select * from {{ ref('fct_idle_waste') }}
),

recommendations as (
    select * from {{ ref('fct_recommendations') }}
),

waste_rows as (
    select
        {{ quarter_label('billing_month') }} as quarter,
        team,
        'idle_waste' as source,
        billing_currency,
        cast(
            count(distinct {{ grain_text(['provider', 'resource_id', 'waste_type']) }})
            as {{ dbt.type_int() }}
        ) as items,
        cast(null as {{ dbt.type_int() }}) as open_items,
        sum(wasted_cost) as waste_found,
        cast(null as {{ money_type() }}) as estimated_monthly_saving,
        cast(null as {{ dbt.type_int() }}) as implemented_items,
        cast(null as {{ money_type() }}) as realised_monthly_saving
    from waste
    group by {{ quarter_label('billing_month') }}, team, billing_currency
),

found as (
    select
        {{ quarter_label('source_month') }} as quarter,
        team,
        recommendation_type as source,
        billing_currency,
        cast(count(*) as {{ dbt.type_int() }}) as items,
        cast(
            sum(case when status in ('open', 'accepted', 'in_progress') then 1 else 0 end)
            as {{ dbt.type_int() }}
        ) as open_items,
        sum(
            case
                when status in ('open', 'accepted', 'in_progress')
                    then estimated_monthly_saving
                else 0
            end
        ) as estimated_monthly_saving
    from recommendations
    group by {{ quarter_label('source_month') }}, team, recommendation_type, billing_currency
),

implemented as (
    select
        {{ quarter_label('status_date') }} as quarter,
        team,
        recommendation_type as source,
        billing_currency,
        cast(count(*) as {{ dbt.type_int() }}) as implemented_items,
        sum(realised_monthly_saving) as realised_monthly_saving
    from recommendations
    where status = 'done' and status_date is not null
    group by {{ quarter_label('status_date') }}, team, recommendation_type, billing_currency
),

recommendation_rows as (
    select
        coalesce(found.quarter, implemented.quarter) as quarter,
        coalesce(found.team, implemented.team) as team,
        coalesce(found.source, implemented.source) as source,
        coalesce(found.billing_currency, implemented.billing_currency) as billing_currency,
        coalesce(found.items, 0) as items,
        coalesce(found.open_items, 0) as open_items,
        cast(null as {{ money_type() }}) as waste_found,
        {{ money('coalesce(found.estimated_monthly_saving, 0)') }} as estimated_monthly_saving,
        coalesce(implemented.implemented_items, 0) as implemented_items,
        {{ money('implemented.realised_monthly_saving') }} as realised_monthly_saving
    from found
    full outer join implemented
        on
            found.quarter = implemented.quarter
            and found.team = implemented.team
            and found.source = implemented.source
            and coalesce(found.billing_currency, '~') = coalesce(implemented.billing_currency, '~')
),

final as (
    select
        quarter,
        team,
        source,
        billing_currency,
        items,
        open_items,
        waste_found,
        estimated_monthly_saving,
        implemented_items,
        realised_monthly_saving
    from waste_rows
    union all
    select
        quarter,
        team,
        source,
        billing_currency,
        items,
        open_items,
        waste_found,
        estimated_monthly_saving,
        implemented_items,
        realised_monthly_saving
    from recommendation_rows
)

select * from final
