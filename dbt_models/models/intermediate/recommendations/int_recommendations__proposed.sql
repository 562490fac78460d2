{#- Every proposed action, one row each: the union of the recommendation sources (one model
    each, all returning recommendation_columns()). -#}
with proposed as (
    {%- for source_model in ['int_recommendations__idle_waste', 'int_recommendations__auto_shutdown',
                             'int_recommendations__storage_tiering', 'int_recommendations__spot',
                             'int_recommendations__gpu_quotas', 'int_recommendations__commitments'] %}
        select {{ recommendation_columns() | join(', ') }}
        from {{ ref(source_model) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from proposed
