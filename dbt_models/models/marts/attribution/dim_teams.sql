{#- Every known team value: registered in the run's reference set (teams seed) or present in
    the attributed data (open world: a tag naming a team no seed lists). The interface for
    "which team values exist" (forecast scenario validation, reports): docs/attribution.md. -#}
with registered as (
    {{ reference_rows('teams') }}
),

allocations as (
    select * from {{ ref('fct_cost_allocations') }}
),

seen as (
    select
        team,
        min(billing_month) as first_billing_month,
        max(billing_month) as last_billing_month,
        count(*) as allocation_count
    from allocations
    group by team
),

final as (
    select
        coalesce(r.team, s.team) as team,
        r.team is not null as is_registered,
        coalesce(r.team, s.team) = 'unallocated' as is_fallback,
        -- An unregistered team with direct cost takes part in shared-cost splits.
        coalesce(r.receives_shared_costs, coalesce(r.team, s.team) <> 'unallocated')
            as receives_shared_costs,
        r.description,
        s.first_billing_month,
        s.last_billing_month,
        coalesce(s.allocation_count, 0) as allocation_count
    from registered as r
    full outer join seen as s on r.team = s.team
)

select * from final
