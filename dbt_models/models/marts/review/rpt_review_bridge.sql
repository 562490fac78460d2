{#- The variance bridge of each judged quarter (docs/review-marts.md): forecast -> volume,
    mix, price, commitment, new/discontinued, unquantified -> actual, for the total, each team
    and each team x model, read unchanged from variance.quarterly_variance (whose effects add
    up exactly to the variance, docs/variance-and-report.md), with materiality. -#}
with variance as (
    {{ optional_source('variance', 'quarterly_variance', [
        ('quarter', 'string'), ('level', 'string'), ('team', 'string'),
        ('ml_model', 'string'), ('snapshot_id', 'string'), ('currency', 'string'),
        ('actual_cost', 'money'), ('forecast_cost', 'money'),
        ('variance_vs_forecast', 'money'), ('variance_vs_forecast_pct', 'pct'),
        ('volume_effect', 'money'), ('mix_effect', 'money'), ('price_effect', 'money'),
        ('commitment_effect', 'money'), ('new_discontinued_effect', 'money'),
        ('unquantified_effect', 'money')]) }}
),

final as (
    select
        quarter,
        level,
        team,
        ml_model,
        currency,
        forecast_cost,
        volume_effect,
        mix_effect,
        price_effect,
        commitment_effect,
        new_discontinued_effect,
        unquantified_effect,
        actual_cost,
        variance_vs_forecast,
        {{ is_material('variance_vs_forecast', 'variance_vs_forecast_pct') }} as is_material,
        variance_vs_forecast_pct,
        snapshot_id
    from variance
    where level in ('total', 'team', 'team_model')
)

select * from final
