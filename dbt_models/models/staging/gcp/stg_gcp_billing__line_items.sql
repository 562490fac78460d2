with source as (
    {{ current_raw_rows('gcp_billing') }}
),

renamed as (
    select
        {{ lineage_columns() }},
        billing_account_id,
        service_id,
        service_description,
        sku_id,
        sku_description,
        {{ parse_ts('usage_start_time') }} as usage_start_at,
        {{ parse_ts('usage_end_time') }} as usage_end_at,
        {{ nullif_blank('project_id') }} as project_id,
        {{ nullif_blank('project_name') }} as project_name,
        project_labels as project_labels_json,
        labels as labels_json,
        system_labels as system_labels_json,
        {{ nullif_blank('location_region') }} as region,
        {{ nullif_blank('location_zone') }} as zone,
        {{ nullif_blank('location_location') }} as location,
        {{ nullif_blank('resource_name') }} as resource_name,
        {{ nullif_blank('resource_global_name') }} as resource_global_name,
        {{ money('cost') }} as cost,
        {{ try_money('cost_at_list') }} as cost_at_list,
        -- Blank on zero-cost rows: the account's currency from the same file (ingest fills _currency).
        coalesce({{ nullif_blank('currency') }}, _currency) as currency,
        {{ try_money('usage_amount') }} as usage_amount,
        {{ nullif_blank('usage_unit') }} as usage_unit,
        {{ try_money('usage_amount_in_pricing_units') }} as usage_amount_in_pricing_units,
        {{ nullif_blank('usage_pricing_unit') }} as usage_pricing_unit,
        {{ try_money('price_effective_price') }} as effective_price,
        credits as credits_json,
        invoice_month,
        {{ nullif_blank('cost_type') }} as cost_type,
        {{ nullif_blank('seller_name') }} as seller_name,
        {{ nullif_blank('transaction_type') }} as transaction_type
    from source
)

select * from renamed
