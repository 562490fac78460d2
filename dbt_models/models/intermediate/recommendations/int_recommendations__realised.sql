{#- The realised saving of each recommendation marked done (docs/recommendations.md): the
    average monthly cost of its resource (fct_cost_allocations, effective cost, all teams) over
    the complete months before the month of the done date minus the same average over the
    complete months after it, each window at most realised_window_months months, within the
    provider's data (a month counts when the data covers its last day). The month of the date
    itself is in neither window. Rounded to the cent. Only resource-scoped recommendations are measured: a quota,
    an instance type or a provider commitment is not one resource's cost. -#}
with status as (
    select * from {{ ref('int_recommendations__status') }}
    where status = 'done'
),

proposed as (
    select * from {{ ref('int_recommendations__proposed') }}
),

allocations as (
    select * from {{ ref('fct_cost_allocations') }}
),

params as (
    select {{ recommendation_param('realised_window_months') }} as window_months
),

data_ends as (
    select
        provider,
        max(charge_date) as data_end
    from allocations
    group by provider
),

complete_months as (
    select distinct
        a.provider,
        a.billing_month
    from allocations as a
    inner join data_ends as e
        on a.provider = e.provider
    where {{ date_minus_days('cast(' ~ add_months('a.billing_month', 1) ~ ' as date)', 1) }} <= e.data_end
),

done as (
    select
        p.recommendation_id,
        p.provider,
        p.resource_id,
        p.scope,
        {{ month_start('s.status_date') }} as done_month
    from status as s
    inner join proposed as p
        on s.recommendation_id = p.recommendation_id
),

windows as (
    -- Each complete month of the provider in the windows around the done month.
    select
        d.recommendation_id,
        d.provider,
        d.resource_id,
        m.billing_month,
        case when m.billing_month < d.done_month then 'before' else 'after' end as side
    from done as d
    inner join complete_months as m
        on d.provider = m.provider
    cross join params as p
    where
        d.scope = 'resource'
        and (
            (
                m.billing_month < d.done_month
                and m.billing_month >= {{ add_months('d.done_month', '(-1 * cast(p.window_months as integer))') }}
            )
            or (
                m.billing_month > d.done_month
                and m.billing_month <= {{ add_months('d.done_month', '(cast(p.window_months as integer))') }}
            )
        )
),

done_resources as (
    select distinct
        provider,
        resource_id
    from done
),

resource_months as (
    select
        a.provider,
        a.resource_id,
        a.billing_month,
        sum(a.effective_cost) as cost
    from allocations as a
    inner join done_resources as d
        on
            a.provider = d.provider
            and a.resource_id = d.resource_id
    group by a.provider, a.resource_id, a.billing_month
),

sides as (
    select
        w.recommendation_id,
        w.side,
        count(*) as months,
        min(w.billing_month) as first_month,
        max(w.billing_month) as last_month,
        sum(coalesce(r.cost, 0)) as cost
    from windows as w
    left join resource_months as r
        on
            w.provider = r.provider
            and w.resource_id = r.resource_id
            and w.billing_month = r.billing_month
    group by w.recommendation_id, w.side
),

final as (
    select
        d.recommendation_id,
        case
            when b.months > 0 and a.months > 0
                -- Rounded to the cent (DuckDB divides decimals in floating point).
                then cast(round(
                    {{ money_mul('b.cost', to_decimal('1.0 / b.months', 38, 12)) }}
                    - {{ money_mul('a.cost', to_decimal('1.0 / a.months', 38, 12)) }}, 2
                ) as {{ money_type() }})
        end as realised_monthly_saving,
        case
            when d.scope <> 'resource'
                then 'not measured: the recommendation is about a ' || d.scope || ', not the cost of one resource'
            when b.months is null
                then 'not measured yet: no complete month of data before the month of the done date'
            when a.months is null
                then 'not measured yet: no complete month of data after the month of the done date'
            else
                'average monthly cost of the resource over ' || cast(b.months as {{ dbt.type_string() }})
                || ' month(s) ' || cast(b.first_month as {{ dbt.type_string() }}) || ' to '
                || cast(b.last_month as {{ dbt.type_string() }}) || ' ('
                || cast(round(b.cost / b.months, 2) as {{ dbt.type_string() }}) || ') minus over '
                || cast(a.months as {{ dbt.type_string() }}) || ' month(s) '
                || cast(a.first_month as {{ dbt.type_string() }}) || ' to '
                || cast(a.last_month as {{ dbt.type_string() }}) || ' ('
                || cast(round(a.cost / a.months, 2) as {{ dbt.type_string() }}) || ')'
        end as realised_basis
    from done as d
    left join sides as b
        on
            d.recommendation_id = b.recommendation_id
            and b.side = 'before'
    left join sides as a
        on
            d.recommendation_id = a.recommendation_id
            and a.side = 'after'
)

select * from final
