"""What each export family looks like once landed: raw table, known columns and the SQL
expressions (over canonical raw text columns) for delivery keys and source totals.

The expressions are fixed code, never built from data: file-derived names only ever reach SQL
as quoted identifiers or bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

MONEY = "decimal(38, 24)"


def money(col: str) -> str:
    return f"try_cast({col} as {MONEY})"


def ts(col: str) -> str:
    """Text timestamp -> TIMESTAMP (UTC), tolerant of the formats providers write."""
    return f"mlcost_ts({col})"


@dataclass(frozen=True)
class FamilySpec:
    name: str
    raw_table: str
    known_columns: tuple[str, ...]
    required_columns: tuple[str, ...]
    provider_expr: str
    account_expr: str
    period_expr: str  # DATE, first day of billing period
    currency_expr: str
    billed_expr: str | None  # per-row contribution to the native invoice basis
    effective_expr: str | None  # per-row contribution to the native amortized basis
    money_columns: tuple[str, ...] = ()
    date_columns: tuple[str, ...] = ()
    tag_prefix: str | None = None  # canonical prefix of one-column-per-tag sources
    is_billing: bool = True
    usage_columns: tuple[str, ...] = ()  # consumed quantity: negative values are flagged
    # Rows that are plain usage (not refunds, credits or corrections, where a negative quantity
    # is expected); fixed SQL over the raw columns, like the expressions above.
    usage_row_expr: str = "true"
    tag_json_columns: tuple[str, ...] = ()  # tags as one JSON object per row
    # Tags that staging parses strictly (CUR 2.0 maps): invalid JSON there is a corrupt file.
    tag_json_strict: bool = False


_AWS_COMMON = (
    "identity_line_item_id", "identity_time_interval", "bill_invoice_id", "bill_invoicing_entity",
    "bill_billing_entity", "bill_bill_type", "bill_payer_account_id", "bill_payer_account_name",
    "bill_billing_period_start_date", "bill_billing_period_end_date",
    "line_item_usage_account_id", "line_item_usage_account_name", "line_item_line_item_type",
    "line_item_usage_start_date", "line_item_usage_end_date", "line_item_product_code",
    "line_item_usage_type", "line_item_operation", "line_item_availability_zone",
    "line_item_resource_id", "line_item_usage_amount", "line_item_normalization_factor",
    "line_item_currency_code", "line_item_unblended_rate", "line_item_unblended_cost",
    "line_item_net_unblended_cost", "line_item_line_item_description", "line_item_tax_type",
    "line_item_legal_entity", "product_product_name", "product_servicecode",
    "product_product_family", "product_region", "product_region_code", "product_location",
    "product_instance_type", "product_sku", "product_usagetype", "product_operation",
    "pricing_rate_code", "pricing_rate_id", "pricing_currency", "pricing_public_on_demand_cost",
    "pricing_public_on_demand_rate", "pricing_term", "pricing_unit", "pricing_purchase_option",
    "reservation_reservation_a_r_n", "reservation_effective_cost",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_recurring_fee", "reservation_unused_quantity",
    "reservation_amortized_upfront_fee_for_billing_period",
    "reservation_recurring_fee_for_usage", "savings_plan_savings_plan_a_r_n",
    "savings_plan_savings_plan_effective_cost", "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment", "savings_plan_savings_plan_rate",
    "savings_plan_offering_type", "savings_plan_amortized_upfront_commitment_for_billing_period",
    "savings_plan_recurring_commitment_for_billing_period",
)

# CID's amortized-cost rule (aws-cudos-framework-deployment summary_view.sql).
_AWS_EFFECTIVE = f"""case line_item_line_item_type
    when 'SavingsPlanCoveredUsage' then {money('savings_plan_savings_plan_effective_cost')}
    when 'SavingsPlanRecurringFee' then {money('savings_plan_total_commitment_to_date')}
        - {money('savings_plan_used_commitment')}
    when 'SavingsPlanNegation' then 0
    when 'SavingsPlanUpfrontFee' then 0
    when 'DiscountedUsage' then {money('reservation_effective_cost')}
    when 'RIFee' then
        coalesce({money('reservation_unused_amortized_upfront_fee_for_billing_period')}, 0)
        + coalesce({money('reservation_unused_recurring_fee')}, 0)
    else case when line_item_line_item_type = 'Fee'
              and coalesce(reservation_reservation_a_r_n, '') <> '' then 0
              else {money('line_item_unblended_cost')} end
