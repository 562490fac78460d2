{#- The published FOCUS 1.2 Cost and Usage dataset: every provider mapping, one schema.
    Units are normalised here, once, to the FOCUS unit format; the provider's own spelling
    stays in x_PricingUnit / x_ConsumedUnit. -#}
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
    select
        * replace (
            {{ focus_unit('"PricingUnit"') }} as "PricingUnit",
            {{ focus_unit('"ConsumedUnit"') }} as "ConsumedUnit",
            {{ focus_unit('"CommitmentDiscountUnit"') }} as "CommitmentDiscountUnit",
            "PricingUnit" as "x_PricingUnit",
            "ConsumedUnit" as "x_ConsumedUnit"
        )
    from unioned
)

select * from final
