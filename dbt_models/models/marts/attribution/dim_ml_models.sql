{#- Every known ML model value: registered in the run's reference set (ml_models seed) or
    present in the attributed data (a model tag no seed lists). `none` is the fallback "not
    model-specific". Owner: the seed's team, else the team carrying most of the model's
    effective cost. Interface documented in docs/attribution.md. -#}
with registered as (
    select
        ml_model,
        min(team) as team
    from ({{ reference_rows('ml_models') }}) as m
    group by ml_model
),

allocations as (
    select * from {{ ref('fct_cost_allocations') }}
),

per_team as (
    select
        ml_model,
        team,
        sum(effective_cost) as effective_cost
    from allocations
    group by ml_model, team
),

seen as (
    select
        a.ml_model,
        min(a.billing_month) as first_billing_month,
        max(a.billing_month) as last_billing_month,
        count(*) as allocation_count
    from allocations as a
    group by a.ml_model
),

top_team as (
    select
        ml_model,
        {{ arg_max('team', 'effective_cost') }} as top_team
    from per_team
    group by ml_model
),

final as (
    select
        coalesce(r.ml_model, s.ml_model) as ml_model,
        r.ml_model is not null as is_registered,
        coalesce(r.ml_model, s.ml_model) = 'none' as is_fallback,
        coalesce(r.team, t.top_team) as owner_team,
        s.first_billing_month,
        s.last_billing_month,
        coalesce(s.allocation_count, 0) as allocation_count
    from registered as r
    full outer join seen as s on r.ml_model = s.ml_model
    left join top_team as t on s.ml_model = t.ml_model
)

select * from final
