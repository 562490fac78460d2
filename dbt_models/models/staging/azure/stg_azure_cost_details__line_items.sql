{#- EA and MCA, PascalCase and camelCase: ingest already canonicalised the names, so EA's
    `Cost`/`BillingCurrencyCode` and MCA's `costInBillingCurrency`/`billingCurrency` coalesce. -#}
with source as (
    {{ current_raw_rows('azure_cost_details') }}
),

renamed as (
    select
        {{ lineage_columns() }},
        _billing_account_id as billing_account_id,
        _dataset_type as dataset_type,
        _agreement as agreement,
        case when _agreement = 'MCA' then billing_profile_name else billing_account_name end
            as billing_account_name,
        {{ parse_date('billing_period_start_date') }} as billing_period_start_date,
        {{ parse_date('billing_period_end_date') }} as billing_period_end_date,
        {{ nullif_blank('subscription_id') }} as subscription_id,
        {{ nullif_blank('subscription_name') }} as subscription_name,
        {{ parse_date('date') }} as charge_date,
        {{ nullif_blank('meter_id') }} as meter_id,
        {{ nullif_blank('meter_category') }} as meter_category,
        {{ nullif_blank('meter_sub_category') }} as meter_sub_category,
        {{ nullif_blank('meter_name') }} as meter_name,
        {{ nullif_blank('product_id') }} as product_id,
        coalesce({{ nullif_blank('product') }}, {{ nullif_blank('product_name') }}) as product_name,
        {{ try_money('quantity') }} as quantity,
        {{ try_money('effective_price') }} as effective_price,
        {{ try_money('unit_price') }} as unit_price,
        {{ try_money('pay_g_price') }} as payg_price,
        {{ try_money('payg_cost_in_billing_currency') }} as payg_cost,
        coalesce({{ try_money('cost_in_billing_currency') }}, {{ try_money('cost') }}) as cost,
        -- Blank on zero-cost rows: the account's currency from the same file (ingest fills _currency).
        coalesce({{ nullif_blank('billing_currency_code') }}, {{ nullif_blank('billing_currency') }}, _currency)
            as billing_currency,
        {{ nullif_blank('resource_location') }} as resource_location,
        {{ nullif_blank('availability_zone') }} as availability_zone,
        {{ nullif_blank('consumed_service') }} as consumed_service,
        coalesce({{ nullif_blank('resource_id') }}, {{ nullif_blank('instance_name') }}) as resource_id,
        {{ nullif_blank('resource_name') }} as resource_name,
        coalesce({{ nullif_blank('resource_group') }}, {{ nullif_blank('resource_group_name') }})
            as resource_group,
        {{ nullif_blank('additional_info') }} as additional_info,
        {{ nullif_blank('tags') }} as tags_text,
        {{ nullif_blank('unit_of_measure') }} as unit_of_measure,
        {{ nullif_blank('charge_type') }} as charge_type,
        {{ nullif_blank('frequency') }} as frequency,
        {{ nullif_blank('pricing_model') }} as pricing_model,
        coalesce({{ nullif_blank('benefit_id') }}, {{ nullif_blank('reservation_id') }}) as benefit_id,
        coalesce({{ nullif_blank('benefit_name') }}, {{ nullif_blank('reservation_name') }})
            as benefit_name,
        {{ nullif_blank('publisher_name') }} as publisher_name,
        {{ nullif_blank('publisher_type') }} as publisher_type,
        {{ nullif_blank('invoice_id') }} as invoice_id,
        {{ nullif_blank('invoice_section_name') }} as invoice_section_name
    from source
)

select * from renamed
