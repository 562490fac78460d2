{#- Telemetry arrives as upserts: the latest load of a (day, resource, metric) wins. -#}
with source as (
    select * from {{ source('raw', 'utilization_metrics') }}
),

renamed as (
    select
        {{ parse_date('metric_date') }} as metric_date,
        lower(provider) as provider,
        resource_id,
        metric_name,
        {{ to_decimal('value', 18, 6) }} as metric_value,
        {{ nullif_blank('unit') }} as unit,
        _loaded_at as loaded_at,
        _file_id as file_id
    from source
),

final as (
    select * {{ star_except(['rn']) }}
    from (
        select
            *,
            row_number() over (
                partition by metric_date, provider, resource_id, metric_name
                order by loaded_at desc, file_id desc
            ) as rn
        from renamed
    ) as ranked
    where rn = 1
)

select * from final
