{#- Idle-waste recommendations: one per resource and waste type, its latest finding in
    fct_idle_waste with that finding's owner, action, evidence and estimated_monthly_saving,
    read and never re-derived. Earlier findings of the same resource and type carry no saving
    (fct_idle_waste sets 0), so the sums agree. A finding that has stopped (saving 0) stays
    listed: an action marked done on it is measured from the costs. -#}
with waste as (
    select * from {{ ref('fct_idle_waste') }}
),

latest as (
    select *
    from (
        select
            *,
            row_number() over (
                partition by provider, resource_id, waste_type
                order by period_start desc, waste_id desc
            ) as finding_rank
        from waste
    ) as ranked
    where finding_rank = 1
),

final as (
    select
        {{ recommendation_id('waste_type', 'provider', 'resource_id') }} as recommendation_id,
        waste_type as recommendation_type,
        provider,
        team,
        ml_model,
        resource_id,
        'resource' as scope,
        recommended_action as action,
        owner,
        evidence,
        estimated_monthly_saving,
        saving_basis,
        billing_currency,
        billing_month as source_month,
        idle_run_start as period_start,
        period_end
    from latest
)

select * from final
