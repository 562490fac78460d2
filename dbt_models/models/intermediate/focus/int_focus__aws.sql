{#- AWS CUR (v1 and 2.0) -> FOCUS 1.2. Rules and sources: docs/providers/aws.md.
    Savings Plan negation rows are folded: covered usage is billed at 0 in the row (FOCUS applies
    discounts on the row) and the negation rows disappear. Unused commitment becomes its own
    Usage row with CommitmentDiscountStatus = 'Unused' (split 1 of the fee row). -#}
with line_items as {{ inline_cte() }} (
    select * from {{ ref('stg_aws_cur_legacy__line_items') }}
    union all
    select * from {{ ref('stg_aws_cur2__line_items') }}
),

services as (
    select * from {{ ref('service_categories') }}
    where provider = 'aws'
),

classified as {{ inline_cte() }} (
    select
        li.*,
        case
            when li.line_item_type in (
                'SavingsPlanCoveredUsage', 'SavingsPlanRecurringFee',
                'SavingsPlanUpfrontFee'
            ) then li.savings_plan_arn
            when li.line_item_type in ('DiscountedUsage', 'RIFee') then li.reservation_arn
            when li.line_item_type = 'Fee' then li.reservation_arn
        end as commitment_id,
        case
            when li.line_item_type like 'SavingsPlan%' then 'Spend'
            when
                li.line_item_type in ('DiscountedUsage', 'RIFee')
                or (li.line_item_type = 'Fee' and li.reservation_arn is not null) then 'Usage'
        end as commitment_category,
        case
            when li.line_item_type in ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
                then 'Usage'
            when li.line_item_type in (
                'RIFee', 'Fee', 'SavingsPlanRecurringFee',
                'SavingsPlanUpfrontFee'
            ) then 'Purchase'
            when li.line_item_type = 'Tax' then 'Tax'
            when li.line_item_type in (
                'Credit', 'EdpDiscount', 'PrivateRateDiscount',
                'BundledDiscount', 'RiVolumeDiscount', 'Discount',
                'SppDiscount', 'DistributorDiscount'
            ) then 'Credit'
            when li.line_item_type = 'Refund' then 'Usage'
            else 'Adjustment'
        end as charge_category,
        -- A refund of a charge from an earlier, already invoiced period is a correction.
        case
            when li.line_item_type = 'Refund' and li.usage_start_at < li.billing_period_start_at
                then 'Correction'
        end as charge_class,
        coalesce(s.service_name, li.product_name, li.product_code) as service_name,
        coalesce(s.service_category, 'Other') as service_category,
        coalesce(s.service_subcategory, 'Other (Other)') as service_subcategory
    from line_items as li
    left join services as s on s.service_key = li.product_code
),

base_rows as (
    select
        *,
        0 as row_split,
        case
            when line_item_type = 'SavingsPlanCoveredUsage' then cast(0 as {{ money_type() }})
            else unblended_cost
        end as billed_cost,
        case
            when line_item_type = 'SavingsPlanCoveredUsage' then savings_plan_effective_cost
            when line_item_type = 'DiscountedUsage' then reservation_effective_cost
            when charge_category = 'Purchase' and commitment_id is not null
                then cast(0 as {{ money_type() }})
            else unblended_cost
        end as effective_cost,
        case when commitment_id is not null and charge_category = 'Usage' then 'Used' end
            as commitment_status
    from classified
    where line_item_type <> 'SavingsPlanNegation'
),

unused_rows as (
    select
        *,
        1 as row_split,
        cast(0 as {{ money_type() }}) as billed_cost,
        case
            when line_item_type = 'SavingsPlanRecurringFee'
                then savings_plan_total_commitment - coalesce(savings_plan_used_commitment, 0)
            else
                coalesce(reservation_unused_amortized_upfront_fee, 0)
                + coalesce(reservation_unused_recurring_fee, 0)
        end as effective_cost,
        'Unused' as commitment_status
    from classified
    where line_item_type in ('SavingsPlanRecurringFee', 'RIFee')
),

unused_nonzero as (
    select * replace ('Usage' as charge_category) from unused_rows
    where effective_cost <> 0
),

-- Savings Plan negations should cancel covered usage exactly; whatever does not cancel is
-- kept as an Adjustment so BilledCost still reconciles to the invoice.
negation_residual as (
    select
        file_id,
        billing_period,
        payer_account_id,
        currency_code,
        sum(unblended_cost) as residual,
        min(source_row_number) as first_row
    from line_items
    where line_item_type in ('SavingsPlanCoveredUsage', 'SavingsPlanNegation')
    group by file_id, billing_period, payer_account_id, currency_code
    having sum(unblended_cost) <> 0
),

residual_rows as (
    -- Same columns in the same order as base_rows: the union below is positional.
    select
        c.* replace (
            'Adjustment' as charge_category,
            cast(null as {{ dbt.type_string() }}) as charge_class,
            'SavingsPlanNegationResidual' as line_item_type,
            cast(null as {{ dbt.type_string() }}) as commitment_id,
            cast(null as {{ dbt.type_string() }}) as commitment_category
        ),
        2 as row_split,
        r.residual as billed_cost,
        cast(0 as {{ money_type() }}) as effective_cost,
        cast(null as {{ dbt.type_string() }}) as commitment_status
    from negation_residual as r
    inner join classified as c
        on c.file_id = r.file_id and c.source_row_number = r.first_row
),

all_rows as (
    select * from base_rows
    union all
    select * from unused_nonzero
    union all
    select * from residual_rows
),

mapped as (
    select
        {{ focus_fill({
            'AvailabilityZone': 'availability_zone',
            'BilledCost': 'billed_cost',
            'BillingAccountId': 'payer_account_id',
            'BillingAccountName': 'payer_account_name',
            'BillingAccountType': "'Payer Account'",
            'BillingCurrency': 'currency_code',
            'BillingPeriodEnd': 'billing_period_end_at',
            'BillingPeriodStart': 'billing_period_start_at',
            'ChargeCategory': 'charge_category',
            'ChargeClass': 'charge_class',
            'ChargeDescription': "case when row_split = 1 then 'Unused commitment: ' || coalesce(line_item_description, '') else line_item_description end",
            'ChargeFrequency': "case when charge_category = 'Purchase' and line_item_type in ('RIFee', 'SavingsPlanRecurringFee') then 'Recurring' when charge_category = 'Purchase' then 'One-Time' when charge_category = 'Usage' and row_split = 1 then 'Recurring' when charge_category = 'Usage' then 'Usage-Based' when charge_category = 'Tax' then 'Recurring' else 'One-Time' end",
            'ChargePeriodEnd': 'usage_end_at',
            'ChargePeriodStart': 'usage_start_at',
            'CommitmentDiscountCategory': 'commitment_category',
            'CommitmentDiscountId': 'commitment_id',
            'CommitmentDiscountName': "case when commitment_id is not null then " ~ regex_extract('commitment_id', '[^/:]+$') ~ " end",
            'CommitmentDiscountQuantity': "case when commitment_id is null or charge_class is not null then null when commitment_category = 'Spend' then case when row_split = 1 then effective_cost when charge_category = 'Purchase' then coalesce(savings_plan_total_commitment, billed_cost) else savings_plan_effective_cost end when row_split = 1 then reservation_unused_quantity else usage_amount end",
            'CommitmentDiscountStatus': 'commitment_status',
            'CommitmentDiscountType': "case when commitment_category = 'Spend' then 'Savings Plan' when commitment_category = 'Usage' then 'Reserved Instance' end",
            'CommitmentDiscountUnit': "case when commitment_id is null or charge_class is not null then null when commitment_category = 'Spend' then currency_code when row_split = 1 and reservation_unused_quantity is null then null else coalesce(pricing_unit, 'Hrs') end",
            'ConsumedQuantity': "case when charge_category = 'Usage' and row_split = 0 and charge_class is null then usage_amount end",
            'ConsumedUnit': "case when charge_category = 'Usage' and row_split = 0 and charge_class is null and usage_amount is not null then coalesce(pricing_unit, 'Units') end",
            'ContractedCost': "case when row_split = 1 then cast(0 as " ~ money_type() ~ ") when charge_category = 'Usage' and charge_class is null and usage_amount is not null and coalesce(nullif(unblended_rate, 0), public_on_demand_rate) is not null then " ~ money_mul('coalesce(nullif(unblended_rate, 0), public_on_demand_rate)', 'usage_amount') ~ " else billed_cost end",
            'ContractedUnitPrice': "case when charge_category = 'Usage' and charge_class is null and row_split = 0 and usage_amount is not null then coalesce(nullif(unblended_rate, 0), public_on_demand_rate) end",
            'EffectiveCost': 'effective_cost',
            'InvoiceId': invoice_id('invoice_id'),
            'x_InvoiceId': 'invoice_id',
            'x_InvoiceIssuerEntity': "coalesce(invoicing_entity, 'Amazon Web Services, Inc.')",
            'InvoiceIssuerName': invoice_issuer("'AWS'", 'invoicing_entity'),
            'ListCost': "case when row_split = 1 then cast(0 as " ~ money_type() ~ ") when charge_category = 'Usage' and charge_class is null and public_on_demand_rate is not null and usage_amount is not null then " ~ money_mul('public_on_demand_rate', 'usage_amount') ~ " else billed_cost end",
            'ListUnitPrice': "case when charge_category = 'Usage' and charge_class is null and row_split = 0 and usage_amount is not null then public_on_demand_rate end",
            'PricingCategory': "case when charge_category = 'Tax' then null when charge_category in ('Credit', 'Adjustment') then null when charge_category = 'Purchase' then 'Standard' when commitment_id is not null then 'Committed' when purchase_option = 'Spot' or usage_type like '%SpotUsage%' then 'Dynamic' when charge_category = 'Usage' then 'Standard' end",
            'PricingQuantity': "case when row_split = 1 and commitment_category = 'Spend' then effective_cost when row_split = 1 then coalesce(reservation_unused_quantity, 1) when charge_category in ('Usage', 'Purchase') and row_split = 0 and charge_class is null then coalesce(usage_amount, 1) end",
            'PricingUnit': "case when row_split = 1 and commitment_category = 'Spend' then currency_code when row_split = 1 then coalesce(pricing_unit, 'Hours') when charge_category in ('Usage', 'Purchase') and row_split = 0 and charge_class is null then coalesce(pricing_unit, 'Units') end",
            'ProviderName': "'AWS'",
            'PublisherName': "coalesce(case when billing_entity = 'AWS Marketplace' then legal_entity end, legal_entity, 'Amazon Web Services, Inc.')",
            'RegionId': 'region_code',
            'RegionName': "case when region_code is not null then coalesce(location, region_code) end",
            'ResourceId': 'resource_id',
            'ResourceName': "case when resource_id is not null then " ~ regex_extract('resource_id', '[^/:]+$') ~ " end",
            'ServiceCategory': 'service_category',
            'ServiceName': 'service_name',
            'ServiceSubcategory': 'service_subcategory',
            'SkuId': 'sku',
            'SkuMeter': 'usage_type',
            'SkuPriceDetails': "case when instance_type is not null then " ~ json_object_text('InstanceType', 'instance_type') ~ " end",
            'SkuPriceId': "case when sku is not null then coalesce(rate_code, sku || '.' || rate_id) end",
            'SubAccountId': 'usage_account_id',
            'SubAccountName': "case when usage_account_id is not null then usage_account_name end",
            'SubAccountType': "case when usage_account_id is not null then 'Linked Account' end",
            'Tags': 'tags_json',
            'ServiceProviderName': "'AWS'",
            'HostProviderName': "'AWS'",
            'x_RowId': row_id('file_id', 'source_row_number', 'row_split'),
            'x_ProviderCode': "'aws'",
            'x_BillingPeriod': 'billing_period',
            'x_SourceFamily': 'source_family',
            'x_SourceFile': 'source_path',
            'x_SourceFileId': 'file_id',
            'x_SourceRowNumber': 'source_row_number',
            'x_SourceRowSplit': 'row_split',
            'x_SourceFormat': 'source_format',
            'x_SourceSchemaVersion': 'schema_version',
            'x_IngestedAt': 'loaded_at',
            'x_SourceChargeType': 'line_item_type',
            'x_ServiceCode': 'product_code',
            'x_UsageType': 'usage_type',
            'x_Operation': 'operation',
        }) }}
    from all_rows
)

select * from mapped
