{#- OCI native cost report -> FOCUS 1.2. cost/myCost is what the customer owes for the line;
    OCI reports carry no separate amortized basis, so EffectiveCost = BilledCost. Rules:
    docs/providers/oci.md. -#}
with line_items as (
    select * from {{ ref('stg_oci_cost_report__line_items') }}
),

services as (
    select * from {{ ref('service_categories') }}
    where provider = 'oci'
),

mapped as (
    select
        {{ focus_fill({
            'AvailabilityZone': 'li.availability_domain',
            'BilledCost': 'li.my_cost',
            'BillingAccountId': 'li.billing_account_id',
            'BillingAccountType': "'Subscription'",
            'BillingCurrency': 'li.currency_code',
            'BillingPeriodEnd': "cast(" ~ add_months('li.billing_period', 1) ~ " as timestamp)",
            'BillingPeriodStart': 'cast(li.billing_period as timestamp)',
            'ChargeCategory': "'Usage'",
            'ChargeClass': "case when li.is_correction then 'Correction' end",
            'ChargeDescription': 'li.product_description',
            'ChargeFrequency': "'Usage-Based'",
            'ChargePeriodEnd': 'li.usage_end_at',
            'ChargePeriodStart': 'li.usage_start_at',
            'ConsumedQuantity': 'case when not li.is_correction then li.billed_quantity end',
            'ConsumedUnit': "case when not li.is_correction and li.billed_quantity is not null then coalesce(li.sku_unit_description, 'Units') end",
            'ContractedCost': "case when not li.is_correction and li.unit_price is not null and li.billed_quantity is not null then " ~ money_mul('li.unit_price', 'li.billed_quantity') ~ " else li.my_cost end",
            'ContractedUnitPrice': 'case when not li.is_correction and li.billed_quantity is not null then li.unit_price end',
            'EffectiveCost': 'li.my_cost',
            'InvoiceIssuerName': "'Oracle'",
            'x_InvoiceIssuerEntity': "'Oracle'",
            'ListCost': 'li.my_cost',
            'PricingCategory': "'Standard'",
            'PricingQuantity': 'case when not li.is_correction then coalesce(li.billed_quantity, 0) end',
            'PricingUnit': "case when not li.is_correction then coalesce(li.sku_unit_description, 'Units') end",
            'ProviderName': "'Oracle'",
            'PublisherName': "'Oracle'",
            'RegionId': 'li.region',
            'RegionName': 'li.region',
            'ResourceId': 'li.resource_id',
            'ServiceCategory': "coalesce(s.service_category, 'Other')",
            'ServiceName': 'coalesce(s.service_name, li.service)',
            'ServiceSubcategory': "coalesce(s.service_subcategory, 'Other (Other)')",
            'SkuId': 'li.product_sku',
            'SkuMeter': 'li.product_description',
            'SkuPriceId': 'li.product_sku',
            'SubAccountId': 'li.compartment_id',
            'SubAccountName': 'case when li.compartment_id is not null then li.compartment_name end',
            'SubAccountType': "case when li.compartment_id is not null then 'Compartment' end",
            'Tags': 'li.tags_json',
            'ServiceProviderName': "'Oracle'",
            'HostProviderName': "'Oracle'",
            'x_RowId': row_id('li.file_id', 'li.source_row_number', '0'),
            'x_ProviderCode': "'oci'",
            'x_BillingPeriod': 'li.billing_period',
            'x_SourceFamily': "'oci_cost_report'",
            'x_SourceFile': 'li.source_path',
            'x_SourceFileId': 'li.file_id',
            'x_SourceRowNumber': 'li.source_row_number',
            'x_SourceRowSplit': '0',
            'x_SourceFormat': 'li.source_format',
            'x_SourceSchemaVersion': 'li.schema_version',
            'x_IngestedAt': 'li.loaded_at',
            'x_SourceChargeType': "case when li.is_correction then 'Correction' else 'Usage' end",
            'x_ServiceCode': 'li.service',
        }) }}
    from line_items as li
    left join services as s on s.service_key = li.service
)

select * from mapped
