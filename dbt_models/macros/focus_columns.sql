{#- The published FOCUS dataset's columns, in order: the 57 FOCUS 1.2 columns (alphabetical,
    as the spec lists them), the FOCUS 1.3 additions (nullable), then mlcost's x_ extensions.
    One list drives the union of provider mappings and the model contract. -#}
{% macro focus_columns() -%}
{%- set s = 'string' -%}{%- set m = 'money' -%}{%- set t = 'timestamp' -%}{%- set j = 'json' -%}
{%- set cols = [
    ('AvailabilityZone', s), ('BilledCost', m), ('BillingAccountId', s), ('BillingAccountName', s),
    ('BillingAccountType', s), ('BillingCurrency', s), ('BillingPeriodEnd', t),
    ('BillingPeriodStart', t), ('CapacityReservationId', s), ('CapacityReservationStatus', s),
    ('ChargeCategory', s), ('ChargeClass', s), ('ChargeDescription', s), ('ChargeFrequency', s),
    ('ChargePeriodEnd', t), ('ChargePeriodStart', t), ('CommitmentDiscountCategory', s),
    ('CommitmentDiscountId', s), ('CommitmentDiscountName', s), ('CommitmentDiscountQuantity', m),
    ('CommitmentDiscountStatus', s), ('CommitmentDiscountType', s), ('CommitmentDiscountUnit', s),
    ('ConsumedQuantity', m), ('ConsumedUnit', s), ('ContractedCost', m),
    ('ContractedUnitPrice', m), ('EffectiveCost', m), ('InvoiceId', s), ('InvoiceIssuerName', s),
    ('ListCost', m), ('ListUnitPrice', m), ('PricingCategory', s), ('PricingCurrency', s),
    ('PricingCurrencyContractedUnitPrice', m), ('PricingCurrencyEffectiveCost', m),
    ('PricingCurrencyListUnitPrice', m), ('PricingQuantity', m), ('PricingUnit', s),
    ('ProviderName', s), ('PublisherName', s), ('RegionId', s), ('RegionName', s),
    ('ResourceId', s), ('ResourceName', s), ('ResourceType', s), ('ServiceCategory', s),
    ('ServiceName', s), ('ServiceSubcategory', s), ('SkuId', s), ('SkuMeter', s),
    ('SkuPriceDetails', j), ('SkuPriceId', s), ('SubAccountId', s), ('SubAccountName', s),
    ('SubAccountType', s), ('Tags', j),
    ('AllocatedMethodDetails', j), ('AllocatedMethodId', s), ('AllocatedResourceId', s),
    ('AllocatedResourceName', s), ('AllocatedTags', j), ('ContractApplied', j),
    ('HostProviderName', s), ('ServiceProviderName', s),
    ('x_RowId', s), ('x_ProviderCode', s), ('x_BillingPeriod', 'date'), ('x_SourceFamily', s),
    ('x_SourceFile', s), ('x_SourceFileId', s), ('x_SourceRowNumber', 'bigint'),
    ('x_SourceRowSplit', 'integer'), ('x_SourceFormat', s), ('x_SourceSchemaVersion', s),
    ('x_IngestedAt', t), ('x_SourceChargeType', s), ('x_ServiceCode', s), ('x_UsageType', s),
    ('x_Operation', s), ('x_InvoiceId', s), ('x_InvoiceIssuerEntity', s), ('x_PricingUnit', s),
    ('x_ConsumedUnit', s), ('x_TagsUnparsed', s),
] -%}
{{ return(cols) }}
{%- endmacro %}

{% macro focus_sql_type(kind) -%}
{%- if kind == 'money' -%}{{ money_type() }}
{%- elif kind == 'string' or kind == 'json' -%}{{ dbt.type_string() }}
{%- elif kind == 'timestamp' -%}{{ dbt.type_timestamp() }}
{%- elif kind == 'bigint' -%}{{ dbt.type_bigint() }}
{%- elif kind == 'integer' -%}{{ dbt.type_int() }}
{%- else -%}{{ kind }}{%- endif -%}
{%- endmacro %}

