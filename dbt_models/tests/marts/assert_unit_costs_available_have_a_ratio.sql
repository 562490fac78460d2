{#- A unit cost is available exactly when it has a reason-free, positive denominator and a
    ratio; an unavailable one says why and shows no ratio (docs/unit-economics.md). -#}
select *
from {{ ref('fct_unit_costs') }}
where
    is_available <> (unavailable_reason is null)
    or (is_available and (units is null or units <= 0 or cost_per_unit is null))
    or (not is_available and cost_per_unit is not null)
