{#- CUR 2.0 keeps tags in a map whose keys carry `user_`/`aws_` prefixes; FOCUS keeps
    provider prefixes, written the way AWS shows them in the console (`user:team`). -#}
{{ stg_aws_cur(
    'aws_cur2',
    tags_expr="case when resource_tags is null or resource_tags in ('{}', 'null') then null else to_json(map_from_entries(list_transform(map_entries(cast(json(resource_tags) as map(varchar, varchar))), lambda e: struct_pack(k := regexp_replace(e.key, '^(user|aws)_', '\\1:'), v := e.value))))::varchar end",
    region_expr="coalesce(" ~ nullif_blank('product_region_code') ~ ", json_extract_string(product, '$.region_code'), json_extract_string(product, '$.region'))",
    instance_type_expr="coalesce(" ~ nullif_blank('product_instance_type') ~ ", json_extract_string(product, '$.instance_type'))",
) }}
