{#- MLflow runs, typed. A run whose end precedes its start keeps its row (reported, never
    dropped) but claims no time window. -#}
with source as (
    select * from {{ source('raw', 'mlflow_runs') }}
),

renamed as (
    select
        run_id,
        experiment_id,
        experiment_name,
        run_name,
        status,
        start_time,
        end_time,
        team,
        instance_type,
        resource_ids,
        tags_json,
        params_json,
        issue,
        tracking_uri,
        _loaded_at as loaded_at,
        coalesce(nullif(trim(ml_model), ''), experiment_name) as ml_model,
        lower(provider) as provider,
        coalesce(instance_count, 1) as instance_count,
        dataset_rows,
        case
            when start_time is not null and coalesce(end_time, _loaded_at) > start_time
                then start_time
        end as window_start,
        case
            when start_time is not null and coalesce(end_time, _loaded_at) > start_time
                then coalesce(end_time, _loaded_at)
        end as window_end
    from source
)

select * from renamed
