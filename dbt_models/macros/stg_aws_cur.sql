{#- Shared staging for both AWS CUR generations: after ingest canonicalised the names, CUR v1
    (Athena) and CUR 2.0 share the line-item columns; they differ in how tags and product
    attributes are stored, which `tags_expr` and `product_expr` handle. -#}
{% macro stg_aws_cur(table_name, tags_expr, region_expr, instance_type_expr) -%}
with source as (
    {{ current_raw_rows(table_name) }}
),

renamed as (
    select
        {{ lineage_columns() }},
        '{{ table_name }}' as source_family,
        identity_line_item_id as line_item_id,
        {{ nullif_blank('bill_invoice_id') }} as invoice_id,
        {{ nullif_blank('bill_invoicing_entity') }} as invoicing_entity,
        {{ nullif_blank('bill_billing_entity') }} as billing_entity,
        {{ nullif_blank('bill_bill_type') }} as bill_type,
        bill_payer_account_id as payer_account_id,
        {{ nullif_blank('bill_payer_account_name') }} as payer_account_name,
        {{ parse_ts('bill_billing_period_start_date') }} as billing_period_start_at,
        {{ parse_ts('bill_billing_period_end_date') }} as billing_period_end_at,
        {{ nullif_blank('line_item_usage_account_id') }} as usage_account_id,
        {{ nullif_blank('line_item_usage_account_name') }} as usage_account_name,
        line_item_line_item_type as line_item_type,
        {{ parse_ts('line_item_usage_start_date') }} as usage_start_at,
        {{ parse_ts('line_item_usage_end_date') }} as usage_end_at,
        {{ nullif_blank('line_item_product_code') }} as product_code,
        {{ nullif_blank('line_item_usage_type') }} as usage_type,
        {{ nullif_blank('line_item_operation') }} as operation,
        {{ nullif_blank('line_item_availability_zone') }} as availability_zone,
        {{ nullif_blank('line_item_resource_id') }} as resource_id,
        {{ try_money('line_item_usage_amount') }} as usage_amount,
        -- Blank on zero-cost rows: the account's currency from the same file (ingest fills _currency).
        coalesce({{ nullif_blank('line_item_currency_code') }}, _currency) as currency_code,
        {{ try_money('line_item_unblended_rate') }} as unblended_rate,
        {{ money('line_item_unblended_cost') }} as unblended_cost,
        {{ nullif_blank('line_item_line_item_description') }} as line_item_description,
        {{ nullif_blank('line_item_legal_entity') }} as legal_entity,
        {{ nullif_blank('product_product_name') }} as product_name,
        {{ nullif_blank('product_servicecode') }} as service_code,
        {{ nullif_blank('product_product_family') }} as product_family,
        {{ region_expr }} as region_code,
        {{ nullif_blank('product_location') }} as location,
        {{ instance_type_expr }} as instance_type,
        {{ nullif_blank('product_sku') }} as sku,
        {{ nullif_blank('pricing_rate_code') }} as rate_code,
        {{ nullif_blank('pricing_rate_id') }} as rate_id,
        {{ try_money('pricing_public_on_demand_cost') }} as public_on_demand_cost,
        {{ try_money('pricing_public_on_demand_rate') }} as public_on_demand_rate,
        {{ nullif_blank('pricing_unit') }} as pricing_unit,
        {{ nullif_blank('pricing_purchase_option') }} as purchase_option,
        {{ nullif_blank('reservation_reservation_a_r_n') }} as reservation_arn,
        {{ try_money('reservation_effective_cost') }} as reservation_effective_cost,
        {{ try_money('reservation_unused_amortized_upfront_fee_for_billing_period') }}
            as reservation_unused_amortized_upfront_fee,
        {{ try_money('reservation_unused_recurring_fee') }} as reservation_unused_recurring_fee,
        {{ try_money('reservation_unused_quantity') }} as reservation_unused_quantity,
        {{ nullif_blank('savings_plan_savings_plan_a_r_n') }} as savings_plan_arn,
        {{ try_money('savings_plan_savings_plan_effective_cost') }} as savings_plan_effective_cost,
        {{ try_money('savings_plan_total_commitment_to_date') }} as savings_plan_total_commitment,
        {{ try_money('savings_plan_used_commitment') }} as savings_plan_used_commitment,
        {{ tags_expr }} as tags_json
    from source
)

select * from renamed
{%- endmacro %}
