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
    ('x_Operation', s),
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
md5(concat({{ file_id }}, ':', cast({{ row_number }} as {{ dbt.type_string() }}), ':', cast({{ split }} as {{ dbt.type_string() }})))
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
