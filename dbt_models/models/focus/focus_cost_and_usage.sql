{#- The published FOCUS 1.2 Cost and Usage dataset: every provider mapping, one schema. -#}
{%- set mappings = ['int_focus__aws', 'int_focus__gcp', 'int_focus__azure', 'int_focus__oci',
                    'int_focus__focus_files'] -%}
with unioned as (
    {%- for m in mappings %}
    select {{ focus_select_all() }}
    from {{ ref(m) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select * from unioned
)

select * from final
