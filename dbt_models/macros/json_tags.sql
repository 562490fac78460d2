{#- JSON handling for tags, labels and credits. DuckDB reads JSON into maps, lists and structs;
    BigQuery reads JSON text with JSON_QUERY_ARRAY / JSON_VALUE and takes a flat object's
    members apart with a regular expression (JSON_KEYS is not available in the emulator
    the prod models are tested on). FOCUS Tags are flat objects of scalar values; a nested
    value is skipped on BigQuery (DuckDB drops the whole tag set). -#}

{#- One "key": scalar member of a flat JSON object, as text. -#}
{% macro json_member_regex() -%}"(?:[^"\\]|\\.)*"\s*:\s*(?:"(?:[^"\\]|\\.)*"|[-0-9.eE+]+|true|false|null){%- endmacro %}
{#- The member's key and value, unescaped (a JSON number or boolean becomes its text). -#}
{% macro json_member_key(member) -%}
json_value(safe.parse_json(regexp_extract({{ member }}, r'^("(?:[^"\\]|\\.)*")')), '$')
{%- endmacro %}
{% macro json_member_value(member) -%}
json_value(safe.parse_json(regexp_replace({{ member }}, r'^"(?:[^"\\]|\\.)*"\s*:\s*', '')), '$')
{%- endmacro %}
{#- A JSON string literal of a STRING. The emulator (crucible 0.1.0a2) fails TO_JSON_STRING of a
    STRING (it parses the text as JSON), so there the quoting is spelled out; it escapes
    backslash, quote, newline, carriage return and tab, enough for the tags tested there. -#}
{% macro bq_json_quote(expr) -%}
{%- if target.name == 'emulator' -%}
'"' || replace(replace(replace(replace(replace({{ expr }}, '\\', '\\\\'), '"', '\\"'), '\n', '\\n'), '\r', '\\r'), '\t', '\\t') || '"'
{%- else -%}to_json_string({{ expr }}){%- endif -%}
{%- endmacro %}
{#- A JSON object text from key and value columns of the enclosing aggregate. -#}
{% macro bq_json_object_agg(key, value, order_by) -%}
'{' || string_agg(
    {{ bq_json_quote(key) }} || ':' || if({{ value }} is null, 'null', {{ bq_json_quote(value) }}),
    ',' order by {{ order_by }}
) || '}'
{%- endmacro %}

{#- CUR 2.0 resource tags: keys `user_x` / `aws_x` become `user:x` / `aws:x`. -#}
{% macro cur2_tags_json(expr) -%}{{ return(adapter.dispatch('cur2_tags_json', 'mlcost')(expr)) }}{%- endmacro %}
{#- DuckDB: parsing every tag set into a map and back costs 1.5 s per 1M rows, most of the FOCUS
    build's time beyond the copy itself. A flat object of string values with no escapes is
    renamed in its text instead: without backslashes every `"` delimits a string, so `{"user_`
    or `,"user_` in minified text can only start a key. Sets with escapes or non-string values
    take the map path, which also turns numbers into strings. Same output either way
    (tests/test_tags_fast_path.py). -#}
{% macro default__cur2_tags_json(expr) -%}
case
    when {{ expr }} is null or {{ expr }} in ('{}', 'null') then null
    when contains({{ expr }}, '\') or regexp_matches({{ expr }}, '":\s*[^"\s]')
        then to_json(map_from_entries(list_transform(map_entries(cast(json({{ expr }}) as map(varchar, varchar))), lambda e: struct_pack(k := regexp_replace(e.key, '^(user|aws)_', '\1:'), v := e.value))))::varchar
    when regexp_matches({{ expr }}, '\s')
        then regexp_replace(json({{ expr }})::varchar, '([{,])"(user|aws)_', '\1"\2:', 'g')
    else regexp_replace({{ expr }}, '([{,])"(user|aws)_', '\1"\2:', 'g')
end
{%- endmacro %}
{% macro bigquery__cur2_tags_json(expr) -%}
case when {{ expr }} is null or {{ expr }} in ('{}', 'null') then null else (
    select {{ bq_json_object_agg("regexp_replace(tag_key, r'^(user|aws)_', r'\\1:')", 'tag_value', 'member_offset') }}
    from (
        select
            {{ json_member_key('member') }} as tag_key,
            {{ json_member_value('member') }} as tag_value,
            member_offset
        from unnest(regexp_extract_all({{ expr }}, r'{{ json_member_regex() }}')) as member
            with offset as member_offset
    )
) end
{%- endmacro %}

{#- GCP labels (lists of {key, value}) as one JSON object: resource labels as they are,
    project and system labels prefixed so they never collide with them. -#}
{% macro gcp_labels_json(labels, project_labels, system_labels) -%}{{ return(adapter.dispatch('gcp_labels_json', 'mlcost')(labels, project_labels, system_labels)) }}{%- endmacro %}
{% macro default__gcp_labels_json(labels, project_labels, system_labels) -%}
(
            select to_json(map_from_entries(list(struct_pack(k := labels.k, v := labels.v))))::varchar
            from (
                select
                    all_labels.e['key'] as k,
                    first(all_labels.e['value']) as v
                from (
                    select unnest(from_json({{ labels }}, '[{"key":"VARCHAR","value":"VARCHAR"}]')) as e
                    union all
                    select
                        struct_pack(
                            key := 'gcp-project/' || project_labels.x['key'],
                            value := project_labels.x['value']
                        )
                    from (select unnest(from_json({{ project_labels }}, '[{"key":"VARCHAR","value":"VARCHAR"}]')) as x)
                        as project_labels
                    union all
                    select
                        struct_pack(
                            key := 'gcp-system/' || system_labels.x['key'],
                            value := system_labels.x['value']
                        )
                    from (select unnest(from_json({{ system_labels }}, '[{"key":"VARCHAR","value":"VARCHAR"}]')) as x)
                        as system_labels
                ) as all_labels
                group by all_labels.e['key']
            ) as labels
        )
{%- endmacro %}
{% macro bigquery__gcp_labels_json(labels, project_labels, system_labels) -%}
(
            select {{ bq_json_object_agg('label_key', 'label_value', 'label_key') }}
            from (
                select label_key, any_value(label_value) as label_value
                from (
                    select json_value(x, '$.key') as label_key, json_value(x, '$.value') as label_value
                    from unnest(json_query_array({{ labels }})) as x
                    union all
                    select 'gcp-project/' || json_value(x, '$.key'), json_value(x, '$.value')
                    from unnest(json_query_array({{ project_labels }})) as x
                    union all
                    select 'gcp-system/' || json_value(x, '$.key'), json_value(x, '$.value')
                    from unnest(json_query_array({{ system_labels }})) as x
                )
                where label_key is not null
                group by label_key
            )
        )
{%- endmacro %}

{#- GCP credits: the list, the first credit of some types, and one row per credit. -#}
{% macro gcp_credit_list(expr) -%}{{ return(adapter.dispatch('gcp_credit_list', 'mlcost')(expr)) }}{%- endmacro %}
{% macro default__gcp_credit_list(expr) -%}
from_json(
            {{ expr }},
            '[{"name":"VARCHAR","amount":"VARCHAR","full_name":"VARCHAR","id":"VARCHAR","type":"VARCHAR"}]')
{%- endmacro %}
{% macro bigquery__gcp_credit_list(expr) -%}json_query_array({{ expr }}){%- endmacro %}

{% macro gcp_first_credit(list, field, types) -%}{{ return(adapter.dispatch('gcp_first_credit', 'mlcost')(list, field, types)) }}{%- endmacro %}
{% macro default__gcp_first_credit(list, field, types) -%}
list_filter(
            {{ list }},
            lambda c: c['type'] in ({% for t in types %}'{{ t }}'{% if not loop.last %}, {% endif %}{% endfor %})
        )[1]['{{ field }}']
{%- endmacro %}
{% macro bigquery__gcp_first_credit(list, field, types) -%}
(
            select json_value(c, '$.{{ field }}')
            from unnest({{ list }}) as c with offset as credit_offset
            where json_value(c, '$.type') in ({% for t in types %}'{{ t }}'{% if not loop.last %}, {% endif %}{% endfor %})
            order by credit_offset
            limit 1
        )
{%- endmacro %}

{#- Joined after `from <relation> as c,`: one row per credit, alias `cr` with n (1-based
    position), amount and credit_type. -#}
{% macro gcp_credit_rows(list) -%}{{ return(adapter.dispatch('gcp_credit_rows', 'mlcost')(list)) }}{%- endmacro %}
{% macro default__gcp_credit_rows(list) -%}
lateral (
            select
                u.n,
                u.credit['amount'] as amount,
                u.credit['type'] as credit_type
            from (
                select
                    unnest({{ list }}) as credit,
                    generate_subscripts({{ list }}, 1) as n
            ) as u
        ) as cr
{%- endmacro %}
{% macro bigquery__gcp_credit_rows(list) -%}
unnest(array(
            select as struct
                credit_offset + 1 as n,
                json_value(x, '$.amount') as amount,
                json_value(x, '$.type') as credit_type
            from unnest({{ list }}) as x with offset as credit_offset
        )) as cr
{%- endmacro %}

{#- (provider, tags_json, tag_key, tag_value) for every member of every tag set in `relation`;
    invalid JSON or non-object tags yield no pairs instead of failing the build. -#}
{% macro tag_pairs(relation) -%}{{ return(adapter.dispatch('tag_pairs', 'mlcost')(relation)) }}{%- endmacro %}
{% macro default__tag_pairs(relation) -%}
select
        entries.provider,
        entries.tags_json,
        -- Bracket access to the struct fields: sqlfluff takes `pair.key` for a table reference.
        entries.pair['key'] as tag_key,
        nullif(trim(entries.pair['value']), '') as tag_value
    from (
        select
            provider,
            tags_json,
            unnest(map_entries(try_cast(try_cast(tags_json as json) as map (varchar, varchar))))
                as pair
        from {{ relation }}
    ) as entries
{%- endmacro %}
{% macro bigquery__tag_pairs(relation) -%}
select
        entries.provider,
        entries.tags_json,
        {{ json_member_key('entries.member') }} as tag_key,
        nullif(trim({{ json_member_value('entries.member') }}), '') as tag_value
    from (
        select
            t.provider,
            t.tags_json,
            member
        from {{ relation }} as t,
            unnest(regexp_extract_all(t.tags_json, r'{{ json_member_regex() }}')) as member
        where starts_with(trim(t.tags_json), '{') and safe.parse_json(t.tags_json) is not null
    ) as entries
{%- endmacro %}