end"""

_AWS = dict(
    required_columns=("bill_payer_account_id", "line_item_unblended_cost",
                      "line_item_line_item_type", "line_item_usage_start_date",
                      "bill_billing_period_start_date", "line_item_currency_code"),
    provider_expr="'aws'",
    account_expr="bill_payer_account_id",
    period_expr=f"cast({ts('bill_billing_period_start_date')} as date)",
    currency_expr="line_item_currency_code",
    billed_expr=money("line_item_unblended_cost"),
    effective_expr=_AWS_EFFECTIVE,
    money_columns=("line_item_unblended_cost",),
    date_columns=("line_item_usage_start_date", "bill_billing_period_start_date"),
    usage_columns=("line_item_usage_amount",),
    usage_row_expr="line_item_line_item_type in ('Usage', 'DiscountedUsage', "
                   "'SavingsPlanCoveredUsage')",
)

AWS_CUR_LEGACY = FamilySpec(
    name="aws_cur_legacy", raw_table="aws_cur_legacy",
    known_columns=_AWS_COMMON + ("_tags_json",), tag_prefix="resource_tags_", **_AWS,
)
AWS_CUR2 = FamilySpec(
    name="aws_cur2", raw_table="aws_cur2",
    known_columns=_AWS_COMMON + ("product", "resource_tags", "cost_category", "discount"),
    tag_json_columns=("resource_tags",), tag_json_strict=True,
    **_AWS,
)

GCP_BILLING = FamilySpec(
    name="gcp_billing", raw_table="gcp_billing",
    known_columns=(
        "billing_account_id", "service_id", "service_description", "sku_id", "sku_description",
        "usage_start_time", "usage_end_time", "project_id", "project_number", "project_name",
        "project_labels", "project_ancestry_numbers", "labels", "system_labels",
        "location_location", "location_country", "location_region", "location_zone",
        "resource_name", "resource_global_name", "tags", "export_time", "cost", "cost_at_list",
        "currency", "currency_conversion_rate", "usage_amount", "usage_unit",
        "usage_amount_in_pricing_units", "usage_pricing_unit", "credits", "invoice_month",
        "invoice_publisher_type", "cost_type", "adjustment_info", "transaction_type",
        "seller_name", "price_effective_price", "price_tier_start_amount", "price_unit",
        "price_pricing_unit_quantity",
    ),
    required_columns=("billing_account_id", "cost", "currency", "invoice_month",
                      "usage_start_time"),
    provider_expr="'gcp'",
    account_expr="billing_account_id",
    period_expr="cast(try_strptime(invoice_month, '%Y%m') as date)",
    currency_expr="currency",
    # Amount paid = cost + sum(credits.amount); GCP's invoice ties to this per invoice.month.
    billed_expr=f"{money('cost')} + mlcost_credits_total(credits)",
    effective_expr=f"{money('cost')} + mlcost_credits_total(credits)",
    money_columns=("cost",),
    date_columns=("usage_start_time",),
    usage_columns=("usage_amount",),
    usage_row_expr="coalesce(cost_type, 'regular') = 'regular'",
)

AZURE_COST_DETAILS = FamilySpec(
    name="azure_cost_details", raw_table="azure_cost_details",
    known_columns=(
        "invoice_id", "billing_account_id", "billing_account_name", "billing_period_start_date",
        "billing_period_end_date", "billing_profile_id", "billing_profile_name",
        "account_owner_id", "account_name", "subscription_id", "subscription_name", "date",
        "product", "product_name", "product_id", "part_number", "meter_id", "service_family",
        "meter_category", "meter_sub_category", "meter_region", "meter_name", "quantity",
        "effective_price", "cost", "cost_in_billing_currency", "unit_price", "billing_currency",
        "billing_currency_code", "pricing_currency", "resource_location", "availability_zone",
        "consumed_service", "resource_id", "instance_name", "resource_name", "service_info1",
        "service_info2", "additional_info", "tags", "invoice_section_id", "invoice_section",
        "invoice_section_name", "cost_center", "unit_of_measure", "resource_group",
        "resource_group_name", "reservation_id", "reservation_name", "product_order_id",
        "product_order_name", "offer_id", "is_azure_credit_eligible", "term", "publisher_name",
        "publisher_type", "plan_name", "charge_type", "frequency", "pay_g_price",
        "payg_cost_in_billing_currency", "cost_in_usd", "pricing_model", "benefit_id",
        "benefit_name", "exchange_rate_pricing_to_billing", "_agreement",
    ),
    required_columns=("meter_category", "charge_type", "date"),
    provider_expr="'azure'",
    account_expr="case when _agreement = 'MCA' then billing_profile_id else billing_account_id end",
    period_expr=(
        "coalesce(cast(mlcost_date(billing_period_start_date) as date), "
        "cast(date_trunc('month', mlcost_date(date)) as date))"
    ),
    currency_expr="coalesce(billing_currency_code, billing_currency)",
    billed_expr=f"coalesce({money('cost_in_billing_currency')}, {money('cost')})",
    effective_expr=f"coalesce({money('cost_in_billing_currency')}, {money('cost')})",
    money_columns=("cost_in_billing_currency", "cost"),
    date_columns=("date",),
    usage_columns=("quantity",),
    usage_row_expr="charge_type = 'Usage'",
    tag_json_columns=("tags",),
)

OCI_COST_REPORT = FamilySpec(
    name="oci_cost_report", raw_table="oci_cost_report",
    known_columns=(
        "line_item_reference_no", "line_item_tenant_id", "line_item_interval_usage_start",
        "line_item_interval_usage_end", "product_service", "product_compartment_id",
        "product_compartment_name", "product_region", "product_availability_domain",
        "product_resource_id", "usage_billed_quantity", "usage_billed_quantity_overage",
        "cost_subscription_id", "cost_product_sku", "product_description", "cost_unit_price",
        "cost_unit_price_overage", "cost_my_cost", "cost_my_cost_overage", "cost_currency_code",
        "cost_billing_unit_readable", "cost_sku_unit_description", "cost_overage_flag",
        "line_item_is_correction", "line_item_backreference_no", "_tags_json",
    ),
    required_columns=("cost_my_cost", "line_item_interval_usage_start", "cost_currency_code"),
    provider_expr="'oci'",
    account_expr="coalesce(cost_subscription_id, line_item_tenant_id)",
    period_expr=f"cast(date_trunc('month', {ts('line_item_interval_usage_start')}) as date)",
    currency_expr="cost_currency_code",
    billed_expr=money("cost_my_cost"),
    effective_expr=money("cost_my_cost"),
    money_columns=("cost_my_cost",),
    date_columns=("line_item_interval_usage_start",),
    usage_columns=("usage_billed_quantity",),
    usage_row_expr="coalesce(lower(line_item_is_correction), 'false') = 'false'",
    tag_prefix="tags_",
)

FOCUS_COLUMNS = (
    "availability_zone", "billed_cost", "billing_account_id", "billing_account_name",
    "billing_account_type", "billing_currency", "billing_period_end", "billing_period_start",
    "capacity_reservation_id", "capacity_reservation_status", "charge_category", "charge_class",
    "charge_description", "charge_frequency", "charge_period_end", "charge_period_start",
    "commitment_discount_category", "commitment_discount_id", "commitment_discount_name",
    "commitment_discount_quantity", "commitment_discount_status", "commitment_discount_type",
    "commitment_discount_unit", "consumed_quantity", "consumed_unit", "contracted_cost",
    "contracted_unit_price", "effective_cost", "invoice_id", "invoice_issuer_name", "list_cost",
    "list_unit_price", "pricing_category", "pricing_currency",
    "pricing_currency_contracted_unit_price", "pricing_currency_effective_cost",
    "pricing_currency_list_unit_price", "pricing_quantity", "pricing_unit", "provider_name",
    "publisher_name", "region_id", "region_name", "resource_id", "resource_name",
    "resource_type", "service_category", "service_name", "service_subcategory", "sku_id",
    "sku_meter", "sku_price_details", "sku_price_id", "sub_account_id", "sub_account_name",
    "sub_account_type", "tags",
    # 1.3 additions, kept when present
    "allocated_method_id", "allocated_method_details", "allocated_resource_id",
    "allocated_resource_name", "allocated_tags", "contract_applied", "service_provider_name",
    "host_provider_name",
    # Provider extensions the AWS and Azure FOCUS exports carry (FinOps toolkit hub names).
    "x_service_code", "x_usage_type", "x_operation",
)

FOCUS = FamilySpec(
    name="focus", raw_table="focus",
    known_columns=FOCUS_COLUMNS,
    required_columns=("billed_cost", "effective_cost", "billing_account_id", "billing_currency",
                      "billing_period_start", "charge_period_start", "charge_category",
                      "provider_name"),
    provider_expr="mlcost_provider_code(coalesce(service_provider_name, provider_name))",
    account_expr="billing_account_id",
    period_expr=f"cast({ts('billing_period_start')} as date)",
    currency_expr="billing_currency",
    billed_expr=money("billed_cost"),
    effective_expr=money("effective_cost"),
    money_columns=("billed_cost", "effective_cost", "list_cost", "contracted_cost"),
    date_columns=("charge_period_start", "billing_period_start"),
    usage_columns=("consumed_quantity",),
    usage_row_expr="charge_category = 'Usage' and charge_class is null",
    tag_json_columns=("tags",),
)

UTILIZATION_METRICS = FamilySpec(
    name="utilization_metrics", raw_table="utilization_metrics",
    known_columns=("metric_date", "provider", "resource_id", "metric_name", "value", "unit"),
    required_columns=("metric_date", "provider", "resource_id", "metric_name", "value"),
    provider_expr="lower(provider)", account_expr="'metrics'",
    period_expr="cast(date_trunc('month', mlcost_date(metric_date)) as date)",
    currency_expr="null", billed_expr=None, effective_expr=None,
    date_columns=("metric_date",), is_billing=False,
)

BUDGETS = FamilySpec(
    name="budgets", raw_table="budgets",
    known_columns=("fiscal_quarter", "team", "budget_amount", "currency"),
    required_columns=("fiscal_quarter", "team", "budget_amount", "currency"),
    provider_expr="'budget'", account_expr="'budgets'",
    # try_ forms: a malformed quarter leaves the period null, which validation names by row.
    period_expr="cast(try_strptime(left(fiscal_quarter, 4) || '-' || lpad(cast(("
                "try_cast(right(fiscal_quarter, 1) as integer) - 1) * 3 + 1 as varchar),"
                " 2, '0') || '-01', '%Y-%m-%d') as date)",
    currency_expr="currency", billed_expr=None, effective_expr=None,
    money_columns=("budget_amount",), is_billing=False,
)

# The reviewed recommendation actions (docs/recommendations.md): one list, the latest loaded
# file replaces the earlier ones (stg_mlcost__recommendation_actions). Row values (status, date,
# id) are judged in dbt, row by row, so one bad row never refuses the file's good rows.
RECOMMENDATION_ACTIONS = FamilySpec(
    name="recommendation_actions", raw_table="recommendation_actions",
    known_columns=("recommendation_id", "status", "date", "note", "reviewer"),
    required_columns=("recommendation_id", "status", "date"),
    provider_expr="'actions'", account_expr="'recommendation_actions'",
    period_expr="cast('2000-01-01' as date)",
    currency_expr="null", billed_expr=None, effective_expr=None, is_billing=False,
)

FAMILIES: dict[str, FamilySpec] = {
    f.name: f
    for f in (AWS_CUR_LEGACY, AWS_CUR2, GCP_BILLING, AZURE_COST_DETAILS, OCI_COST_REPORT, FOCUS,
              UTILIZATION_METRICS, BUDGETS, RECOMMENDATION_ACTIONS)
}
