{#- One row per MLflow run with the training cost matched to it (contract 3 of issue 15,
    docs/mlflow.md). A run's method is its best one (run_tag > resource_id > time_window);
    a run no cost row matches is kept as `unmatched` with a null cost (unknown, not zero).
    Confidence per method is documented in docs/mlflow.md, "Match methods". -#}
with runs as (
    select * from {{ ref('stg_mlflow__runs') }}
),

matches as (
    select * from {{ ref('int_training_cost_matches') }}
    where run_id is not null
),

per_run as (
    select
        run_id,
        count(*) as matched_cost_rows,
        sum(matched_cost) as cost,
        max(billing_currency) as billing_currency,
        case
            when {{ bool_or("match_method = 'run_tag'") }} then 'run_tag'
            when {{ bool_or("match_method = 'resource_id'") }} then 'resource_id'
            else 'time_window'
        end as match_method
    from matches
    group by run_id
),

final as (
    select
        r.run_id,
        r.run_name,
        r.experiment_name,
        r.team,
        r.ml_model,
        r.provider,
        r.status,
        r.start_time,
        r.end_time,
        r.instance_type,
        r.instance_count,
        r.dataset_rows,
        r.resource_ids,
        p.billing_currency,
        r.issue,
        {{ to_decimal('round(' ~ seconds_between('r.window_end', 'r.window_start') ~ ' / 3600.0, 6)', 18, 6) }}
            as run_hours,
        coalesce(p.match_method, 'unmatched') as match_method,
        {{ to_decimal(
            "case coalesce(p.match_method, 'unmatched') when 'run_tag' then 1.00"
            ~ " when 'resource_id' then 0.90 when 'time_window' then 0.70 else 0 end", 4, 2) }}
            as match_confidence,
        cast(coalesce(p.matched_cost_rows, 0) as integer) as matched_cost_rows,
        {{ money('p.cost') }} as cost,
        cast({{ dbt.date_trunc('month', 'r.start_time') }} as date) as billing_month
    from runs as r
    left join per_run as p on r.run_id = p.run_id
)

select * from final
