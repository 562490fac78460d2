{#- GCP Cloud Billing export -> FOCUS 1.2. Rules: docs/providers/gcp.md.
    Discount-like credits (CUDs, sustained use, contractual, free tier) are applied on the row,
    as FOCUS wants discounts; promotions and any unknown credit type become separate Credit rows
    (split n = position of the credit in the row's list). -#}
{%- set in_row = ['COMMITTED_USAGE_DISCOUNT', 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE',
                  'FEE_UTILIZATION_OFFSET', 'SUSTAINED_USAGE_DISCOUNT', 'DISCOUNT', 'FREE_TIER',
                  'SUBSCRIPTION_BENEFIT', 'RESELLER_MARGIN'] -%}
with line_items as (
    select * from {{ ref('stg_gcp_billing__line_items') }}
),

services as (
    select * from {{ ref('service_categories') }}
    where provider = 'gcp'
),

prepared as (
    select
        li.*,
        {{ credits_total('li.credits_json', types=in_row) }} as in_row_credits,
        {{ gcp_credit_list('li.credits_json') }}
            as credit_list,
        coalesce(s.service_name, li.service_description) as service_name,
        coalesce(s.service_category, 'Other') as service_category,
        coalesce(s.service_subcategory, 'Other (Other)') as service_subcategory,
        -- Labels: resource labels unprefixed (the user's scheme), project and system labels
        -- carry a prefix so they never collide with them (macro gcp_labels_json).
        {{ gcp_labels_json('li.labels_json', 'li.project_labels_json', 'li.system_labels_json') }} as tags_json_built
    from line_items as li
    left join services as s on s.service_key = li.service_description
),

classified as (
    select
        *,
        {{ yyyymm_start('invoice_month') }} as billing_period_start_at,
        case
            when cost_type = 'tax' then 'Tax'
            when cost_type in ('adjustment', 'rounding_error', 'rounding error') then 'Adjustment'
            when sku_description like 'Commitment%' then 'Purchase'
            else 'Usage'
        end as charge_category,
        -- The first committed-use credit in the row's credit list, in list order.
        {{ gcp_first_credit('credit_list', 'id', ['COMMITTED_USAGE_DISCOUNT', 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE', 'FEE_UTILIZATION_OFFSET']) }} as cud_id,
        {{ gcp_first_credit('credit_list', 'type', ['COMMITTED_USAGE_DISCOUNT', 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE', 'FEE_UTILIZATION_OFFSET']) }} as cud_type
    from prepared
),

billed_rows as (
    select
        classified.*,
        0 as row_split,
        classified.cost + classified.in_row_credits as billed_cost,
        -{{ credits_total('classified.credits_json', types=['COMMITTED_USAGE_DISCOUNT', 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE', 'FEE_UTILIZATION_OFFSET']) }}
            as cud_weight,
        coalesce(classified.region, 'global') as cud_pool_region,
        cast(null as {{ dbt.type_string() }}) as credit_type
    from classified
),

-- Committed use discounts, amortized: GCP bills the commitment as a monthly fee SKU
-- ("Commitment v1: ...") and credits the covered usage. In FOCUS the fee is a Purchase with
-- EffectiveCost 0, and its cost moves onto the usage it covered, in proportion to each row's
-- CUD credit, per billing account, invoice month, region and currency. The largest row takes
-- the rounding remainder so the fee is conserved exactly. A fee with no covered usage in its
-- pool becomes an Unused commitment row.
cud_pools as (
    select
        billing_account_id,
        invoice_month,
        cud_pool_region,
        currency,
        sum(case when charge_category = 'Purchase' then billed_cost end) as fee_total,
        sum(case when charge_category = 'Usage' and cud_id is not null then cud_weight end)
            as weight_total
    from billed_rows
    group by billing_account_id, invoice_month, cud_pool_region, currency
),

cud_shares as (
    select
        b.billing_account_id,
        b.file_id,
        b.source_row_number,
        p.fee_total,
        {{ money_mul('p.fee_total', to_decimal('b.cud_weight / p.weight_total', 38, 10)) }}
            as rounded_share,
        row_number() over (
            partition by b.billing_account_id, b.invoice_month, b.cud_pool_region, b.currency
            order by b.cud_weight desc, b.file_id asc, b.source_row_number asc
        ) as share_rank,
        sum({{ money_mul('p.fee_total', to_decimal('b.cud_weight / p.weight_total', 38, 10)) }}) over (
            partition by b.billing_account_id, b.invoice_month, b.cud_pool_region, b.currency
        ) as rounded_total
    from billed_rows as b
    inner join cud_pools as p
        on
            b.billing_account_id = p.billing_account_id
            and b.invoice_month = p.invoice_month
            and b.cud_pool_region = p.cud_pool_region
            and b.currency = p.currency
    where
        b.charge_category = 'Usage' and b.cud_id is not null
        and p.fee_total is not null and p.weight_total > 0
),

usage_rows as (
    select
        b.*,
        case
            when b.charge_category = 'Purchase' then cast(0 as {{ money_type() }})
            when sh.share_rank = 1
                then b.billed_cost + sh.rounded_share + (sh.fee_total - sh.rounded_total)
            when sh.share_rank is not null then b.billed_cost + sh.rounded_share
            else b.billed_cost
        end as effective_cost,
        cast(null as {{ dbt.type_string() }}) as commitment_status
    from billed_rows as b
    left join cud_shares as sh
        on b.file_id = sh.file_id and b.source_row_number = sh.source_row_number
),

unused_cud_rows as (
    -- Same columns in the same order as usage_rows: the union below is positional.
    select
        b.* replace (
            999 as row_split,
            cast(0 as {{ money_type() }}) as billed_cost
        ),
        b.billed_cost as effective_cost,
        'Unused' as commitment_status
    from billed_rows as b
    inner join cud_pools as p
        on
            b.billing_account_id = p.billing_account_id
            and b.invoice_month = p.invoice_month
            and b.cud_pool_region = p.cud_pool_region
            and b.currency = p.currency
    where b.charge_category = 'Purchase' and coalesce(p.weight_total, 0) = 0
),

credit_rows as (
    -- The columns of usage_rows, in their order (the union below is positional).
    select
        c.* {{ star_except(['credit_list']) }},
        cast(cr.n as integer) as row_split,
        cast(cr.amount as {{ money_type() }}) as billed_cost,
        cast(null as {{ money_type() }}) as cud_weight,
        cast(null as {{ dbt.type_string() }}) as cud_pool_region,
        cr.credit_type,
        cast(cr.amount as {{ money_type() }}) as effective_cost,
        cast(null as {{ dbt.type_string() }}) as commitment_status
    from classified as c,
        {{ gcp_credit_rows('c.credit_list') }}
    where coalesce(cr.credit_type, '') not in ({% for t in in_row %}'{{ t }}'{% if not loop.last %}, {% endif %}{% endfor %})
),

all_rows as (
    select * {{ star_except(['credit_list']) }} from usage_rows
    union all
    select * {{ star_except(['credit_list']) }} replace ('Usage' as charge_category) from unused_cud_rows
    union all
    select * replace ('Credit' as charge_category) from credit_rows
),

mapped as (
    select
        {{ focus_fill({
            'AvailabilityZone': 'zone',
            'BilledCost': 'billed_cost',
            'BillingAccountId': 'billing_account_id',
            'BillingAccountType': "'Billing Account'",
            'BillingCurrency': 'currency',
            'BillingPeriodEnd': add_months('billing_period_start_at', 1),
            'BillingPeriodStart': 'billing_period_start_at',
            'ChargeCategory': 'charge_category',
            'ChargeClass': "case when charge_category in ('Adjustment', 'Credit') and usage_start_at < billing_period_start_at then 'Correction' end",
            'ChargeDescription': "case when row_split = 999 then 'Unused commitment: ' || coalesce(sku_description, '') when row_split > 0 then 'Credit ' || coalesce(credit_type, '') || ': ' || coalesce(sku_description, '') else sku_description end",
            'ChargeFrequency': "case when charge_category = 'Purchase' or row_split = 999 then 'Recurring' when charge_category = 'Usage' then 'Usage-Based' when charge_category = 'Tax' then 'Recurring' else 'One-Time' end",
            'ChargePeriodEnd': 'usage_end_at',
            'ChargePeriodStart': 'usage_start_at',
            'CommitmentDiscountCategory': "case when row_split = 999 then 'Usage' when row_split = 0 and charge_category = 'Usage' and cud_id is not null then case when cud_type = 'COMMITTED_USAGE_DISCOUNT' then 'Usage' else 'Spend' end end",
            'CommitmentDiscountId': "case when row_split = 999 then sku_id when row_split = 0 and charge_category = 'Usage' then cud_id end",
            'CommitmentDiscountStatus': "case when row_split = 999 then 'Unused' when row_split = 0 and charge_category = 'Usage' and cud_id is not null then 'Used' end",
            'CommitmentDiscountType': "case when row_split = 999 then 'Committed Use Discount' when row_split = 0 and charge_category = 'Usage' and cud_id is not null then 'Committed Use Discount' end",
            'CommitmentDiscountQuantity': "case when row_split = 999 then coalesce(usage_amount_in_pricing_units, usage_amount, 1) when row_split = 0 and charge_category = 'Usage' and cud_id is not null then usage_amount_in_pricing_units end",
            'CommitmentDiscountUnit': "case when row_split = 999 then coalesce(usage_pricing_unit, usage_unit, 'Units') when row_split = 0 and charge_category = 'Usage' and cud_id is not null and usage_amount_in_pricing_units is not null then coalesce(usage_pricing_unit, 'Units') end",
            'ConsumedQuantity': "case when row_split = 0 and charge_category = 'Usage' then usage_amount end",
            'ConsumedUnit': "case when row_split = 0 and charge_category = 'Usage' and usage_amount is not null then coalesce(usage_unit, 'Units') end",
            'ContractedCost': "case when row_split = 0 and charge_category in ('Usage', 'Purchase') then cost else billed_cost end",
            'EffectiveCost': 'effective_cost',
            'InvoiceIssuerName': invoice_issuer("'Google Cloud'", 'seller_name'),
            'x_InvoiceIssuerEntity': "coalesce(seller_name, 'Google LLC')",
            'ListCost': "case when row_split = 0 and charge_category in ('Usage', 'Purchase') then coalesce(cost_at_list, cost) else billed_cost end",
            'PricingCategory': "case when row_split = 999 then 'Committed' when row_split > 0 or charge_category in ('Tax', 'Credit', 'Adjustment') then null when charge_category = 'Purchase' then 'Standard' when cud_id is not null then 'Committed' when lower(sku_description) like '%spot%' or lower(sku_description) like '%preemptible%' then 'Dynamic' else 'Standard' end",
            'PricingQuantity': "case when row_split in (0, 999) and charge_category in ('Usage', 'Purchase') then coalesce(usage_amount_in_pricing_units, usage_amount, 1) end",
            'PricingUnit': "case when row_split in (0, 999) and charge_category in ('Usage', 'Purchase') then coalesce(usage_pricing_unit, usage_unit, 'Units') end",
            'ProviderName': "'Google Cloud'",
            'PublisherName': "coalesce(seller_name, 'Google Cloud')",
            'RegionId': 'region',
            'RegionName': 'region',
            'ResourceId': 'coalesce(resource_global_name, resource_name)',
            'ResourceName': 'case when coalesce(resource_global_name, resource_name) is not null then resource_name end',
            'ServiceCategory': 'service_category',
            'ServiceName': 'service_name',
            'ServiceSubcategory': 'service_subcategory',
            'SkuId': 'sku_id',
            'SkuMeter': 'sku_description',
            'SkuPriceId': "case when sku_id is not null then sku_id end",
            'SubAccountId': 'project_id',
            'SubAccountName': 'case when project_id is not null then project_name end',
            'SubAccountType': "case when project_id is not null then 'Project' end",
            'Tags': "case when tags_json_built in ('{}', 'null') then null else tags_json_built end",
            'ServiceProviderName': "'Google Cloud'",
            'HostProviderName': "'Google Cloud'",
            'x_RowId': row_id('file_id', 'source_row_number', 'row_split'),
            'x_ProviderCode': "'gcp'",
            'x_BillingPeriod': 'billing_period',
            'x_SourceFamily': "'gcp_billing'",
            'x_SourceFile': 'source_path',
            'x_SourceFileId': 'file_id',
            'x_SourceRowNumber': 'source_row_number',
            'x_SourceRowSplit': 'row_split',
            'x_SourceFormat': 'source_format',
            'x_SourceSchemaVersion': 'schema_version',
            'x_IngestedAt': 'loaded_at',
            'x_SourceChargeType': "coalesce(credit_type, cost_type)",
            'x_ServiceCode': 'service_id',
            'x_UsageType': 'sku_description',
        }) }}
    from all_rows
)

select * from mapped
