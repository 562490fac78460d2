{{ stg_aws_cur(
    'aws_cur_legacy',
    tags_expr='_tags_json',
    region_expr="coalesce(" ~ nullif_blank('product_region_code') ~ ", " ~ nullif_blank('product_region') ~ ")",
    instance_type_expr=nullif_blank('product_instance_type'),
) }}
