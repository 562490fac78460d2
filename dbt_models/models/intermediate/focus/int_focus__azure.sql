{#- Azure cost details (EA/MCA, actual/amortized) -> FOCUS 1.2, following Microsoft's FinOps
    toolkit conversion: keep every amortized row, add the actual rows that purchase or refund a
    reservation/savings plan. With only actual data for a slice, every actual row is used and
    EffectiveCost equals BilledCost except on commitment purchases (0, as FOCUS requires; their
    amortization needs the amortized export). Rules:
    docs/providers/azure.md. -#}
with line_items as {{ inline_cte() }} (
    select * from {{ ref('stg_azure_cost_details__line_items') }}
),

services as (
    select * from {{ ref('service_categories') }}
    where provider = 'azure'
),

slices_with_amortized as (
    select distinct
        billing_account_id,
        billing_period,
        billing_currency
    from line_items
    where dataset_type = 'amortized'
),

selected as (
    select
        li.*,
        sa.billing_account_id is not null as has_amortized
    from line_items as li
    left join slices_with_amortized as sa
        on
            sa.billing_account_id = li.billing_account_id
            and sa.billing_period = li.billing_period
            and sa.billing_currency is not distinct from li.billing_currency
    where
        li.dataset_type = 'amortized'
        or sa.billing_account_id is null
        or (
            li.charge_type in ('Purchase', 'Refund')
            and li.pricing_model in ('Reservation', 'SavingsPlan')
        )
),

classified as (
    select
        s.*,
        coalesce(svc.service_name, s.meter_category, s.consumed_service) as service_name,
        coalesce(svc.service_category, 'Other') as service_category,
        coalesce(svc.service_subcategory, 'Other (Other)') as service_subcategory,
        s.pricing_model in ('Reservation', 'SavingsPlan') as is_commitment,
        case
            when s.charge_type in ('Usage', 'Purchase', 'Credit', 'Tax') then s.charge_type
            when s.charge_type in ('UnusedReservation', 'UnusedSavingsPlan') then 'Usage'
            when s.charge_type = 'Refund' then 'Purchase'
            else 'Adjustment'
        end as charge_category,
        case
            when
                lower(s.benefit_id) like '%/microsoft.billingbenefits/%'
                or s.pricing_model = 'SavingsPlan' then 'Spend'
            when s.benefit_id is not null or s.pricing_model = 'Reservation' then 'Usage'
        end as commitment_category,
        case
            when s.tags_text is null then null
            when left(trim(s.tags_text), 1) = '{' then s.tags_text
            else '{' || s.tags_text || '}'
        end as tags_braced,
        cast(coalesce(s.billing_period_start_date, {{ month_start('s.charge_date') }}) as timestamp)
            as billing_period_start_at,
        cast(coalesce(
            {{ add_days('s.billing_period_end_date', 1) }},
            {{ add_months(month_start('s.charge_date'), 1) }}
        ) as timestamp) as billing_period_end_at
    from selected as s
    left join services as svc on svc.service_key = lower(s.consumed_service)
),

costed as (
    select
        *,
        case
            when
                dataset_type = 'amortized' and is_commitment
                and charge_type in ('Usage', 'UnusedReservation', 'UnusedSavingsPlan')
                then cast(0 as {{ money_type() }})
            else cost
        end as billed_cost,
        -- A commitment purchase is never effective cost (FOCUS: its cost reaches EffectiveCost
        -- through the usage it covers). With actual data only, that amortization is unknown, so
        -- the reservation shows in BilledCost but not in EffectiveCost: load the amortized export.
        case
            when
                dataset_type = 'actual' and is_commitment
                and charge_type in ('Purchase', 'Refund') then cast(0 as {{ money_type() }})
            else cost
        end as effective_cost,
        case
            when charge_type in ('UnusedReservation', 'UnusedSavingsPlan') then 'Unused'
            when is_commitment and charge_type = 'Usage' and benefit_id is not null then 'Used'
        end as commitment_status,
        case when charge_type = 'Refund' then 'Correction' end as charge_class,
        -- Tags that are not valid JSON even with braces are kept as text in x_TagsUnparsed.
        {{ is_valid_json('tags_braced') }} as tags_valid
    from classified
),

mapped as (
    select
        {{ focus_fill({
            'AvailabilityZone': 'availability_zone',
            'BilledCost': 'billed_cost',
            'BillingAccountId': 'billing_account_id',
            'BillingAccountName': 'billing_account_name',
            'BillingAccountType': "case when agreement = 'MCA' then 'Billing Profile' else 'Billing Account' end",
            'BillingCurrency': 'billing_currency',
            'BillingPeriodEnd': 'billing_period_end_at',
            'BillingPeriodStart': 'billing_period_start_at',
            'ChargeCategory': 'charge_category',
            'ChargeClass': 'charge_class',
            'ChargeDescription': "coalesce(product_name, meter_name)",
            'ChargeFrequency': "case when frequency = 'OneTime' then 'One-Time' when frequency = 'Recurring' then 'Recurring' when charge_category = 'Purchase' then 'One-Time' when frequency = 'UsageBased' then 'Usage-Based' when charge_category = 'Usage' then 'Usage-Based' else 'One-Time' end",
            'ChargePeriodEnd': "cast(" ~ add_days('charge_date', 1) ~ " as timestamp)",
            'ChargePeriodStart': 'cast(charge_date as timestamp)',
            'CommitmentDiscountCategory': "case when benefit_id is not null and is_commitment then commitment_category end",
            'CommitmentDiscountId': "case when is_commitment then benefit_id end",
            'CommitmentDiscountName': "case when is_commitment and benefit_id is not null then benefit_name end",
            'CommitmentDiscountQuantity': "case when is_commitment and benefit_id is not null and charge_class is null and charge_category in ('Usage', 'Purchase') then quantity end",
            'CommitmentDiscountStatus': "case when is_commitment and benefit_id is not null and charge_category = 'Usage' then coalesce(commitment_status, 'Used') end",
            'CommitmentDiscountType': "case when is_commitment and benefit_id is not null then case when commitment_category = 'Spend' then 'Savings Plan' else 'Reservation' end end",
            'CommitmentDiscountUnit': "case when is_commitment and benefit_id is not null and charge_class is null and charge_category in ('Usage', 'Purchase') and quantity is not null then coalesce(unit_of_measure, 'Units') end",
            'ConsumedQuantity': "case when charge_category = 'Usage' and coalesce(commitment_status, '') <> 'Unused' and charge_class is null then quantity end",
            'ConsumedUnit': "case when charge_category = 'Usage' and coalesce(commitment_status, '') <> 'Unused' and charge_class is null and quantity is not null then coalesce(unit_of_measure, 'Units') end",
            'ContractedCost': "case when charge_class is null and unit_price is not null and quantity is not null and charge_category in ('Usage', 'Purchase') and coalesce(commitment_status, '') <> 'Unused' then " ~ money_mul('unit_price', 'quantity') ~ " else billed_cost end",
            'ContractedUnitPrice': "case when charge_class is null and quantity is not null and charge_category in ('Usage', 'Purchase') and coalesce(commitment_status, '') <> 'Unused' then unit_price end",
            'EffectiveCost': 'effective_cost',
            'InvoiceId': invoice_id('invoice_id'),
            'x_InvoiceId': 'invoice_id',
            'x_InvoiceIssuerEntity': "'Microsoft'",
            'InvoiceIssuerName': "'Microsoft'",
            'ListCost': "case when charge_class is null and charge_category in ('Usage', 'Purchase') and coalesce(commitment_status, '') <> 'Unused' and payg_cost is not null then payg_cost when charge_class is null and payg_price is not null and quantity is not null and charge_category in ('Usage', 'Purchase') and coalesce(commitment_status, '') <> 'Unused' then " ~ money_mul('payg_price', 'quantity') ~ " else billed_cost end",
            'ListUnitPrice': "case when charge_class is null and quantity is not null and charge_category in ('Usage', 'Purchase') and coalesce(commitment_status, '') <> 'Unused' then payg_price end",
            'PricingCategory': "case when charge_category in ('Tax', 'Credit', 'Adjustment') then null when charge_category = 'Purchase' then 'Standard' when pricing_model = 'Spot' then 'Dynamic' when is_commitment then 'Committed' else 'Standard' end",
            'PricingQuantity': "case when charge_category in ('Usage', 'Purchase') and charge_class is null then coalesce(quantity, 1) end",
            'PricingUnit': "case when charge_category in ('Usage', 'Purchase') and charge_class is null then coalesce(unit_of_measure, 'Units') end",
            'ProviderName': "'Microsoft'",
            'PublisherName': "coalesce(publisher_name, 'Microsoft')",
            'RegionId': "case when resource_location is not null then lower(replace(resource_location, ' ', '')) end",
            'RegionName': 'resource_location',
            'ResourceId': 'resource_id',
            'ResourceName': "case when resource_id is not null then coalesce(resource_name, " ~ regex_extract('resource_id', '[^/]+$') ~ ") end",
            'ResourceType': "case when resource_id is not null then " ~ regex_extract('resource_id', '/providers/([^/]+/[^/]+)', 1) ~ " end",
            'ServiceCategory': 'service_category',
            'ServiceName': 'service_name',
            'ServiceSubcategory': 'service_subcategory',
            'SkuId': "coalesce(product_id, meter_id)",
            'SkuMeter': 'meter_name',
            'SkuPriceId': "case when coalesce(product_id, meter_id) is not null then meter_id end",
            'SubAccountId': 'subscription_id',
            'SubAccountName': 'case when subscription_id is not null then subscription_name end',
            'SubAccountType': "case when subscription_id is not null then 'Subscription' end",
            'Tags': "case when tags_valid then tags_braced end",
            'x_TagsUnparsed': "case when not tags_valid then tags_text end",
            'ServiceProviderName': "'Microsoft'",
            'HostProviderName': "'Microsoft'",
            'x_RowId': row_id('file_id', 'source_row_number', '0'),
            'x_ProviderCode': "'azure'",
            'x_BillingPeriod': 'billing_period',
            'x_SourceFamily': "'azure_cost_details_' || dataset_type",
            'x_SourceFile': 'source_path',
            'x_SourceFileId': 'file_id',
            'x_SourceRowNumber': 'source_row_number',
            'x_SourceRowSplit': '0',
            'x_SourceFormat': 'source_format',
            'x_SourceSchemaVersion': 'schema_version',
            'x_IngestedAt': 'loaded_at',
            'x_SourceChargeType': 'charge_type',
            'x_ServiceCode': 'consumed_service',
            'x_UsageType': 'meter_category',
        }) }}
    from costed
)

select * from mapped
