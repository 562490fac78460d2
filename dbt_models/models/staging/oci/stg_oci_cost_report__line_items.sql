with source as (
    {{ current_raw_rows('oci_cost_report') }}
),

renamed as (
    select
        {{ lineage_columns() }},
        _billing_account_id as billing_account_id,
        line_item_reference_no as reference_no,
        line_item_tenant_id as tenant_id,
        {{ parse_ts('line_item_interval_usage_start') }} as usage_start_at,
        {{ parse_ts('line_item_interval_usage_end') }} as usage_end_at,
        {{ nullif_blank('product_service') }} as service,
        {{ nullif_blank('product_compartment_id') }} as compartment_id,
        {{ nullif_blank('product_compartment_name') }} as compartment_name,
        {{ nullif_blank('product_region') }} as region,
        {{ nullif_blank('product_availability_domain') }} as availability_domain,
        {{ nullif_blank('product_resource_id') }} as resource_id,
        {{ try_money('usage_billed_quantity') }} as billed_quantity,
        {{ nullif_blank('cost_product_sku') }} as product_sku,
        {{ nullif_blank('product_description') }} as product_description,
        {{ try_money('cost_unit_price') }} as unit_price,
        {{ money('cost_my_cost') }} as my_cost,
        -- Blank on zero-cost rows: the account's currency from the same file (ingest fills _currency).
        coalesce({{ nullif_blank('cost_currency_code') }}, _currency) as currency_code,
        {{ nullif_blank('cost_sku_unit_description') }} as sku_unit_description,
        lower(coalesce(line_item_is_correction, 'false')) = 'true' as is_correction,
        _tags_json as tags_json
    from source
)

select * from renamed
