{#- CUR 2.0 keeps tags in a map whose keys carry `user_`/`aws_` prefixes; FOCUS keeps
    provider prefixes, written the way AWS shows them in the console (`user:team`). -#}
{{ stg_aws_cur(
    'aws_cur2',
    tags_expr=cur2_tags_json('resource_tags'),
    region_expr="coalesce(" ~ nullif_blank('product_region_code') ~ ", " ~ json_string('product', '$.region_code') ~ ", " ~ json_string('product', '$.region') ~ ")",
    instance_type_expr="coalesce(" ~ nullif_blank('product_instance_type') ~ ", " ~ json_string('product', '$.instance_type') ~ ")",
) }}
