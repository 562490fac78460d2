{{ config(materialized='table') }}
{#- Every training cost piece (marts.fct_cost_allocations, workload training) with the MLflow
    run(s) it is matched to, best method first (docs/mlflow.md, "Matching"):
    1. run_tag: the row carries a tag whose normalised key is `mlflowrunid` naming a known run;
    2. resource_id: exactly one run names the row's resource (id, name, or the id's last path
       segments) and the row's day lies in the run's days;
    3. time_window: several runs name the resource; the row's charge period is split over the
       runs overlapping it, pro rata to overlap hours x instance_count.
    Pieces no run claims keep run_id null (rpt_unmatched_training_cost), with the reason. -#}
with allocations as (
    select * from {{ ref('fct_cost_allocations') }}
),

focus as (
    select * from {{ ref('focus_cost_and_usage') }}
),

runs as (
    select * from {{ ref('stg_mlflow__runs') }}
),

training as (
    select
        a.allocation_id,
        a.provider,
        a.billing_month,
        a.team,
        a.ml_model,
        a.resource_id,
        a.resource_name,
        a.charge_period_start,
        a.charge_period_end,
        a.effective_cost,
        a.billing_currency,
        f.{{ q('Tags') }} as tags_json
    from allocations as a
    left join focus as f on a.focus_row_id = f.{{ q('x_RowId') }}
    where a.workload = 'training'
),

tag_sets as (
    select distinct
        provider,
        tags_json
    from training
    where tags_json is not null
),

tag_pairs as (
    {{ tag_pairs('tag_sets') }}
),

run_id_tags as (
    select
        provider,
        tags_json,
        min(tag_value) as tagged_run_id
    from tag_pairs
    where {{ normalised_tag_key('tag_key') }} = 'mlflowrunid' and tag_value is not null
    group by provider, tags_json
),

tagged as (
    select
        t.*,
        g.tagged_run_id,
        r.run_id as tag_run_id
    from training as t
    left join run_id_tags as g on t.provider = g.provider and t.tags_json = g.tags_json
    left join runs as r on g.tagged_run_id = r.run_id
),

run_resources as (
    select distinct
        r.run_id,
        r.window_start,
        r.window_end,
        r.instance_count,
        lower(trim(token)) as token,
        {{ regex_extract('lower(trim(token))', '[^/]*$') }} as token_tail
    from runs as r
    cross join {{ split_items('r.resource_ids', 'token') }}
    where r.resource_ids is not null and trim(token) <> ''
),

resources as (
    -- Once per resource, not per cost row: the id, its name and the id's last path segment.
    select distinct
        provider,
        resource_id,
        lower(resource_id) as id_lower,
        lower(resource_name) as name_lower,
        {{ regex_extract('lower(resource_id)', '[^/]*$') }} as id_tail
    from tagged
    where tag_run_id is null and resource_id is not null
),

resource_runs as (
    -- A run names a resource by its id, its name, or a trailing part of its id (equality
    -- joins on the last segment or the name, never a scan of every pair).
    select
        s.provider,
        s.resource_id,
        c.run_id,
        c.window_start,
        c.window_end,
        c.instance_count
    from resources as s
    inner join run_resources as c
        on s.id_tail = c.token_tail
    where
        c.token = s.id_lower
        or c.token = s.id_tail
        or right(s.id_lower, length(c.token) + 1) = '/' || c.token
    union distinct
    select
        s.provider,
        s.resource_id,
        c.run_id,
        c.window_start,
        c.window_end,
        c.instance_count
    from resources as s
    inner join run_resources as c on s.name_lower = c.token
),

claims as (
    -- Untagged pieces on a resource some run names; the run's days must overlap the piece.
    select
        t.allocation_id,
        t.provider,
        t.resource_id,
        c.run_id,
        c.instance_count,
        greatest(
            0,
            {{ seconds_between('least(t.charge_period_end, c.window_end)',
                               'greatest(t.charge_period_start, c.window_start)') }}
        ) as overlap_seconds
    from tagged as t
    inner join resource_runs as c
        on
            t.provider = c.provider
            and t.resource_id = c.resource_id
            and t.charge_period_start < {{ dbt.dateadd('day', 1, dbt.date_trunc('day', 'c.window_end')) }}
            and t.charge_period_end > {{ dbt.date_trunc('day', 'c.window_start') }}
    where t.tag_run_id is null
),

claimants as (
    -- How many runs ever name each resource: one is a resource_id match, several share it.
    select
        provider,
        resource_id,
        count(distinct run_id) as runs_naming
    from claims
    group by provider, resource_id
),

weighted as (
    select
        c.allocation_id,
        c.run_id,
        case when n.runs_naming = 1 then 'resource_id' else 'time_window' end as match_method,
        case
            when n.runs_naming = 1 then 1
            else c.overlap_seconds * c.instance_count
        end as weight
    from claims as c
    inner join claimants as n on c.provider = n.provider and c.resource_id = n.resource_id
    where n.runs_naming = 1 or c.overlap_seconds > 0
),

shares as (
    select
        allocation_id,
        run_id,
        match_method,
        -- A ratio, not money: rounded to the 10 decimals money_mul keeps.
        {{ to_decimal('round(weight / sum(weight) over (partition by allocation_id), 10)', 38, 10) }}
            as share
    from weighted
),

tag_matched as (
    select
        allocation_id,
        tag_run_id as run_id,
        'run_tag' as match_method,
        effective_cost as matched_cost,
        cast(null as {{ dbt.type_string() }}) as unmatched_reason
    from tagged
    where tag_run_id is not null
),

resource_matched as (
    select
        s.allocation_id,
        s.run_id,
        s.match_method,
        {{ money_mul('t.effective_cost', 's.share') }} as matched_cost,
        cast(null as {{ dbt.type_string() }}) as unmatched_reason
    from shares as s
    inner join tagged as t on s.allocation_id = t.allocation_id
),

unmatched as (
    select
        t.allocation_id,
        cast(null as {{ dbt.type_string() }}) as run_id,
        'unmatched' as match_method,
        t.effective_cost as matched_cost,
        case
            when t.tagged_run_id is not null then 'its mlflow run id tag names no run in the store'
            when n.resource_id is not null then 'no run naming this resource overlaps the charge period'
            else 'no run names this resource or carries its run id'
        end as unmatched_reason
    from tagged as t
    left join claimants as n on t.provider = n.provider and t.resource_id = n.resource_id
    where
        t.tag_run_id is null
        and t.allocation_id not in (select s.allocation_id from shares as s)
),

matches as (
    select * from tag_matched
    union all
    select * from resource_matched
    union all
    select * from unmatched
),

final as (
    select
        {{ md5_hex(grain_text(['m.allocation_id', 'm.run_id'])) }} as match_id,
        m.allocation_id,
        m.run_id,
        m.match_method,
        m.matched_cost,
        m.unmatched_reason,
        t.provider,
        t.billing_month,
        t.team,
        t.ml_model,
        t.resource_id,
        t.billing_currency
    from matches as m
    inner join tagged as t on m.allocation_id = t.allocation_id
)

select * from final
