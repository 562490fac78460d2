{#- The locked forecasts the review scores (docs/review-marts.md): forecast.forecast_accuracy
    (read, not re-scored) at the total and team levels, one scenario per snapshot -- `base`,
    or `baseline` for a snapshot without one (made before the scenarios file), as the
    variance does -- horizons 1 to 18, with the quarter of the forecast month. Ephemeral: the
    two accuracy marts read it. -#}
{{ config(materialized='ephemeral') }}

with accuracy as (
    {#- optional: no locked forecast yet gives no track record, not an error -#}
    {{ optional_source('forecast', 'forecast_accuracy', [
        ('quarter', 'string'), ('snapshot_id', 'string'), ('as_of_month', 'date'),
        ('retroactive', 'bool'), ('scenario', 'string'), ('level', 'string'),
        ('team', 'string'), ('month', 'date'), ('horizon', 'int'), ('point', 'money'),
        ('lo_80', 'money'), ('hi_80', 'money'), ('lo_95', 'money'), ('hi_95', 'money'),
        ('actual', 'money'), ('error', 'money'), ('abs_pct_error', 'float'),
        ('in_band_80', 'bool'), ('in_band_95', 'bool')]) }}
),

calendar as (
    select * from {{ ref('dim_calendar') }}
),

snapshot_scenario as (
    select
        snapshot_id,
        case
            when max(case when scenario = 'base' then 1 else 0 end) = 1 then 'base'
            else 'baseline'
        end as scenario
    from accuracy
    group by snapshot_id
),

final as (
    select
        calendar.quarter,
        accuracy.level,
        accuracy.team,
        accuracy.snapshot_id,
        accuracy.quarter as locked_quarter,
        accuracy.as_of_month,
        accuracy.retroactive as is_retroactive_lock,
        accuracy.scenario,
        accuracy.month,
        cast(accuracy.horizon as {{ dbt.type_int() }}) as horizon,
        {{ money('accuracy.point') }} as point,
        {{ money('accuracy.lo_80') }} as lo_80,
        {{ money('accuracy.hi_80') }} as hi_80,
        {{ money('accuracy.lo_95') }} as lo_95,
        {{ money('accuracy.hi_95') }} as hi_95,
        {{ money('accuracy.actual') }} as actual,
        {{ money('accuracy.error') }} as error,
        accuracy.abs_pct_error,
        accuracy.in_band_80,
        accuracy.in_band_95
    from accuracy
    inner join snapshot_scenario
        on
            accuracy.snapshot_id = snapshot_scenario.snapshot_id
            and accuracy.scenario = snapshot_scenario.scenario
    left join calendar on accuracy.month = calendar.month
    where
        accuracy.level in ('total', 'team')
        and accuracy.horizon between 1 and 18
)

select * from final
