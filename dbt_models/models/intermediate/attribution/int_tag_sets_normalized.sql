{#- Tag normalisation, once per distinct (provider, Tags) rather than per row: billing rows
    repeat a few thousand tag sets millions of times. Keys are mapped through tag_key_aliases,
    values through teams / team_aliases, ml_models and workload_aliases (the rows of the run's
    reference set). Teams and models are open-world: a value no seed knows is kept as its slug
    (trimmed, lower case, runs of spaces and underscores as one hyphen) and flagged
    unregistered; empty values and the reserved `unallocated` / `none` carry no signal.
    Workloads are a closed list: an unknown workload value is ignored. The value of the best
    key (lowest priority, registered value, canonical spelling first) wins per attribute;
    between keys that differ only by case, ties go to the key first in byte order
    (docs/attribution.md). -#}
with focus as (
    select * from {{ ref('focus_cost_and_usage') }}
),

tag_key_aliases as (
    select * from {{ ref('tag_key_aliases') }}
),

teams as (
    {{ reference_rows('teams') }}
),

team_aliases as (
    {{ reference_rows('team_aliases') }}
),

ml_models as (
    {{ reference_rows('ml_models') }}
),

workload_aliases as (
    select * from {{ ref('workload_aliases') }}
),

tag_sets as (
    select distinct
        {{ q('x_ProviderCode') }} as provider,
        {{ q('Tags') }} as tags_json
    from focus
    where {{ q('Tags') }} is not null
),

tag_pairs as (
    -- Invalid JSON or non-object tags yield no pairs instead of failing the build.
    {{ tag_pairs('tag_sets') }}
),

keyed as (
    select
        p.provider,
        p.tags_json,
        p.tag_key,
        p.tag_value,
        k.attribute,
        k.priority,
        k.is_inherited,
        k.is_alias or p.tag_key <> k.tag_key as is_key_alias,
        -- Slugs: the team form uses hyphens, the workload form underscores.
        {{ regex_replace_all('lower(trim(p.tag_value))', '[\\s_]+', '-') }} as value_slug,
        {{ regex_replace_all('lower(trim(p.tag_value))', '[\\s-]+', '_') }} as value_snake,
        -- A provider-specific alias row beats a generic one for the same key.
        row_number() over (
            partition by p.provider, p.tags_json, p.tag_key
            order by case when k.provider = '*' then 1 else 0 end
        ) as key_rank
    from tag_pairs as p
    inner join tag_key_aliases as k
        on
            lower(p.tag_key) = lower(k.tag_key)
            and k.provider in ('*', p.provider)
    where p.tag_value is not null
),

resolved as (
    select
        keyed.provider,
        keyed.tags_json,
        keyed.attribute,
        keyed.tag_key,
        keyed.tag_value,
        keyed.priority,
        keyed.is_inherited,
        keyed.is_key_alias,
        case keyed.attribute
            -- Open world: an unregistered team or model is kept as its slug.
            when 'team' then coalesce(teams.team, team_aliases.team, keyed.open_value)
            when 'ml_model' then coalesce(ml_models.ml_model, keyed.open_value)
            when 'workload' then workload_aliases.workload
            when 'owner' then keyed.tag_value
        end as resolved_value,
        case keyed.attribute
            when 'team' then coalesce(teams.team, team_aliases.team) is not null
            when 'ml_model' then ml_models.ml_model is not null
            else true
        end as is_registered,
        -- The IS DISTINCT FROM results are bracketed only so that sqlfluff parses them.
        case keyed.attribute
            when 'team' then (keyed.tag_value is distinct from teams.team)
            when 'ml_model' then (keyed.tag_value is distinct from ml_models.ml_model)
            when 'workload' then (keyed.tag_value is distinct from workload_aliases.workload)
            else false
        end as is_value_alias
    from (
        select
            *,
            -- Empty values and the reserved fallback names carry no signal.
            case when value_slug not in ('', 'unallocated', 'none') then value_slug end
                as open_value
        from keyed
    ) as keyed
    left join teams
        on
            keyed.attribute = 'team'
            and keyed.value_slug = teams.team
    left join team_aliases
        on
            keyed.attribute = 'team'
            and keyed.value_slug = {{ regex_replace_all('lower(team_aliases.alias)', '[\\s_]+', '-') }}
    left join ml_models
        on
            keyed.attribute = 'ml_model'
            and keyed.value_slug = {{ regex_replace_all('lower(ml_models.alias)', '[\\s_]+', '-') }}
    left join workload_aliases
        on
            keyed.attribute = 'workload'
            and keyed.value_snake = {{ regex_replace_all('lower(workload_aliases.alias)', '[\\s-]+', '_') }}
    where keyed.key_rank = 1
),

best as (
    select *
    from resolved
    where resolved_value is not null
    qualify row_number() over (
        partition by provider, tags_json, attribute
        order by priority asc, is_registered desc, is_key_alias asc, is_value_alias asc, tag_key asc
    ) = 1
),

owners as (
    -- A resource-level team or owner key, recognised or not, means someone claimed it.
    select
        provider,
        tags_json,
        {{ bool_or("attribute in ('team', 'owner') and not is_inherited") }} as has_owner_tag
    from resolved
    group by provider, tags_json
),

final as (
    select
        tag_sets.provider,
        tag_sets.tags_json,
        max(case when best.attribute = 'team' then best.resolved_value end) as tag_team,
        coalesce(
            {{ bool_or("best.attribute = 'team' and (best.is_key_alias or best.is_value_alias)") }},
            false
        ) as is_tag_team_alias,
        coalesce({{ bool_or("best.attribute = 'team' and best.is_inherited") }}, false)
            as is_tag_team_inherited,
        coalesce({{ bool_or("best.attribute = 'team' and not best.is_registered") }}, false)
            as is_tag_team_unregistered,
        max(case when best.attribute = 'ml_model' then best.resolved_value end) as tag_ml_model,
        coalesce({{ bool_or("best.attribute = 'ml_model' and not best.is_registered") }}, false)
            as is_tag_ml_model_unregistered,
        max(case when best.attribute = 'workload' then best.resolved_value end) as tag_workload,
        max(case when best.attribute = 'owner' then best.resolved_value end) as tag_owner,
        coalesce(max(owners.has_owner_tag), false) as has_owner_tag
    from tag_sets
    left join best
        on
            tag_sets.provider = best.provider
            and tag_sets.tags_json = best.tags_json
    left join owners
        on
            tag_sets.provider = owners.provider
            and tag_sets.tags_json = owners.tags_json
    group by tag_sets.provider, tag_sets.tags_json
)

select * from final