{#- select list that casts every FOCUS column from a relation that has them all -#}
{% macro focus_select_all() -%}
{%- for name, kind in focus_columns() %}
    cast({{ adapter.quote(name) }} as {{ focus_sql_type(kind) }}) as {{ adapter.quote(name) }}{% if not loop.last %},{% endif %}
{%- endfor %}
{%- endmacro %}

{#- A provider mapping sets the columns it knows; the rest are typed nulls. -#}
{% macro focus_fill(known) -%}
{%- for name, kind in focus_columns() %}
    {%- if name in known %}
    cast({{ known[name] }} as {{ focus_sql_type(kind) }}) as {{ adapter.quote(name) }}
    {%- else %}
    cast(null as {{ focus_sql_type(kind) }}) as {{ adapter.quote(name) }}
    {%- endif %}{% if not loop.last %},{% endif %}
{%- endfor %}
{%- endmacro %}

{% macro row_id(file_id, row_number, split) -%}
{{ md5_hex("concat(" ~ file_id ~ ", ':', cast(" ~ row_number ~ " as " ~ dbt.type_string() ~ "), ':', cast(" ~ split ~ " as " ~ dbt.type_string() ~ "))") }}
{%- endmacro %}

{#- Some real FOCUS producers write enumeration values in the wrong case ("Usage-based");
    the spec's values are case-sensitive, so known values are normalised, unknown ones kept. -#}
{% macro normalize_enum(expr, values) -%}
case lower({{ expr }})
{%- for v in values %}
    when '{{ v | lower }}' then '{{ v }}'
{%- endfor %}
    else {{ expr }}
end
{%- endmacro %}

{#- focus-validator reads "ProviderName <> InvoiceIssuerName" as "collected by a third party"
    (BilledCost must then be 0). A provider's own legal entities (e.g. "Amazon Web Services
    Canada, Inc.") are the provider itself, so they are published as the ProviderName; the
    entity's legal name is kept in x_InvoiceIssuerEntity. -#}
{% macro invoice_issuer(provider_name, issuer) -%}
case
    when {{ issuer }} is null then {{ provider_name }}
    when lower({{ issuer }}) like 'amazon web services%' or lower({{ issuer }}) like 'aws%'
        then case when lower({{ provider_name }}) in ('aws', 'amazon web services') then {{ provider_name }} else {{ issuer }} end
    when lower({{ issuer }}) like 'microsoft%'
        then case when lower({{ provider_name }}) like 'microsoft%' then {{ provider_name }} else {{ issuer }} end
    when lower({{ issuer }}) like 'google%'
        then case when lower({{ provider_name }}) like 'google%' then {{ provider_name }} else {{ issuer }} end
    when lower({{ issuer }}) like 'oracle%'
        then case when lower({{ provider_name }}) like 'oracle%' then {{ provider_name }} else {{ issuer }} end
    else {{ issuer }}
end
{%- endmacro %}

{#- InvoiceId is the provider's invoice id where it has issued one (FOCUS 1.2: MUST NOT be
    null for invoiced charges, MUST be null otherwise), so finalised and estimated months mix
    null and non-null. x_InvoiceId always carries the source value; the dbt var
    `publish_invoice_id: false` leaves InvoiceId null for consumers that cannot take the mix. -#}
{% macro invoice_id(expr) -%}
{%- if var('publish_invoice_id', true) -%}{{ expr }}{%- else -%}cast(null as {{ dbt.type_string() }}){%- endif -%}
{%- endmacro %}

{#- FOCUS unit format (spec attribute "Unit Format"; the same grammar focus-validator 2.2.1
    checks). Provider spellings with a known FOCUS equivalent are translated; anything that
    still does not conform is published as "Units" and the provider's unit is kept in the x_
    column next to it, so nothing is lost. -#}
{% macro unit_aliases() -%}
{{ return({
    'Hrs': 'Hours', 'Hr': 'Hours', 'hrs': 'Hours', 'Hour': 'Hours', 'hours': 'Hours',
    'GB-Mo': 'GB-Months', 'GB Months': 'GB-Months', 'GB-Month': 'GB-Months',
    'IOPS-Mo': 'IOPS-Months', 'IOPS-Month': 'IOPS-Months', 'Obj-Month': 'Objects-Months',
    'GB-Hrs': 'GB-Hours', 'GB Hours': 'GB-Hours',
    'vCPU-Hrs': 'vCPU-Hours', 'Lambda-GB-Seconds': 'GB-Seconds',
    '1/Month': 'Units/Month', '1/Day': 'Units/Day', '1/Hour': 'Units/Hour',
    '1 GB/Month': 'GB-Months', '1 GB/Hour': 'GB-Hours', '1 GB': 'GB', '1 Hour': 'Hours',
    '10 Hours': '10 Hours', '100 Hours': '100 Hours', '1 TB/Month': 'TB-Months',
    '10K': '10000 Units', '1K': '1000 Units', '100K': '100000 Units', '1M': '1000000 Units',
    '10M': '10000000 Units', '1 /Month': 'Units/Month', '1 /Hour': 'Units/Hour',
    'gibibyte': 'GiB', 'tebibyte': 'TiB', 'gibibyte month': 'GiB-Months',
    'gibibyte hour': 'GiB-Hours', 'hour': 'Hours', 'second': 'Seconds', 'seconds': 'Seconds',
    'days': 'Days', 'day': 'Days', 'month': 'Months', 'GB Of Data Transferred': 'GB',
    'Gigabytes Per Hour': 'GB/Hour', 'Gigabyte Per Hour': 'GB/Hour', 'Terabytes': 'TB',
    'Gigabytes': 'GB', 'OCPU Per Hour': 'OCPU-Hours', 'Instance per hour': 'Instance-Hours',
} ) }}
{%- endmacro %}

{% macro focus_unit_regex() -%}
{%- set size = 'b|Kb|Mb|Gb|Tb|Pb|Eb|B|KB|MB|GB|TB|PB|EB|Kib|Mib|Gib|Tib|Pib|Eib|KiB|MiB|GiB|TiB|PiB|EiB' -%}
{%- set t1 = 'Year|Month|Day|Hour|Minute|Second' -%}
{%- set tn = 'Years|Months|Days|Hours|Minutes|Seconds' -%}
{%- set cnt = '[A-Za-z][A-Za-z0-9]*(?:\\s+[A-Za-z][A-Za-z0-9]*)*' -%}
({{ '^(' ~ size ~ '|' ~ t1 ~ '|' ~ tn ~ '|' ~ cnt ~ ')$' }})|({{ '^(' ~ size ~ '|' ~ cnt ~ ')-(' ~ tn ~ ')$' }})|({{ '^(' ~ size ~ '|' ~ cnt ~ '|' ~ tn ~ ')/(' ~ t1 ~ ')$' }})|({{ '^[0-9]+ (' ~ size ~ '|' ~ t1 ~ '|' ~ tn ~ '|' ~ cnt ~ ')$' }})|({{ '^(' ~ size ~ '|' ~ cnt ~ '|' ~ tn ~ ')/[0-9]+ (' ~ tn ~ ')$' }})
{%- endmacro %}

{% macro focus_unit(expr) -%}
{%- set aliases = unit_aliases() -%}
case
    when {{ expr }} is null then null
    {%- for src, dst in aliases.items() %}
    when {{ expr }} = '{{ src }}' then '{{ dst }}'
    {%- endfor %}
    when {{ regex_full_match(expr, focus_unit_regex()) }} then {{ expr }}
    else 'Units'
end
{%- endmacro %}

{#- ResourceType when the provider gives none (FOCUS: not null whenever ResourceId is set, and
    null when it is not):
    AWS ARNs name their service and resource type (`arn:aws:sagemaker:…:endpoint/x`), EC2 ids
    their kind by prefix, Google full resource names their service and collection
    (`//compute.googleapis.com/…/instances/x`); anything else is typed by its service. -#}
{% macro resource_type(resource_type, resource_id, service_name) -%}
case
    when {{ resource_id }} is null then null
    when {{ resource_type }} is not null then {{ resource_type }}
    when {{ resource_id }} like 'arn:%'
        then {{ split_part(resource_id, "':'", 3) }} || ' '
            || coalesce(nullif({{ regex_extract(resource_id, '^arn:[^:]*:[^:]*:[^:]*:[^:]*:([A-Za-z0-9-]+)[/:]', 1) }}, ''), 'resource')
    when {{ resource_id }} like 'i-%' then 'ec2 instance'
    when {{ resource_id }} like 'vol-%' then 'ec2 volume'
    when {{ resource_id }} like 'snap-%' then 'ec2 snapshot'
    when {{ resource_id }} like 'eni-%' then 'ec2 network-interface'
    when {{ resource_id }} like '//%.googleapis.com/%'
        then {{ split_part(split_part(resource_id, "'//'", 2), "'.'", 1) }} || ' '
            || coalesce(nullif({{ regex_extract(resource_id, '/([a-zA-Z]+)/[^/]+$', 1) }}, ''), 'resource')
    else {{ service_name }}
end
{%- endmacro %}
