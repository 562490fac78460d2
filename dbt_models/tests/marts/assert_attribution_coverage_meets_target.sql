-- Attribution coverage of the latest billing month of each provider and currency: the share
-- of effective cost on a team other than `unallocated` must reach the dbt var
-- attribution_coverage_target (default 0.95). Severity warn: a low coverage is news for the
-- FinOps lead, not a reason to stop the build. Each failing row names the five largest
-- unattributed resources (marts.rpt_unattributed_resources has them all).
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'rpt_attribution_coverage_detail'}}}) }}
{%- set target_share = var('attribution_coverage_target', 0.95) | float -%}
{%- if target_share < 0 or target_share > 1 -%}
    {{ exceptions.raise_compiler_error(
        "attribution_coverage_target = " ~ target_share ~ ": expected a share between 0 and 1") }}
{%- endif %}
with detail as (
    select * from {{ ref('rpt_attribution_coverage_detail') }}
),

unattributed as (
    select * from {{ ref('rpt_unattributed_resources') }}
),

latest as (
    select
        provider,
        billing_currency,
        max(billing_month) as billing_month
    from detail
    group by provider, billing_currency
),

coverage as (
    select
        d.billing_month,
        d.provider,
        d.billing_currency,
        sum(d.total_effective_cost) as total_effective_cost,
        sum(case when d.is_unattributed then d.total_effective_cost else 0 end) as unattributed_cost
    from detail as d
    inner join latest as l
        on
            d.provider = l.provider
            and d.billing_currency = l.billing_currency
            and d.billing_month = l.billing_month
    group by d.billing_month, d.provider, d.billing_currency
),

top_resources as (
    select
        billing_month,
        provider,
        billing_currency,
        string_agg(
            resource_key || ' ('
            || cast(round(cast(unattributed_cost as {{ float_type() }}), 2) as {{ dbt.type_string() }})
            || ')',
            ', ' order by cost_rank
        ) as biggest_unattributed_resources
    from unattributed
    where cost_rank <= 5
    group by billing_month, provider, billing_currency
)

select
    c.billing_month,
    c.provider,
    c.billing_currency,
    round(cast(1 - c.unattributed_cost / c.total_effective_cost as {{ float_type() }}), 4)
        as coverage_share,
    {{ target_share }} as target_share,
    t.biggest_unattributed_resources
from coverage as c
left join top_resources as t
    on
        c.billing_month = t.billing_month
        and c.provider = t.provider
        and c.billing_currency = t.billing_currency
where
    c.total_effective_cost > 0
    and 1 - c.unattributed_cost / c.total_effective_cost < {{ target_share }}
