{{ config(**billing_period_incremental('billing_period')) }}

{#- Every FOCUS row attributed: directly attributed rows once (allocation_share 1), shared rows
    as one piece per receiving team. Money is conserved exactly per row
    (tests/marts/assert_cost_allocations_conserve_focus_totals.sql). A split piece names its
    source row (focus_row_id), its method (allocation_method_id) and the method's parameters
    (allocation_method_details, JSON): the input of the FOCUS 1.3 allocation export. -#}
with attributed as {{ inline_cte() }} (
    select * from {{ ref('int_cost_rows_attributed') }}
),

shared_pieces as (
    select * from {{ ref('int_shared_costs_split') }}
),

attribution_methods as (
    select * from {{ ref('attribution_methods') }}
),

direct as (
    select
        a.* {{ star_except(['split_method']) }},
        cast(null as {{ dbt.type_string() }}) as split_basis,
        {{ to_decimal('1', 38, 10) }} as allocation_share,
        cast(null as {{ dbt.type_string() }}) as allocation_method_id,
        cast(null as {{ dbt.type_string() }}) as allocation_method_details
    from attributed as a
    where a.attribution_method <> 'shared_split'
),

split as (
    select
        -- Same columns in the same order as direct: the union below is positional.
        a.* {{ star_except(['split_method']) }} replace (
            p.team as team,
            p.billed_cost as billed_cost,
            p.effective_cost as effective_cost,
            p.list_cost as list_cost,
            p.pricing_quantity as pricing_quantity
        ),
        a.split_method || ':' || p.split_basis as split_basis,
        p.allocation_share,
        a.shared_rule_id || ':' || a.split_method as allocation_method_id,
        {{ json_object_pairs([
            ('rule_id', 'a.shared_rule_id'),
            ('split_method', 'a.split_method'),
            ('basis', 'p.split_basis'),
            ('weight', "case p.split_basis when 'sub_account' then 'effective_cost' when 'provider' then 'effective_cost' when 'fixed' then 'fixed_share' when 'even' then 'equal' else p.split_basis end"),
            ('share', 'cast(p.allocation_share as ' ~ dbt.type_string() ~ ')'),
        ]) }} as allocation_method_details
    from attributed as a
    inner join shared_pieces as p on a.focus_row_id = p.focus_row_id
),

unioned as (
    select * from direct
    union all
    select * from split
),

final as (
    select
        {{ md5_hex("u.focus_row_id || '|' || u.team") }} as allocation_id,
        u.focus_row_id,
        u.provider,
        u.billing_account_id,
        u.sub_account_id,
        u.sub_account_name,
        u.billing_period,
        u.billing_month,
        u.charge_date,
        u.charge_period_start,
        u.charge_period_end,
        u.charge_category,
        u.charge_description,
        u.commitment_discount_id,
        u.commitment_discount_status,
        u.service_category,
        u.service_name,
        u.service_code,
        u.usage_type,
        u.region_id,
        u.resource_id,
        u.resource_name,
        u.team,
        u.ml_model,
        u.workload,
        u.attribution_method,
        m.confidence as attribution_confidence,
        u.ml_model_source,
        u.workload_source,
        u.workload_rule_id,
        u.shared_rule_id,
        u.split_basis,
        u.allocation_share,
        u.allocation_method_id,
        u.allocation_method_details,
        u.account_team,
        u.has_owner_tag,
        u.has_tag_conflict,
        u.billing_currency,
        u.billed_cost,
        u.effective_cost,
        u.list_cost,
        u.pricing_quantity,
        u.pricing_unit
    from unioned as u
    left join attribution_methods as m on u.attribution_method = m.attribution_method
)

select * from final
-- The run's billing-period window (all periods when none is given).
where {{ billing_period_window('billing_period') }}
