{#- The FOCUS 1.3 allocation dataset (docs/focus-allocated.md): one row per split row of
    mlcost's own shared-cost splits (fct_cost_allocations rows with attribution_method =
    'shared_split'). Each carries every FOCUS column of its source (origin) charge, the costs
    and quantities of its share, and FOCUS 1.3's allocation columns naming the team it went
    to. The split source row, method id and method parameters are the mart's own published
    columns (focus_row_id, allocation_method_id, allocation_method_details): this model only
    renders them in FOCUS form. Split rows of one origin charge sum back to it exactly:
    BilledCost, EffectiveCost, ListCost and PricingQuantity are the mart's own exact pieces;
    the other cost and quantity columns are split here with the same share, the largest share
    taking the remainder. -#}
{%- set mart_pieces = {'BilledCost': 'billed_cost', 'EffectiveCost': 'effective_cost',
                       'ListCost': 'list_cost', 'PricingQuantity': 'pricing_quantity'} -%}
{%- set split_here = ['ContractedCost', 'PricingCurrencyEffectiveCost', 'ConsumedQuantity',
                      'CommitmentDiscountQuantity'] -%}
{%- set allocated = ['AllocatedMethodDetails', 'AllocatedMethodId', 'AllocatedResourceId',
                     'AllocatedResourceName', 'AllocatedTags'] -%}
with splits as (
    select
        allocation_id,
        focus_row_id,
        team,
        allocation_share,
        allocation_method_id,
        allocation_method_details,
        billed_cost,
        effective_cost,
        list_cost,
        pricing_quantity,
        -- The piece that takes the rounding remainders (as int_shared_costs_split does).
        row_number() over (
            partition by focus_row_id order by allocation_share desc, team asc
        ) as share_rank
    from {{ ref('fct_cost_allocations') }}
    where attribution_method = 'shared_split'
),

origins as (
    select f.*
    from {{ ref('focus_cost_and_usage') }} as f
    where f.{{ adapter.quote('x_RowId') }} in (select s.focus_row_id from splits as s)
),

pieces as (
    select
        {%- for col in split_here %}
            o.{{ adapter.quote(col) }} as origin_{{ col | lower }},
            {{ money_mul('o.' ~ adapter.quote(col), 's.allocation_share') }} as piece_{{ col | lower }},
        {%- endfor %}
        s.*
    from splits as s
    inner join origins as o on s.focus_row_id = o.{{ adapter.quote('x_RowId') }}
),

balanced as (
    select
        {%- for col in split_here %}
            p.piece_{{ col | lower }} + case
                when p.share_rank = 1
                    then
                        p.origin_{{ col | lower }}
                        - sum(p.piece_{{ col | lower }}) over (partition by p.focus_row_id)
                else 0
            end as split_{{ col | lower }},
        {%- endfor %}
        p.*
    from pieces as p
),

final as (
    select
        {%- for name, kind in focus_columns() %}
            {%- if name in mart_pieces %}
                cast(b.{{ mart_pieces[name] }} as {{ focus_sql_type(kind) }}) as {{ adapter.quote(name) }},
            {%- elif name in split_here %}
                cast(b.split_{{ name | lower }} as {{ focus_sql_type(kind) }}) as {{ adapter.quote(name) }},
            {%- elif name == 'AllocatedMethodId' %}
                -- `<rule_id>:<split_method>` as the documented `mlcost/<rule_id>/<split_method>`.
                'mlcost/' || replace(b.allocation_method_id, ':', '/') as {{ adapter.quote(name) }},
            {%- elif name == 'AllocatedMethodDetails' %}
                {{ json_text("json_object('Elements', json_array(json_object('AllocatedRatio', b.allocation_share)), "
                             ~ "'x_RuleId', " ~ json_string('b.allocation_method_details', '$.rule_id') ~ ", "
                             ~ "'x_SplitBasis', " ~ json_string('b.allocation_method_details', '$.split_method')
                             ~ " || ':' || " ~ json_string('b.allocation_method_details', '$.basis') ~ ", "
                             ~ "'x_Weight', " ~ json_string('b.allocation_method_details', '$.weight') ~ ")") }}
                    as {{ adapter.quote(name) }},
            {%- elif name == 'AllocatedResourceId' %}
                'mlcost/team/' || b.team as {{ adapter.quote(name) }},
            {%- elif name == 'AllocatedResourceName' %}
                b.team as {{ adapter.quote(name) }},
            {%- elif name == 'AllocatedTags' %}
                {{ json_text("json_object('mlcost/team', b.team)") }} as {{ adapter.quote(name) }},
            {%- else %}
                o.{{ adapter.quote(name) }},
            {%- endif %}
        {%- endfor %}
        b.allocation_id as {{ adapter.quote('x_AllocationId') }}
    from balanced as b
    inner join origins as o on b.focus_row_id = o.{{ adapter.quote('x_RowId') }}
)

select * from final
