{#- Each line of the reviewed actions file, judged (docs/recommendations.md, docs/bad-input.md):
    problem is null on a usable line, else one paragraph naming the file, the row, the column
    and what is wrong. A bad line is left out; the file's other lines apply. -#}
{%- set sq = single_quote() %}
with actions as (
    select * from {{ ref('stg_mlcost__recommendation_actions') }}
),

proposed as (
    select distinct recommendation_id from {{ ref('int_recommendations__proposed') }}
),

judged as (
    select
        a.*,
        -- Messages quote values and column names with single_quote(): a doubled quote inside
        -- a literal is not portable to BigQuery.
        case
            when a.recommendation_id is null
                then
                    '(row ' || cast(a.source_row_number as {{ dbt.type_string() }})
                    || ', column ' || {{ sq }} || 'recommendation_id' || {{ sq }}
                    || '): is empty; expected the recommendation_id of a row of marts.fct_recommendations.'
            when p.recommendation_id is null
                then
                    '(row ' || cast(a.source_row_number as {{ dbt.type_string() }})
                    || ', column ' || {{ sq }} || 'recommendation_id' || {{ sq }} || '): '
                    || {{ sq }} || a.recommendation_id || {{ sq }}
                    || ' is not the id of any current recommendation (marts.fct_recommendations); the line is ignored.'
            when a.status is null or a.status not in ({{ "'" ~ recommendation_statuses() | join("', '") ~ "'" }})
                then
                    '(row ' || cast(a.source_row_number as {{ dbt.type_string() }})
                    || ', column ' || {{ sq }} || 'status' || {{ sq }} || '): '
                    || coalesce({{ sq }} || a.status || {{ sq }}, 'an empty status')
                    || ' is not a status; expected one of {{ recommendation_statuses() | join(", ") }}.'
            when a.status_date is null
                then
                    '(row ' || cast(a.source_row_number as {{ dbt.type_string() }})
                    || ', column ' || {{ sq }} || 'date' || {{ sq }} || '): '
                    || coalesce({{ sq }} || a.status_date_text || {{ sq }}, 'an empty date')
                    || ' is not a date; expected YYYY-MM-DD, such as 2026-08-07.'
        end as problem_detail
    from actions as a
    left join proposed as p
        on a.recommendation_id = p.recommendation_id
),

final as (
    select
        recommendation_id,
        status,
        status_date,
        note,
        reviewer,
        file_id,
        source_path,
        source_row_number,
        loaded_at,
        case when problem_detail is not null then source_path || ' ' || problem_detail end as problem
    from judged
)

select * from final
