{#- Direct attribution of every FOCUS row to team, ml_model and workload (docs/attribution.md).
    Team precedence: resource tags/labels, registered or not (unless the account is marked overrides_tags and the
    tag names another team: then the account's team) > shared-cost rule (team left null here,
    split by int_shared_costs_split) > account map > owner of the tagged model or of the model
    named in the resource id (resource_rule) > unallocated. Reference seeds are read through
    reference_rows: only the rows of the run's reference set apply.
    Rules are matched once per distinct combination of the matched columns, then joined back. -#}
{%- set rule_value -%}
case rule.match_on
    when 'service_code' then k.service_code
    when 'service_name' then k.service_name
    when 'service_category' then k.service_category
    when 'usage_type' then k.usage_type
    when 'resource_id' then k.resource_id
    when 'sub_account_id' then k.sub_account_id
    when 'charge_category' then k.charge_category
    when 'charge_description' then k.charge_description
    when 'commitment_discount_status' then k.commitment_discount_status
end
{%- endset -%}
{%- set rule_keys = ['provider', 'sub_account_id', 'service_code', 'service_name',
                     'service_category', 'usage_type', 'resource_id', 'charge_category',
                     'charge_description', 'commitment_discount_status'] -%}
-- CTEs read twice are inlined (inline_cte): materialized, at 10M rows they spilled 8 GB to
-- disk (43 s instead of 17 s); re-reading `joined` is cheap, its filter reaches the scan.
with focus as {{ inline_cte() }} (
    select * from {{ ref('focus_cost_and_usage') }}
    -- A billing-period run attributes only its window: shared-cost weights are per period.
    where {{ billing_period_window(q('x_BillingPeriod')) }}
),

tag_sets as (
    select * from {{ ref('int_tag_sets_normalized') }}
),

account_team_map as (
    {{ reference_rows('account_team_map') }}
),

workload_rules as (
    {{ reference_rows('workload_rules') }}
),

shared_cost_rules as (
    {{ reference_rows('shared_cost_rules') }}
),

ml_models as (
    {{ reference_rows('ml_models') }}
),

renamed as {{ inline_cte() }} (
    select
        {{ q('x_RowId') }} as focus_row_id,
        {{ q('x_ProviderCode') }} as provider,
        {{ q('BillingAccountId') }} as billing_account_id,
        {{ q('SubAccountId') }} as sub_account_id,
        {{ q('SubAccountName') }} as sub_account_name,
        {{ q('x_BillingPeriod') }} as billing_period,
        {{ month_start(q('BillingPeriodStart')) }} as billing_month,
        cast({{ q('ChargePeriodStart') }} as date) as charge_date,
        {{ q('ChargePeriodStart') }} as charge_period_start,
        {{ q('ChargePeriodEnd') }} as charge_period_end,
        {{ q('ChargeCategory') }} as charge_category,
        {{ q('ChargeDescription') }} as charge_description,
        {{ q('CommitmentDiscountId') }} as commitment_discount_id,
        {{ q('CommitmentDiscountStatus') }} as commitment_discount_status,
        {{ q('ServiceCategory') }} as service_category,
        {{ q('ServiceName') }} as service_name,
        {{ q('x_ServiceCode') }} as service_code,
        {{ q('x_UsageType') }} as usage_type,
        {{ q('RegionId') }} as region_id,
        {{ q('ResourceId') }} as resource_id,
        {{ q('ResourceName') }} as resource_name,
        {{ q('Tags') }} as tags_json,
        {{ q('BillingCurrency') }} as billing_currency,
        {{ q('BilledCost') }} as billed_cost,
        {{ q('EffectiveCost') }} as effective_cost,
        {{ q('ListCost') }} as list_cost,
        {{ q('PricingQuantity') }} as pricing_quantity,
        {{ q('PricingUnit') }} as pricing_unit
    from focus
),

rule_keys as (
    select distinct {{ rule_keys | join(', ') }}
    from renamed
),

workload_matches as (
    select
        {% for c in rule_keys %}k.{{ c }}, {% endfor %}
        rule.workload,
        rule.rule_id
    from rule_keys as k
    inner join workload_rules as rule
        on
            rule.provider in ('*', k.provider)
            and lower({{ rule_value }}) like lower(rule.pattern)
    qualify row_number() over (
        partition by {% for c in rule_keys %}k.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
        order by rule.priority, rule.rule_id
    ) = 1
),

shared_matches as (
    select
        {% for c in rule_keys %}k.{{ c }}, {% endfor %}
        rule.rule_id,
        rule.split_method
    from rule_keys as k
    inner join shared_cost_rules as rule
        on
            rule.provider in ('*', k.provider)
            and lower({{ rule_value }}) like lower(rule.pattern)
    qualify row_number() over (
        partition by {% for c in rule_keys %}k.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
        order by rule.priority, rule.rule_id
    ) = 1
),

resource_keys as (
    select distinct
        resource_id,
        resource_name
    from renamed
    where resource_id is not null
),

resource_model_matches as (
    select
        k.resource_id,
        k.resource_name,
        m.ml_model,
        m.team
    from resource_keys as k
    inner join ml_models as m
        on
            m.match_resource_name
            and lower(coalesce(k.resource_id, '') || ' ' || coalesce(k.resource_name, ''))
            like '%' || lower(m.alias) || '%'
    -- The longest alias is the most specific.
    qualify row_number() over (
        partition by k.resource_id, k.resource_name
        order by length(m.alias) desc, m.ml_model
    ) = 1
),

model_owners as (
    select distinct
        ml_model,
        team
    from ml_models
),

joined as {{ inline_cte() }} (
    select
        r.*,
        t.tag_team,
        coalesce(t.is_tag_team_alias, false) as is_tag_team_alias,
        coalesce(t.is_tag_team_unregistered, false) as is_tag_team_unregistered,
        t.tag_ml_model,
        coalesce(t.is_tag_ml_model_unregistered, false) as is_tag_ml_model_unregistered,
        t.tag_workload,
        coalesce(t.has_owner_tag, false) as has_owner_tag,
        coalesce(acct_sub.team, acct_bill.team) as account_team,
        coalesce(acct_sub.ml_model, acct_bill.ml_model) as account_ml_model,
        coalesce(acct_sub.overrides_tags, acct_bill.overrides_tags, false) as account_overrides_tags,
        wm.workload as rule_workload,
        wm.rule_id as workload_rule_id,
        sm.rule_id as shared_rule_id,
        sm.split_method,
        rm.ml_model as resource_ml_model,
        tm.team as tag_model_team,
        -- The owner of the tagged model, else of the model named in the resource.
        coalesce(tm.team, rm.team) as resource_team
    from renamed as r
    left join tag_sets as t
        on
            r.provider = t.provider
            and r.tags_json = t.tags_json
    left join account_team_map as acct_sub
        on
            r.provider = acct_sub.provider
            and r.sub_account_id = acct_sub.account_id
    -- The billing account is a fallback for rows without a sub account only: every AWS row
    -- carries the payer, whose team must not swallow the linked accounts' untagged cost.
    left join account_team_map as acct_bill
        on
            r.provider = acct_bill.provider
            and r.sub_account_id is null
            and r.billing_account_id = acct_bill.account_id
    left join workload_matches as wm
        on {% for c in rule_keys %}r.{{ c }} is not distinct from wm.{{ c }}{% if not loop.last %}
            and {% endif %}{% endfor %}
    left join shared_matches as sm
        on {% for c in rule_keys %}r.{{ c }} is not distinct from sm.{{ c }}{% if not loop.last %}
            and {% endif %}{% endfor %}
    left join resource_model_matches as rm
        on
            r.resource_id = rm.resource_id
            and r.resource_name is not distinct from rm.resource_name
    left join model_owners as tm
        on t.tag_ml_model = tm.ml_model
),

attributed as {{ inline_cte() }} (
    select
        *,
        case
            -- A dedicated account (overrides_tags) corrects a tag naming another team.
            when
                tag_team is not null and account_overrides_tags and account_team is not null
                and tag_team <> account_team then 'account_map'
            when tag_team is not null and is_tag_team_unregistered then 'tag_unregistered'
            when tag_team is not null and is_tag_team_alias then 'tag_alias'
            when tag_team is not null then 'tag'
            when shared_rule_id is not null then 'shared_split'
            when account_team is not null then 'account_map'
            when resource_team is not null then 'resource_rule'
            else 'unallocated'
        end as attribution_method,
        -- Commitment fees and unused commitment name the commitment as the last segment of
        -- CommitmentDiscountId (or of the fee's ResourceId, GCP); covered usage does too.
        case
            when
                commitment_discount_status = 'Used'
                or commitment_discount_status = 'Unused'
                or charge_category = 'Purchase'
                then {{ regex_extract('coalesce(commitment_discount_id, resource_id)', '[^/:]+$') }}
        end as commitment_name
    from joined
),

commitment_profiles as (
    -- What each commitment covered in the period, weighted by the on-demand value of the
    -- covered usage: its fee and unused part belong to that model and workload.
    select
        provider,
        billing_period,
        commitment_name,
        {{ arg_max_not_null('coalesce(tag_ml_model, resource_ml_model, account_ml_model)', 'list_cost') }}
            as covered_ml_model,
        {{ arg_max_not_null('coalesce(tag_workload, rule_workload)', 'list_cost') }}
            as covered_workload
    from attributed
    where
        commitment_discount_status = 'Used'
        and commitment_name is not null
    group by provider, billing_period, commitment_name
),

profiled as (
    select
        a.*,
        -- The condition is bracketed only so that sqlfluff parses IS DISTINCT FROM here.
        case when (a.commitment_discount_status is distinct from 'Used') then p.covered_ml_model end
            as commitment_ml_model,
        case when (a.commitment_discount_status is distinct from 'Used') then p.covered_workload end
            as commitment_workload
    from attributed as a
    left join commitment_profiles as p
        on
            a.provider = p.provider
            and a.billing_period = p.billing_period
            and a.commitment_name = p.commitment_name
),

final as (
    select
        focus_row_id,
        provider,
        billing_account_id,
        sub_account_id,
        sub_account_name,
        billing_period,
        billing_month,
        charge_date,
        charge_period_start,
        charge_period_end,
        charge_category,
        charge_description,
        commitment_discount_id,
        commitment_discount_status,
        service_category,
        service_name,
        service_code,
        usage_type,
        region_id,
        resource_id,
        resource_name,
        case attribution_method
            when 'account_map' then account_team
            when 'tag' then tag_team
            when 'tag_alias' then tag_team
            when 'tag_unregistered' then tag_team
            when 'resource_rule' then resource_team
            when 'unallocated' then 'unallocated'
        end as team,
        case
            when attribution_method = 'shared_split' then 'none'
            else coalesce(
                tag_ml_model, commitment_ml_model, resource_ml_model, account_ml_model,
                'none'
            )
        end as ml_model,
        -- A split row keeps the workload of what it is (networking, other...): splitting decides
        -- the team only. `shared` is the fallback when nothing classifies the row.
        coalesce(tag_workload, commitment_workload, rule_workload, 'shared') as workload,
        attribution_method,
        case
            when attribution_method = 'shared_split' then 'shared_split'
            when tag_ml_model is not null and is_tag_ml_model_unregistered then 'tag_unregistered'
            when tag_ml_model is not null then 'tag'
            when commitment_ml_model is not null then 'commitment_usage'
            when resource_ml_model is not null then 'resource_rule'
            when account_ml_model is not null then 'account_map'
            else 'default'
        end as ml_model_source,
        case
            when tag_workload is not null then 'tag'
            when commitment_workload is not null then 'commitment_usage'
            when rule_workload is not null then 'workload_rule'
            else 'default'
        end as workload_source,
        -- What decided the workload: a workload_rules id, else `tag`, `commitment_usage`, `default`.
        case
            when tag_workload is not null then 'tag'
            when commitment_workload is not null then 'commitment_usage'
            when rule_workload is not null then workload_rule_id
            else 'default'
        end as workload_rule_id,
        case when attribution_method = 'shared_split' then shared_rule_id end as shared_rule_id,
        case when attribution_method = 'shared_split' then split_method end as split_method,
        -- A team tag naming another team than the owner of the tagged model, or than the
        -- team owning the account, is often a tagging mistake: flagged for someone to fix.
        coalesce(tag_model_team <> tag_team or account_team <> tag_team, false)
            as has_tag_conflict,
        account_team,
        has_owner_tag,
        billing_currency,
        billed_cost,
        effective_cost,
        list_cost,
        pricing_quantity,
        pricing_unit
    from profiled
)

select * from final
