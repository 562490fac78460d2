{#- The anomalies of each quarter (docs/review-marts.md): every monitoring.cost_anomalies row
    whose [start_date, end_date] overlaps the quarter (an anomaly across a quarter boundary
    appears in both quarters, with its whole impact), ranked within the quarter by
    abs(cost_impact), largest first. -#}
with anomalies as (
    {#- optional: a warehouse whose anomaly asset has not run yet gives no rows, not an error -#}
    {{ optional_source('monitoring', 'cost_anomalies', [
        ('anomaly_id', 'string'), ('series_kind', 'string'), ('provider', 'string'),
        ('billing_account_id', 'string'), ('sub_account_id', 'string'), ('team', 'string'),
        ('service_name', 'string'), ('start_date', 'date'), ('end_date', 'date'),
        ('days', 'int'), ('direction', 'string'), ('expected_cost', 'money'),
        ('actual_cost', 'money'), ('cost_impact', 'money'), ('score', 'float'),
        ('peak_date', 'date'), ('is_open', 'bool'), ('top_resource_id', 'string'),
        ('top_resource_impact', 'money'), ('billing_currency', 'string')]) }}
),

quarters as (
    select
        quarter,
        min(quarter_start) as quarter_start,
        cast({{ dbt.dateadd('month', 3, 'min(quarter_start)') }} as date) as next_quarter_start
    from {{ ref('dim_calendar') }}
    group by quarter
),

overlapping as (
    select
        quarters.quarter,
        anomalies.*
    from anomalies
    inner join quarters
        on
            anomalies.start_date < quarters.next_quarter_start
            and anomalies.end_date >= quarters.quarter_start
),

final as (
    select
        quarter,
        anomaly_id,
        series_kind,
        provider,
        billing_account_id,
        sub_account_id,
        team,
        service_name,
        start_date,
        end_date,
        days,
        direction,
        expected_cost,
        actual_cost,
        cost_impact,
        score,
        peak_date,
        is_open,
        top_resource_id,
        top_resource_impact,
        billing_currency,
        cast(row_number() over (
            partition by quarter order by abs(cost_impact) desc, anomaly_id
        ) as {{ dbt.type_int() }}) as anomaly_rank
    from overlapping
)

select * from final
