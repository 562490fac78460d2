{#- The published FOCUS 1.2 Cost and Usage dataset: every provider mapping, one schema.
    Rules that hold for every provider are applied here, once:
    - units in the FOCUS unit format (the provider's spelling stays in x_PricingUnit /
      x_ConsumedUnit);
    - SKU columns null on Tax rows, and SkuMeter null without a SkuId (FOCUS 1.2);
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

final as (
    select
        * replace (
            {{ focus_unit('"PricingUnit"') }} as "PricingUnit",
            {{ focus_unit('"ConsumedUnit"') }} as "ConsumedUnit",
            {{ focus_unit('"CommitmentDiscountUnit"') }} as "CommitmentDiscountUnit",
            "PricingUnit" as "x_PricingUnit",
            "ConsumedUnit" as "x_ConsumedUnit",
            case when "ChargeCategory" <> 'Tax' then "SkuId" end as "SkuId",
            case when "ChargeCategory" <> 'Tax' then "SkuPriceId" end as "SkuPriceId",
            case when "ChargeCategory" <> 'Tax' and "SkuId" is not null then "SkuMeter" end
                as "SkuMeter",
            case when "ChargeCategory" <> 'Tax' then "SkuPriceDetails" end as "SkuPriceDetails",
            coalesce("PricingCurrency", "BillingCurrency") as "PricingCurrency",
            coalesce(
                "PricingCurrencyEffectiveCost",
                case
                    when coalesce("PricingCurrency", "BillingCurrency") = "BillingCurrency"
                        then "EffectiveCost"
                end
            ) as "PricingCurrencyEffectiveCost",
            coalesce(
                "PricingCurrencyListUnitPrice",
                case
                    when coalesce("PricingCurrency", "BillingCurrency") = "BillingCurrency"
                        then "ListUnitPrice"
                end
            ) as "PricingCurrencyListUnitPrice",
            coalesce(
                "PricingCurrencyContractedUnitPrice",
                case
                    when coalesce("PricingCurrency", "BillingCurrency") = "BillingCurrency"
                        then "ContractedUnitPrice"
                end
            ) as "PricingCurrencyContractedUnitPrice",
            {{ resource_type('"ResourceType"', '"ResourceId"', '"ServiceName"') }}
                as "ResourceType",
            -- RegionName is null exactly when RegionId is (FOCUS 1.2).
            case when "RegionId" is not null then coalesce("RegionName", "RegionId") end
                as "RegionName"
        )
    from unioned
)

select * from final
