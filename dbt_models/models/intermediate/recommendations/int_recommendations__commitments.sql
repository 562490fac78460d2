{#- Commitment changes (docs/recommendations.md): the latest row per provider and commitment
    type of planning.whatif_commitment (the commitment calculator) whose recommended hourly
    commitment differs from the current one. No double counting: the saving is the
    calculator's expected_monthly_saving less what the provider's unused-commitment findings
    (fct_idle_waste) already count, never below 0. No rows while the table does not exist. -#}
-- depends_on: {{ ref('fct_idle_waste') }}
{%- set declared = source('planning', 'whatif_commitment') %}
{%- set whatif = optional_relation(declared.schema, declared.identifier) %}
{%- if whatif is none %}
    {{ no_recommendations() }}
{%- else %}
with whatif as (
    select * from {{ declared }}
),

latest as (
    select *
    from (
        select
            *,
            row_number() over (
                partition by provider, commitment_type order by computed_at desc
            ) as computed_rank
        from whatif
    ) as ranked
    where computed_rank = 1
),

unused as (
    select
        provider,
        sum(estimated_monthly_saving) as unused_saving
    from {{ ref('fct_idle_waste') }}
    where waste_type = 'unused_commitment'
    group by provider
),

final as (
    select
        {{ recommendation_id("'commitment'", 'l.provider', 'l.commitment_type') }} as recommendation_id,
        'commitment' as recommendation_type,
        l.provider,
        '*' as team,
        '*' as ml_model,
        l.commitment_type as resource_id,
        'provider_commitment' as scope,
        case
            when l.recommended_hourly_commitment > l.current_hourly_commitment then 'Raise '
            else 'Lower '
        end || 'the ' || l.provider || ' ' || l.commitment_type || ' hourly commitment from '
        || cast(round(l.current_hourly_commitment, 2) as {{ dbt.type_string() }}) || ' to '
        || cast(round(l.recommended_hourly_commitment, 2) as {{ dbt.type_string() }})
        || ' ' || l.billing_currency || ' (at renewal or the next purchase).' as action,
        '*' as owner,
        'coverage ' || cast(round(l.coverage, 3) as {{ dbt.type_string() }}) || ', utilisation '
        || cast(round(l.utilisation, 3) as {{ dbt.type_string() }}) || ', expected saving '
        || cast(round(l.expected_monthly_saving, 2) as {{ dbt.type_string() }}) || ' a month, of which '
        || cast(round(coalesce(u.unused_saving, 0), 2) as {{ dbt.type_string() }})
        || ' already counted by unused-commitment findings; ' || coalesce(l.evidence, '') as evidence,
        cast(greatest(l.expected_monthly_saving - coalesce(u.unused_saving, 0), 0) as {{ money_type() }})
            as estimated_monthly_saving,
        'expected monthly saving of the commitment calculator (planning.whatif_commitment) less the unused-commitment savings of fct_idle_waste, at least 0' as saving_basis,
        l.billing_currency,
        {{ month_start('l.computed_at') }} as source_month,
        cast(l.computed_at as date) as period_start,
        cast(l.computed_at as date) as period_end
    from latest as l
    left join unused as u
        on l.provider = u.provider
    where l.recommended_hourly_commitment <> l.current_hourly_commitment
)

select * from final
{%- endif %}
