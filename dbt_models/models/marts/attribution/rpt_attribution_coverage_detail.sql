{#- Attribution coverage per billing month, provider, account (billing account and sub
    account) and team: effective cost by attribution method and each method's share of it.
    Attributed = on a team other than the fallback `unallocated` (a shared-cost piece that found
    no recipient stays unallocated too); the coverage check
    (tests/marts/assert_attribution_coverage_meets_target.sql) sums this per month and
    provider. The per-month-and-provider published view is rpt_attribution_coverage. -#}
{%- set methods = ['tag', 'tag_alias', 'tag_unregistered', 'account_map', 'resource_rule',
                   'shared_split', 'unallocated'] -%}
with allocations as (
    select * from {{ ref('fct_cost_allocations') }}
),

by_method as (
    select
        billing_month,
        provider,
        billing_account_id,
        sub_account_id,
        team,
        billing_currency,
        count(*) as allocation_count,
        sum(effective_cost) as total_effective_cost,
        {%- for m in methods %}
            sum(case when attribution_method = '{{ m }}' then effective_cost else 0 end)
                as {{ m }}_cost,
        {%- endfor %}
        max(sub_account_name) as sub_account_name
    from allocations
    group by billing_month, provider, billing_account_id, sub_account_id, team, billing_currency
),

final as (
    select
        {{ md5_hex("concat(cast(billing_month as " ~ dbt.type_string() ~ "), '|', provider, '|', coalesce(billing_account_id, '~'), '|', coalesce(sub_account_id, '~'), '|', team, '|', billing_currency)") }}
            as coverage_detail_id,
        billing_month,
        provider,
        billing_account_id,
        sub_account_id,
        sub_account_name,
        team,
        team = 'unallocated' as is_unattributed,
        billing_currency,
        allocation_count,
        cast(total_effective_cost as {{ money_type() }}) as total_effective_cost,
        {%- for m in methods %}
            cast({{ m }}_cost as {{ money_type() }}) as {{ m }}_cost,
        {%- endfor %}
        {%- for m in methods %}
            round(cast({{ m }}_cost / nullif(total_effective_cost, 0) as {{ float_type() }}), 6)
                as {{ m }}_share{% if not loop.last %},{% endif %}
        {%- endfor %}
    from by_method
)

select * from final
