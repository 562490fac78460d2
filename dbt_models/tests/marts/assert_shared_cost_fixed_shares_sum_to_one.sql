-- A fixed split must hand out the whole cost: the shares of each fixed rule sum to 1 (in the
-- run's reference set). Shown in Dagster as a check on shared_cost_fixed_shares.
{{ config(meta={'dagster': {'ref': {'name': 'shared_cost_fixed_shares'}}}) }}
with rules as (
    {{ reference_rows('shared_cost_rules') }}
),

shares as (
    {{ reference_rows('shared_cost_fixed_shares') }}
)

select
    r.rule_id,
    sum(f.share) as total_share
from rules as r
left join shares as f on r.rule_id = f.rule_id
where r.split_method = 'fixed'
group by r.rule_id
having sum(f.share) is null or sum(f.share) <> 1
