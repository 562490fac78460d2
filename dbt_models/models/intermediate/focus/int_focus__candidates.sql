{{ config(materialized='ephemeral') }}

{#- Every FOCUS 1.2 row of the run's billing-period window BEFORE the per-slice verdict:
    every provider mapping, one schema. focus_cost_and_usage publishes these rows minus the
    slices held back in rpt_held_back_slices; rpt_focus_reconciliation and
    rpt_held_back_slices judge them. Ephemeral, so each reader compiles it inline and DuckDB
    reads only the columns that reader needs (no extra copy of the rows is written).
    Rules that hold for every provider are applied here, once:
    - units in the FOCUS unit format (the provider's spelling stays in x_PricingUnit /
      x_ConsumedUnit);
    - SKU columns null on Tax rows, SkuMeter null without a SkuId and SkuPriceDetails without a
      SkuPriceId (FOCUS 1.2);
    - BillingAccountName from seeds/billing_account_names.csv when the export has none;
      SubAccountName from seeds/sub_account_names.csv, else the SubAccountId (FOCUS 1.2: not
      null wherever SubAccountId is not);
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

sub_account_names as (
    select * from {{ ref('sub_account_names') }}
),

final as (
    select
        unioned.* replace (
            coalesce(unioned.{{ q('BillingAccountName') }}, account_names.billing_account_name)
                as {{ q('BillingAccountName') }},
            case
                when unioned.{{ q('SubAccountId') }} is not null
                    then coalesce(
                        unioned.{{ q('SubAccountName') }}, sub_account_names.sub_account_name, unioned.{{ q('SubAccountId') }}
                    )
            end as {{ q('SubAccountName') }},
            {{ focus_unit('unioned.' ~ q('PricingUnit')) }} as {{ q('PricingUnit') }},
            {{ focus_unit('unioned.' ~ q('ConsumedUnit')) }} as {{ q('ConsumedUnit') }},
            {{ focus_unit('unioned.' ~ q('CommitmentDiscountUnit')) }} as {{ q('CommitmentDiscountUnit') }},
            unioned.{{ q('PricingUnit') }} as {{ q('x_PricingUnit') }},
            unioned.{{ q('ConsumedUnit') }} as {{ q('x_ConsumedUnit') }},
            case when unioned.{{ q('ChargeCategory') }} <> 'Tax' then unioned.{{ q('SkuId') }} end as {{ q('SkuId') }},
            case when unioned.{{ q('ChargeCategory') }} <> 'Tax' then unioned.{{ q('SkuPriceId') }} end as {{ q('SkuPriceId') }},
            case when unioned.{{ q('ChargeCategory') }} <> 'Tax' and unioned.{{ q('SkuId') }} is not null then unioned.{{ q('SkuMeter') }} end
                as {{ q('SkuMeter') }},
            case
                when unioned.{{ q('ChargeCategory') }} <> 'Tax' and unioned.{{ q('SkuPriceId') }} is not null then unioned.{{ q('SkuPriceDetails') }}
            end as {{ q('SkuPriceDetails') }},
            coalesce(unioned.{{ q('PricingCurrency') }}, unioned.{{ q('BillingCurrency') }}) as {{ q('PricingCurrency') }},
            coalesce(
                unioned.{{ q('PricingCurrencyEffectiveCost') }},
                case
                    when coalesce(unioned.{{ q('PricingCurrency') }}, unioned.{{ q('BillingCurrency') }}) = unioned.{{ q('BillingCurrency') }}
                        then unioned.{{ q('EffectiveCost') }}
                end
            ) as {{ q('PricingCurrencyEffectiveCost') }},
            coalesce(
                unioned.{{ q('PricingCurrencyListUnitPrice') }},
                case
                    when coalesce(unioned.{{ q('PricingCurrency') }}, unioned.{{ q('BillingCurrency') }}) = unioned.{{ q('BillingCurrency') }}
                        then unioned.{{ q('ListUnitPrice') }}
                end
            ) as {{ q('PricingCurrencyListUnitPrice') }},
            coalesce(
                unioned.{{ q('PricingCurrencyContractedUnitPrice') }},
                case
                    when coalesce(unioned.{{ q('PricingCurrency') }}, unioned.{{ q('BillingCurrency') }}) = unioned.{{ q('BillingCurrency') }}
                        then unioned.{{ q('ContractedUnitPrice') }}
                end
            ) as {{ q('PricingCurrencyContractedUnitPrice') }},
            {{ resource_type('unioned.' ~ q('ResourceType'), 'unioned.' ~ q('ResourceId'), 'unioned.' ~ q('ServiceName')) }}
                as {{ q('ResourceType') }},
            -- RegionName is null exactly when RegionId is (FOCUS 1.2).
            case when unioned.{{ q('RegionId') }} is not null then coalesce(unioned.{{ q('RegionName') }}, unioned.{{ q('RegionId') }}) end
                as {{ q('RegionName') }}
        )
    from unioned
    left join account_names
        on
            account_names.provider = unioned.{{ q('x_ProviderCode') }}
            and account_names.billing_account_id = unioned.{{ q('BillingAccountId') }}
    left join sub_account_names
        on
            sub_account_names.provider = unioned.{{ q('x_ProviderCode') }}
            and sub_account_names.sub_account_id = unioned.{{ q('SubAccountId') }}
)

select * from final
-- The run's billing-period window (all periods when none is given).
where {{ billing_period_window(adapter.quote('x_BillingPeriod')) }}
