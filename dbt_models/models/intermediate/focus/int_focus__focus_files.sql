{#- FOCUS 1.0-1.3 files pass through: typed, upgraded to the 1.2 column set. Columns a 1.0
    file lacks stay null, except ServiceSubcategory (Recommended, never null) which is
    "Other (<ServiceCategory>)" when the file predates it, and BillingAccountType /
    SubAccountType (1.2), which take the provider's own account type names (the ones mlcost's
    native mappings use). Values that FOCUS 1.2 forbids are nulled, not passed on: consumed
    quantity/unit off Usage rows (and on unused-commitment rows), and a negative contracted unit
    price on Credit/Adjustment/Tax rows, where the column is nullable. The file's own values stay
    in the raw table (x_SourceFile, x_SourceRowNumber). Rules: docs/providers/focus.md. -#}
{%- set on_used_usage = "lower(charge_category) = 'usage' and lower(coalesce(commitment_discount_status, '')) <> 'unused'" -%}

with line_items as (
    select * from {{ ref('stg_focus__line_items') }}
),

-- One ServiceName, one category: the seed's classification wins over the file's, so services
-- that the provider's own data files under two categories are made consistent.
service_names as (
    select
        provider,
        service_name,
        min(service_category) as service_category,
        min(service_subcategory) as service_subcategory
    from {{ ref('service_categories') }}
    group by provider, service_name
    having count(distinct service_category) = 1 and count(distinct service_subcategory) = 1
),

mapped as (
    select
        {{ focus_fill({
            'AvailabilityZone': 'availability_zone',
            'BilledCost': 'billed_cost',
            'BillingAccountId': 'billing_account_id',
            'BillingAccountName': 'billing_account_name',
            'BillingAccountType': "coalesce(billing_account_type, case provider_code when 'aws' then 'Payer Account' when 'azure' then 'Billing Account' when 'gcp' then 'Billing Account' when 'oci' then 'Subscription' end)",
            'BillingCurrency': 'billing_currency',
            'BillingPeriodEnd': 'billing_period_end',
            'BillingPeriodStart': 'billing_period_start',
            'CapacityReservationId': 'capacity_reservation_id',
            'CapacityReservationStatus': normalize_enum('capacity_reservation_status', ['Used', 'Unused']),
            'ChargeCategory': normalize_enum('charge_category', ['Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment']),
            'ChargeClass': normalize_enum('charge_class', ['Correction']),
            'ChargeDescription': 'charge_description',
            'ChargeFrequency': normalize_enum('charge_frequency', ['One-Time', 'Recurring', 'Usage-Based']),
            'ChargePeriodEnd': 'charge_period_end',
            'ChargePeriodStart': 'charge_period_start',
            'CommitmentDiscountCategory': normalize_enum('commitment_discount_category', ['Spend', 'Usage']),
            'CommitmentDiscountId': 'commitment_discount_id',
            'CommitmentDiscountName': 'commitment_discount_name',
            'CommitmentDiscountQuantity': 'commitment_discount_quantity',
            'CommitmentDiscountStatus': normalize_enum('commitment_discount_status', ['Used', 'Unused']),
            'CommitmentDiscountType': 'commitment_discount_type',
            'CommitmentDiscountUnit': 'commitment_discount_unit',
            'ConsumedQuantity': 'case when ' ~ on_used_usage ~ ' then consumed_quantity end',
            'ConsumedUnit': 'case when ' ~ on_used_usage ~ ' then consumed_unit end',
            'ContractedCost': 'coalesce(contracted_cost, billed_cost)',
            'ContractedUnitPrice': "case when contracted_unit_price >= 0 or lower(charge_category) in ('usage', 'purchase') then contracted_unit_price end",
            'EffectiveCost': 'effective_cost',
            'InvoiceId': invoice_id('invoice_id'),
            'x_InvoiceId': 'invoice_id',
            'x_InvoiceIssuerEntity': 'coalesce(invoice_issuer_name, provider_name)',
            'InvoiceIssuerName': invoice_issuer('provider_name', 'invoice_issuer_name'),
            'ListCost': 'coalesce(list_cost, billed_cost)',
            'ListUnitPrice': 'list_unit_price',
            'PricingCategory': normalize_enum('pricing_category', ['Standard', 'Dynamic', 'Committed', 'Other']),
            'PricingCurrency': 'pricing_currency',
            'PricingCurrencyContractedUnitPrice': 'pricing_currency_contracted_unit_price',
            'PricingCurrencyEffectiveCost': 'pricing_currency_effective_cost',
            'PricingCurrencyListUnitPrice': 'pricing_currency_list_unit_price',
            'PricingQuantity': 'pricing_quantity',
            'PricingUnit': 'pricing_unit',
            'ProviderName': 'provider_name',
            'PublisherName': 'coalesce(publisher_name, provider_name)',
            'RegionId': 'region_id',
            'RegionName': 'region_name',
            'ResourceId': 'resource_id',
            'ResourceName': 'resource_name',
            'ResourceType': 'resource_type',
            'ServiceCategory': "coalesce(s.service_category, li.service_category, 'Other')",
            'ServiceName': 'coalesce(li.service_name, li.provider_name)',
            'ServiceSubcategory': "coalesce(s.service_subcategory, li.service_subcategory, 'Other (' || coalesce(li.service_category, 'Other') || ')')",
            'SkuId': 'sku_id',
            'SkuMeter': 'sku_meter',
            'SkuPriceDetails': 'sku_price_details',
            'SkuPriceId': 'sku_price_id',
            'SubAccountId': 'sub_account_id',
            'SubAccountName': 'sub_account_name',
            'SubAccountType': "case when sub_account_id is not null then coalesce(sub_account_type, case provider_code when 'aws' then 'Linked Account' when 'azure' then 'Subscription' when 'gcp' then 'Project' when 'oci' then 'Compartment' end) end",
            'Tags': 'tags_json',
            'AllocatedMethodDetails': 'allocated_method_details',
            'AllocatedMethodId': 'allocated_method_id',
            'AllocatedResourceId': 'allocated_resource_id',
            'AllocatedResourceName': 'allocated_resource_name',
            'AllocatedTags': 'allocated_tags',
            'ContractApplied': 'contract_applied',
            'HostProviderName': 'coalesce(host_provider_name, provider_name)',
            'ServiceProviderName': 'coalesce(service_provider_name, provider_name)',
            'x_RowId': row_id('file_id', 'source_row_number', '0'),
            'x_ProviderCode': 'provider_code',
            'x_BillingPeriod': 'billing_period',
            'x_SourceFamily': "'focus_' || schema_version",
            'x_SourceFile': 'source_path',
            'x_SourceFileId': 'file_id',
            'x_SourceRowNumber': 'source_row_number',
            'x_SourceRowSplit': '0',
            'x_SourceFormat': 'source_format',
            'x_SourceSchemaVersion': 'schema_version',
            'x_IngestedAt': 'loaded_at',
            'x_SourceChargeType': 'charge_category',
            'x_ServiceCode': 'x_service_code',
            'x_UsageType': 'x_usage_type',
            'x_Operation': 'x_operation',
        }) }}
    from line_items as li
    left join service_names as s
        on s.provider = li.provider_code and s.service_name = li.service_name
)

select * from mapped
