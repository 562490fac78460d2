{#- Cost controls (docs/recommendations.md): one row per proposed action with its owner,
    evidence, estimated monthly saving, its status from the reviewed actions file and, once
    done, the saving measured from the costs. -#}
with proposed as (
    select * from {{ ref('int_recommendations__proposed') }}
),

status as (
    select * from {{ ref('int_recommendations__status') }}
),

realised as (
    select * from {{ ref('int_recommendations__realised') }}
),

final as (
    select
        p.recommendation_id,
        p.recommendation_type,
        p.provider,
        p.team,
        p.ml_model,
        p.resource_id,
        p.scope,
        p.action,
        p.owner,
        p.evidence,
        cast(p.estimated_monthly_saving as {{ money_type() }}) as estimated_monthly_saving,
        p.saving_basis,
        p.billing_currency,
        p.source_month,
        p.period_start,
        p.period_end,
        coalesce(s.status, 'open') as status,
        s.status_date,
        s.note as status_note,
        s.reviewer,
        r.realised_monthly_saving,
        case
            when coalesce(s.status, 'open') = 'done' then r.realised_basis
            else 'not done'
        end as realised_basis
    from proposed as p
    left join status as s
        on p.recommendation_id = s.recommendation_id
    left join realised as r
        on p.recommendation_id = r.recommendation_id
)

select * from final
