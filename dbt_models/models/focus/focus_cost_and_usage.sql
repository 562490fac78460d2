{{ config(**billing_period_incremental('x_BillingPeriod')) }}

{#- The published FOCUS 1.2 Cost and Usage dataset: every provider mapping, one schema.
    Rules that hold for every provider are applied here, once:
    - units in the FOCUS unit format (the provider's spelling stays in x_PricingUnit /
      x_ConsumedUnit);
    - SKU columns null on Tax rows, SkuMeter null without a SkuId and SkuPriceDetails without a
      SkuPriceId (FOCUS 1.2);
    - BillingAccountName from seeds/billing_account_names.csv when the export has none;
    - pricing-currency columns: when a provider prices in its billing currency, PricingCurrency
      is that currency and the PricingCurrency* values equal the billing-currency ones;
    - ResourceType derived from the resource id when the provider gives none
      (macro resource_type); RegionName null exactly when RegionId is. -#}
{%- set mappings = ['int_focus__aws', 'int_focus__gcp', 'int_focus__azure', 'int_focus__oci',
                    'int_focus__focus_files'] -%}
with unioned as (
    {%- for m in mappings %}
        select {{ focus_select_all() }}
        from {{ ref(m) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

account_names as (
    select * from {{ ref('billing_account_names') }}
),

final as (
    select
        unioned.* replace (
            coalesce(unioned."BillingAccountName", account_names.billing_account_name)
                as "BillingAccountName",
            {{ focus_unit('unioned."PricingUnit"') }} as "PricingUnit",
            {{ focus_unit('unioned."ConsumedUnit"') }} as "ConsumedUnit",
            {{ focus_unit('unioned."CommitmentDiscountUnit"') }} as "CommitmentDiscountUnit",
            unioned."PricingUnit" as "x_PricingUnit",
            unioned."ConsumedUnit" as "x_ConsumedUnit",
            case when unioned."ChargeCategory" <> 'Tax' then unioned."SkuId" end as "SkuId",
            case when unioned."ChargeCategory" <> 'Tax' then unioned."SkuPriceId" end as "SkuPriceId",
            case when unioned."ChargeCategory" <> 'Tax' and unioned."SkuId" is not null then unioned."SkuMeter" end
                as "SkuMeter",
            case
                when unioned."ChargeCategory" <> 'Tax' and unioned."SkuPriceId" is not null then unioned."SkuPriceDetails"
            end as "SkuPriceDetails",
            coalesce(unioned."PricingCurrency", unioned."BillingCurrency") as "PricingCurrency",
            coalesce(
                unioned."PricingCurrencyEffectiveCost",
                case
                    when coalesce(unioned."PricingCurrency", unioned."BillingCurrency") = unioned."BillingCurrency"
                        then unioned."EffectiveCost"
                end
            ) as "PricingCurrencyEffectiveCost",
            coalesce(
                unioned."PricingCurrencyListUnitPrice",
                case
                    when coalesce(unioned."PricingCurrency", unioned."BillingCurrency") = unioned."BillingCurrency"
                        then unioned."ListUnitPrice"
                end
            ) as "PricingCurrencyListUnitPrice",
            coalesce(
                unioned."PricingCurrencyContractedUnitPrice",
                case
                    when coalesce(unioned."PricingCurrency", unioned."BillingCurrency") = unioned."BillingCurrency"
                        then unioned."ContractedUnitPrice"
                end
            ) as "PricingCurrencyContractedUnitPrice",
            {{ resource_type('unioned."ResourceType"', 'unioned."ResourceId"', 'unioned."ServiceName"') }}
                as "ResourceType",
            -- RegionName is null exactly when RegionId is (FOCUS 1.2).
            case when unioned."RegionId" is not null then coalesce(unioned."RegionName", unioned."RegionId") end
                as "RegionName"
        )
    from unioned
    left join account_names
        on
            account_names.provider = unioned."x_ProviderCode"
            and account_names.billing_account_id = unioned."BillingAccountId"
)

select * from final
-- The run's billing-period window (all periods when none is given).
where {{ billing_period_window(adapter.quote('x_BillingPeriod')) }}
