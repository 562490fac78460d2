"""AWS Cost and Usage Report 2.0 (Data Exports) Parquet writer.

Column set and types follow the CUR 2.0 table dictionary (docs.aws.amazon.com/cur/latest/
userguide/table-dictionary-cur2.html) as exported with split cost allocation data enabled:
fixed snake_case columns, rates as strings, money as double, the map columns ``product``,
``resource_tags``, ``cost_category`` (map<string,string>) and ``discount``
(map<string,double>).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import company as C
from .activity import Activity, compute, line_usage
from .catalog import Group
from .fmt import code, exact_sum, hex_ids, rate_str, stable_int, to_units, units_to_float
from .rows import Segments
from .window import Month, add_months

S = pa.string()
D = pa.float64()
T = pa.timestamp("ms", tz="UTC")
MS = pa.map_(pa.string(), pa.string())
MD = pa.map_(pa.string(), pa.float64())

_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("bill_bill_type", S), ("bill_billing_entity", S), ("bill_billing_period_end_date", T),
    ("bill_billing_period_start_date", T), ("bill_invoice_id", S), ("bill_invoicing_entity", S),
    ("bill_payer_account_id", S), ("bill_payer_account_name", S), ("cost_category", MS),
    ("discount", MD), ("discount_bundled_discount", D), ("discount_total_discount", D),
    ("identity_line_item_id", S), ("identity_time_interval", S),
    ("line_item_availability_zone", S), ("line_item_blended_cost", D),
    ("line_item_blended_rate", S), ("line_item_currency_code", S),
    ("line_item_legal_entity", S), ("line_item_line_item_description", S),
    ("line_item_line_item_type", S), ("line_item_net_unblended_cost", D),
    ("line_item_net_unblended_rate", S), ("line_item_normalization_factor", D),
    ("line_item_normalized_usage_amount", D), ("line_item_operation", S),
    ("line_item_product_code", S), ("line_item_resource_id", S), ("line_item_tax_type", S),
    ("line_item_unblended_cost", D), ("line_item_unblended_rate", S),
    ("line_item_usage_account_id", S), ("line_item_usage_account_name", S),
    ("line_item_usage_amount", D), ("line_item_usage_end_date", T),
    ("line_item_usage_start_date", T), ("line_item_usage_type", S), ("pricing_currency", S),
    ("pricing_lease_contract_length", S), ("pricing_offering_class", S),
    ("pricing_public_on_demand_cost", D), ("pricing_public_on_demand_rate", S),
    ("pricing_purchase_option", S), ("pricing_rate_code", S), ("pricing_rate_id", S),
    ("pricing_term", S), ("pricing_unit", S), ("product", MS), ("product_comment", S),
    ("product_fee_code", S), ("product_fee_description", S), ("product_from_location", S),
    ("product_from_location_type", S), ("product_from_region_code", S),
    ("product_instance_family", S), ("product_instance_type", S), ("product_instancesku", S),
    ("product_location", S), ("product_location_type", S), ("product_operation", S),
    ("product_pricing_unit", S), ("product_product_family", S), ("product_region_code", S),
    ("product_servicecode", S), ("product_sku", S), ("product_to_location", S),
    ("product_to_location_type", S), ("product_to_region_code", S), ("product_usagetype", S),
    ("reservation_amortized_upfront_cost_for_usage", D),
    ("reservation_amortized_upfront_fee_for_billing_period", D),
    ("reservation_availability_zone", S), ("reservation_effective_cost", D),
    ("reservation_end_time", S), ("reservation_modification_status", S),
    ("reservation_net_amortized_upfront_cost_for_usage", D),
    ("reservation_net_amortized_upfront_fee_for_billing_period", D),
    ("reservation_net_effective_cost", D), ("reservation_net_recurring_fee_for_usage", D),
    ("reservation_net_unused_amortized_upfront_fee_for_billing_period", D),
    ("reservation_net_unused_recurring_fee", D), ("reservation_net_upfront_value", D),
    ("reservation_normalized_units_per_reservation", S),
    ("reservation_number_of_reservations", S), ("reservation_recurring_fee_for_usage", D),
    ("reservation_reservation_a_r_n", S), ("reservation_start_time", S),
    ("reservation_subscription_id", S), ("reservation_total_reserved_normalized_units", S),
    ("reservation_total_reserved_units", S), ("reservation_units_per_reservation", S),
    ("reservation_unused_amortized_upfront_fee_for_billing_period", D),
    ("reservation_unused_normalized_unit_quantity", D), ("reservation_unused_quantity", D),
    ("reservation_unused_recurring_fee", D), ("reservation_upfront_value", D),
    ("resource_tags", MS), ("savings_plan_amortized_upfront_commitment_for_billing_period", D),
    ("savings_plan_end_time", S), ("savings_plan_instance_type_family", S),
    ("savings_plan_net_amortized_upfront_commitment_for_billing_period", D),
    ("savings_plan_net_recurring_commitment_for_billing_period", D),
    ("savings_plan_net_savings_plan_effective_cost", D), ("savings_plan_offering_type", S),
    ("savings_plan_payment_option", S), ("savings_plan_purchase_term", S),
    ("savings_plan_recurring_commitment_for_billing_period", D), ("savings_plan_region", S),
    ("savings_plan_savings_plan_a_r_n", S), ("savings_plan_savings_plan_effective_cost", D),
    ("savings_plan_savings_plan_rate", D), ("savings_plan_start_time", S),
    ("savings_plan_total_commitment_to_date", D), ("savings_plan_used_commitment", D),
    ("split_line_item_actual_usage", D), ("split_line_item_net_split_cost", D),
    ("split_line_item_net_unused_cost", D), ("split_line_item_parent_resource_id", S),
    ("split_line_item_public_on_demand_split_cost", D),
    ("split_line_item_public_on_demand_unused_cost", D), ("split_line_item_reserved_usage", D),
    ("split_line_item_split_cost", D), ("split_line_item_split_usage", D),
    ("split_line_item_split_usage_ratio", D), ("split_line_item_unused_cost", D),
]
SCHEMA = pa.schema([pa.field(n, t) for n, t in _COLUMNS])
MAP_COLUMNS = ("product", "resource_tags", "cost_category", "discount")

LEGAL = "Amazon Web Services, Inc."
LOCATION = "US East (N. Virginia)"
_ENV = {C.AWS_PAYER_ACCOUNT_ID: "shared", C.AWS_ML_PROD: "prod", C.AWS_SANDBOX: "sandbox",
        C.AWS_DATA: "prod", C.AWS_SHARED: "shared"}
_FLUSH_ROWS = 250_000
_QTY_DP = 6


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class AwsWriter:
    """Writes one CUR 2.0 Parquet file per billing period."""

    def __init__(self, ctx):
        self.ctx = ctx
        w = ctx.window
        self.base = Path(ctx.out_dir) / "landing" / "aws" / C.AWS_EXPORT_NAME / "data"
        days = np.arange(np.datetime64(w.start, "D") - 62, np.datetime64(w.end, "D") + 1)
        self.day0 = np.datetime64(w.start, "D")
        self._days = days
        iso = np.datetime_as_string(days, unit="s")
        self._iso = np.char.add(iso, "Z")
        self._ts = days.astype("datetime64[ms]")
        self.sp = ctx.catalog.commitments["aws_sp"]
        self.ri = ctx.catalog.commitments["aws_ri"]
        self.ri_sku = code("ri", self.ri["itype"])
        self.tag_maps: dict[str, pa.Array] = {}

    # -------------------------------------------------------------- small helpers
    def _di(self, day: np.ndarray) -> np.ndarray:
        return np.asarray(day, dtype=np.int64) + 62  # index into the precomputed day arrays

    def _interval(self, day: np.ndarray) -> pa.Array:
        i = self._di(day)
        return pa.array(np.char.add(np.char.add(self._iso[i], "/"), self._iso[i + 1]))

    def _tags(self, g: Group, member: np.ndarray) -> pa.Array:
        if g.key not in self.tag_maps:
            self.tag_maps[g.key] = pa.array(
                [list((t or {}).items()) for t in g.tags], type=MS)
        return self.tag_maps[g.key].take(pa.array(member.astype(np.int32)))

    def _bill(self, m: Month, n: int, account: str, entity: str = "AWS",
              bill_type: str = "Anniversary") -> dict:
        inv = str(1_900_000_000 + (m.start.year * 12 + m.start.month) * 137 % 99_999_999)
        if entity != "AWS":
            inv = f"EUINUS{m.start:%y}-{stable_int('mp', m.label) % 10**6:06d}"
        return dict(
            bill_bill_type=bill_type, bill_billing_entity=entity,
            bill_billing_period_start_date=np.full(n, np.datetime64(m.start, "ms")),
            bill_billing_period_end_date=np.full(n, np.datetime64(m.end, "ms")),
            bill_invoice_id=inv, bill_invoicing_entity=LEGAL,
            bill_payer_account_id=C.AWS_PAYER_ACCOUNT_ID,
            bill_payer_account_name=C.AWS_PAYER_ACCOUNT_NAME,
            cost_category=pa.repeat(pa.scalar([("environment", _ENV[account])], MS), n),
            discount=pa.repeat(pa.scalar([], MD), n),
            line_item_usage_account_id=account,
            line_item_usage_account_name=C.AWS_ACCOUNT_NAMES[account],
            line_item_currency_code=C.CURRENCY, pricing_currency=C.CURRENCY,
            line_item_legal_entity=LEGAL)

    def _dates(self, day: np.ndarray) -> dict:
        i = self._di(day)
        return dict(line_item_usage_start_date=self._ts[i],
                    line_item_usage_end_date=self._ts[i + 1],
                    identity_time_interval=self._interval(day))

    def _month_dates(self, m: Month, n: int) -> dict:
        s, e = np.datetime64(m.start, "ms"), np.datetime64(m.end, "ms")
        return dict(line_item_usage_start_date=np.full(n, s),
                    line_item_usage_end_date=np.full(n, e),
                    identity_time_interval=f"{m.start:%Y-%m-%d}T00:00:00Z/"
                                           f"{m.end:%Y-%m-%d}T00:00:00Z")

    @staticmethod
    def _product(line: dict) -> dict:
        sku = code(line["usage_type"], line["operation"])
        return dict(
            product=pa.scalar(list(line["product"].items()), MS),
            product_servicecode=line["servicecode"], product_product_family=line["family"],
            product_instance_type=line.get("instance_type", ""),
            product_instance_family=line.get("instance_family", ""),
            product_region_code=C.AWS_REGION, product_location=LOCATION,
            product_location_type="AWS Region", product_operation=line["operation"],
            product_usagetype=line["usage_type"], product_sku=sku,
            product_from_location=line.get("from_loc", ""),
            product_to_location=line.get("to_loc", ""),
            product_pricing_unit=line["unit"],
            line_item_product_code=line["product_code"], line_item_usage_type=line["usage_type"],
            line_item_operation=line["operation"], pricing_unit=line["unit"],
            pricing_rate_code=f"{sku}.JRTCKXETXF.6YS6EN2CT7",
            pricing_rate_id=str(stable_int("rate", sku) % 10**9))

    def _emit(self, segs, m, g, line, member, day, usage, kind, extra=None):
        """Append rows of one line-item kind; returns (billed_units, effective_units)."""
        n = len(member)
        if n == 0:
            return 0, 0
        od = line["rate"]
        cols = self._bill(m, n, g.scope)
        cols.update(self._dates(day))
        cols.update(self._product(line))
        cols.update(resource_tags=self._tags(g, member),
                    line_item_resource_id=pa.array(np.asarray(g.ids, dtype=object)[member]),
                    line_item_usage_amount=usage, pricing_public_on_demand_rate=rate_str(od))
        od_units = to_units(usage * od)
        if line.get("compute") or line["usage_type"].startswith("EBS"):
            cols["line_item_availability_zone"] = pa.array(
                np.array(["us-east-1a", "us-east-1b", "us-east-1c"])[member % 3])
        if line.get("nf"):
            cols.update(line_item_normalization_factor=line["nf"],
                        line_item_normalized_usage_amount=np.round(usage * line["nf"], _QTY_DP))
        if kind == "usage":
            rate = line["spot_rate"] if line.get("purchase") == "spot" else od
            cost = to_units(usage * rate)
            spot = line.get("purchase") == "spot"
            cols.update(line_item_line_item_type="Usage",
                        line_item_line_item_description=line["desc"],
                        line_item_unblended_rate=rate_str(rate),
                        pricing_term="Spot" if spot else "OnDemand",
                        pricing_purchase_option="Spot" if spot else None,
                        pricing_public_on_demand_cost=units_to_float(od_units))
            billed = effective = cost
        elif kind == "ri":
            ri = self.ri
            amort = to_units(usage * ri["upfront_hourly"])
            recur = to_units(usage * ri["recurring_hourly"])
            cost = np.zeros(n, dtype=np.int64)
            cols.update(line_item_line_item_type="DiscountedUsage",
                        line_item_line_item_description=f"Linux/UNIX (Amazon VPC), {ri['itype']} "
                                                        "reserved instance applied",
                        line_item_unblended_rate=rate_str(0.0), pricing_term="Reserved",
                        pricing_purchase_option="Partial Upfront",
                        pricing_lease_contract_length=f"{ri['years']}yr",
                        pricing_offering_class="standard",
                        pricing_public_on_demand_cost=units_to_float(od_units),
                        reservation_reservation_a_r_n=ri["arn"],
                        reservation_amortized_upfront_cost_for_usage=units_to_float(amort),
                        reservation_recurring_fee_for_usage=units_to_float(recur),
                        reservation_effective_cost=units_to_float(amort + recur),
                        reservation_subscription_id=str(stable_int("ri-sub") % 10**10))
            billed, effective = cost, amort + recur
        elif kind in ("sp", "neg"):
            sp = self.sp
            sp_rate = round(od * sp["discount"], 6)
            cost = od_units if kind == "sp" else -od_units
            eff = to_units(usage * sp_rate)
            cols.update(line_item_unblended_rate=rate_str(od if kind == "sp" else -od),
                        pricing_term="OnDemand",
                        savings_plan_savings_plan_a_r_n=sp["arn"],
                        savings_plan_savings_plan_rate=sp_rate,
                        savings_plan_offering_type="ComputeSavingsPlans",
                        savings_plan_payment_option="No Upfront",
                        savings_plan_purchase_term=f"{sp['years']}yr",
                        savings_plan_start_time=_iso(sp["start"]),
                        savings_plan_end_time=_iso(sp["start"].replace(
                            year=sp["start"].year + sp["years"])))
            if kind == "sp":
                cols.update(line_item_line_item_type="SavingsPlanCoveredUsage",
                            line_item_line_item_description=f"Usage covered by Compute Savings "
                                                            f"Plan {sp['arn']}",
                            pricing_public_on_demand_cost=units_to_float(od_units),
                            savings_plan_savings_plan_effective_cost=units_to_float(eff))
                billed, effective = cost, eff
            else:
                cols.update(line_item_line_item_type="SavingsPlanNegation",
                            line_item_line_item_description=f"SavingsPlanNegation used by "
                                                            f"AccountId : {g.scope} and UsageSku "
                                                            f": {cols['product_sku']}")
                billed, effective = cost, np.zeros(n, dtype=np.int64)
        else:  # pragma: no cover
            raise ValueError(kind)
        if extra:
            cols.update(extra)
        f = units_to_float(cost)
        cols.update(line_item_unblended_cost=f, line_item_blended_cost=f,
                    line_item_blended_rate=cols["line_item_unblended_rate"])
        segs.add(n, **cols)
        self.ctx.add_team_cost(g.team, m, exact_sum(effective))
        return exact_sum(billed), exact_sum(effective)

    # -------------------------------------------------------------- month
    def write_month(self, m: Month, groups: list[Group], acts: dict[str, Activity]) -> int:
        segs = Segments(SCHEMA)
        path = self.base / f"BILLING_PERIOD={m.label}" / f"{C.AWS_EXPORT_NAME}-00001.snappy.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng([self.ctx.seed, stable_int("aws-ids") % 2**32, m.index])
        writer = pq.ParquetWriter(path, SCHEMA, compression="snappy", version="2.6",
                                  use_dictionary=True, write_statistics=True)
        billed = effective = rows = 0
        by_acct_prod: dict[tuple[str, str], int] = {}

        def flush(force: bool = False) -> None:
            nonlocal rows
            if segs.n and (force or segs.n >= _FLUSH_ROWS):
                t = segs.table()
                t = t.set_column(t.schema.get_field_index("identity_line_item_id"),
                                 "identity_line_item_id", hex_ids(rng, t.num_rows))
                writer.write_table(t, row_group_size=_FLUSH_ROWS)
                rows += t.num_rows
                segs.clear()

        def book(acct, prod_code, b, e):
            nonlocal billed, effective
            billed += b
            effective += e
            by_acct_prod[(acct, prod_code)] = by_acct_prod.get((acct, prod_code), 0) + b

        pool = []  # on-demand EC2 compute usage eligible for RI / Savings Plan coverage
        for gi, g in enumerate(groups):
            a = acts[g.key]
            for line in g.lines:
                i, member, day, amount = line_usage(a, line, m.n_days)
                if len(amount) == 0:
                    continue
                usage = np.round(amount, _QTY_DP)
                if line.get("compute") and line.get("purchase") == "od":
                    pool.append((gi, line, member, day, usage))
                    continue
                b, e = self._emit(segs, m, g, line, member, day, usage, "usage")
                book(g.scope, line["product_code"], b, e)
            flush()

        self._coverage(segs, m, groups, pool, book)
        flush()
        self._fees(segs, m, acts, groups, book, by_acct_prod)
        flush(force=True)
        writer.close()
        self.ctx.files.append(path)
        self.ctx.ledger_add("aws", C.AWS_PAYER_ACCOUNT_ID, m, billed, effective)
        return rows

    # -------------------------------------------------------------- RI and SP coverage
    def _coverage(self, segs, m, groups, pool, book):
        ri, sp = self.ri, self.sp
        # Deterministic application order: RI first (exact type, same account), then the
        # Savings Plan over whatever remains, day by day.
        ri_used = np.zeros(m.n_days)
        sp_used_units = np.zeros(m.n_days, dtype=np.int64)
        cap_h = ri["units"] * 24.0
        commit_units = int(to_units(sp["hourly"] * 24.0))
        rest = []
        for gi, line, member, day, usage in pool:
            g = groups[gi]
            order = np.lexsort((member, day))
            member, day, usage = member[order], day[order], usage[order]
            cov = np.zeros(len(usage))
            if line["instance_type"] == ri["itype"] and g.scope == ri["account"]:
                for k in range(len(usage)):
                    dd = day[k] - m.day0
                    take = min(usage[k], cap_h - ri_used[dd])
                    if take > 0:
                        cov[k] = round(take, _QTY_DP)
                        ri_used[dd] += cov[k]
            if cov.any():
                sel = cov > 0
                b, e = self._emit(segs, m, g, line, member[sel], day[sel], cov[sel], "ri")
                book(g.scope, line["product_code"], b, e)
            rest.append((gi, line, member, day, np.round(usage - cov, _QTY_DP)))
        for gi, line, member, day, usage in rest:
            g = groups[gi]
            sp_rate = round(line["rate"] * sp["discount"], 6)
            cov = np.zeros(len(usage))
            for k in range(len(usage)):
                if usage[k] <= 0:
                    continue
                dd = day[k] - m.day0
                left = commit_units - sp_used_units[dd]
                if left <= 0:
                    continue
                hours = min(usage[k], left / 1e10 / sp_rate)
                hours = np.floor(hours * 1e6) / 1e6
                if hours <= 0:
                    continue
                cov[k] = hours
                sp_used_units[dd] += int(to_units(hours * sp_rate))
            sel = cov > 0
            if sel.any():
                for kind in ("sp", "neg"):
                    b, e = self._emit(segs, m, g, line, member[sel], day[sel], cov[sel],
                                      kind)
                    book(g.scope, line["product_code"], b, e)
            od = np.round(usage - cov, _QTY_DP)
            sel = od > 0
            if sel.any():
                b, e = self._emit(segs, m, g, line, member[sel], day[sel], od[sel],
                                  "usage")
                book(g.scope, line["product_code"], b, e)
        self._sp_fee(segs, m, commit_units, sp_used_units, book)
        self._ri_fee(segs, m, ri_used, book)

    def _sp_fee(self, segs, m, commit_units, used_units, book):
        sp = self.sp
        n = m.n_days
        used = np.minimum(used_units, commit_units)
        day = np.arange(m.day0, m.day0 + n)
        cols = self._bill(m, n, sp["account"])
        cols.update(self._dates(day))
        fee = np.full(n, commit_units, dtype=np.int64)
        cols.update(
            line_item_line_item_type="SavingsPlanRecurringFee",
            line_item_line_item_description=f"{sp['years']} year No Upfront Compute Savings Plan",
            line_item_product_code="ComputeSavingsPlans",
            line_item_usage_type=f"ComputeSP:{sp['years']}yrNoUpfront",
            line_item_operation="", line_item_resource_id=sp["arn"],
            line_item_usage_amount=np.full(n, 24.0),
            line_item_unblended_rate=rate_str(sp["hourly"]),
            line_item_blended_rate=rate_str(sp["hourly"]),
            line_item_unblended_cost=units_to_float(fee),
            line_item_blended_cost=units_to_float(fee),
            pricing_unit="Hrs", pricing_term="Savings Plan",
            product_servicecode="ComputeSavingsPlans", product_product_family="Savings Plans",
            product_region_code="", product=pa.scalar([("product_name", "Savings Plans for AWS "
                                                        "Compute usage")], MS),
            resource_tags=pa.repeat(pa.scalar([], MS), n),
            savings_plan_savings_plan_a_r_n=sp["arn"],
            savings_plan_offering_type="ComputeSavingsPlans",
            savings_plan_payment_option="No Upfront", savings_plan_purchase_term=f"{sp['years']}yr",
            savings_plan_start_time=_iso(sp["start"]),
            savings_plan_end_time=_iso(sp["start"].replace(year=sp["start"].year + sp["years"])),
            savings_plan_recurring_commitment_for_billing_period=units_to_float(fee),
            savings_plan_amortized_upfront_commitment_for_billing_period=0.0,
            savings_plan_total_commitment_to_date=units_to_float(fee),
            savings_plan_used_commitment=units_to_float(used))
        segs.add(n, **cols)
        unused = fee - used
        book(sp["account"], "ComputeSavingsPlans", exact_sum(fee), exact_sum(unused))
        self.ctx.add_team_cost("ml-platform", m, exact_sum(unused))
        total_unused, total = exact_sum(unused), exact_sum(fee)
        if total and total_unused > total // 100:
            self.ctx.add_idle("aws", sp["arn"], "unused_commitment", m.start,
                              m.end - dt.timedelta(days=1))

    def _ri_fee(self, segs, m, ri_used, book):
        ri = self.ri
        hours = ri["units"] * 24.0 * m.n_days
        used = float(np.round(ri_used.sum(), _QTY_DP))
        unused = round(hours - used, _QTY_DP)
        recurring = int(to_units(hours * ri["recurring_hourly"]))
        amort = int(to_units(hours * ri["upfront_hourly"]))
        un_amort = int(to_units(unused * ri["upfront_hourly"]))
        un_recur = int(to_units(unused * ri["recurring_hourly"]))
        nf = 16.0
        start = ri["start"]
        end = start.replace(year=start.year + ri["years"])
        upfront_value = round(ri["units"] * ri["upfront_hourly"] * 8760 * ri["years"], 2)
        common = dict(
            reservation_reservation_a_r_n=ri["arn"], reservation_start_time=_iso(start),
            reservation_end_time=_iso(end), reservation_modification_status="Original",
            reservation_number_of_reservations="1",
            reservation_units_per_reservation=f"{hours:.10f}",
            reservation_total_reserved_units=f"{hours:.10f}",
            reservation_normalized_units_per_reservation=f"{hours * nf:.11f}",
            reservation_total_reserved_normalized_units=f"{hours * nf:.11f}",
            reservation_subscription_id=str(stable_int("ri-sub") % 10**10),
            reservation_upfront_value=upfront_value, pricing_term="Reserved",
            pricing_purchase_option="Partial Upfront",
            pricing_lease_contract_length=f"{ri['years']}yr", pricing_offering_class="standard",
            line_item_product_code="AmazonEC2", product_servicecode="AmazonEC2",
            product_instance_type=ri["itype"], product_region_code=C.AWS_REGION,
            product_location=LOCATION, product_location_type="AWS Region",
            product_product_family="Compute Instance",
            product=pa.scalar([("product_name", "Amazon Elastic Compute Cloud"),
                               ("region", C.AWS_REGION)], MS),
            resource_tags=pa.repeat(pa.scalar([], MS), 1), line_item_operation="RunInstances",
            pricing_unit="Hrs")
        cols = self._bill(m, 1, ri["account"])
        cols.update(self._month_dates(m, 1))
        cols.update(common)
        cols.update(
            line_item_line_item_type="RIFee",
            line_item_line_item_description=f"USD {ri['recurring_hourly']} hourly fee per "
                                            f"Linux/UNIX (Amazon VPC), {ri['itype']} instance",
            line_item_usage_type=f"HeavyUsage:{ri['itype']}", line_item_usage_amount=hours,
            line_item_normalization_factor=nf, line_item_normalized_usage_amount=hours * nf,
            line_item_unblended_rate=rate_str(ri["recurring_hourly"]),
            line_item_blended_rate=rate_str(ri["recurring_hourly"]),
            line_item_unblended_cost=units_to_float(recurring),
            line_item_blended_cost=units_to_float(recurring),
            reservation_amortized_upfront_fee_for_billing_period=units_to_float(amort),
            reservation_unused_quantity=unused,
            reservation_unused_normalized_unit_quantity=round(unused * nf, _QTY_DP),
            reservation_unused_recurring_fee=units_to_float(un_recur),
            reservation_unused_amortized_upfront_fee_for_billing_period=units_to_float(un_amort))
        segs.add(1, **cols)
        book(ri["account"], "AmazonEC2", recurring, un_amort + un_recur)
        self.ctx.add_team_cost("ml-platform", m, un_amort + un_recur)
        if unused > hours * 0.01:
            self.ctx.add_idle("aws", ri["arn"], "unused_commitment", m.start,
                              m.end - dt.timedelta(days=1))
        if m.start == start.date().replace(day=1):
            # The upfront part is billed once, in the purchase month (bill type Purchase).
            up = int(to_units(upfront_value))
            cols = self._bill(m, 1, ri["account"], bill_type="Purchase")
            cols.update(self._month_dates(m, 1))
            cols.update(common)
            cols.update(
                line_item_line_item_type="Fee",
                line_item_line_item_description=f"Sign up charge for subscription: "
                                                f"{common['reservation_subscription_id']}, "
                                                f"planId: {stable_int('plan') % 10**7}",
                line_item_usage_type=f"HeavyUsage:{ri['itype']}", line_item_usage_amount=1.0,
                line_item_unblended_rate=rate_str(upfront_value),
                line_item_blended_rate=rate_str(upfront_value),
                line_item_unblended_cost=units_to_float(up),
                line_item_blended_cost=units_to_float(up))
            segs.add(1, **cols)
            book(ri["account"], "AmazonEC2", up, 0)

    # -------------------------------------------------------------- other charges
    def _simple(self, segs, m, account, line_type, product_code, desc, cost_units, book,
                effective=None, entity="AWS", bill_type="Anniversary", **extra):
        cols = self._bill(m, 1, account, entity=entity, bill_type=bill_type)
        cols.update(self._month_dates(m, 1))
        f = units_to_float(np.array([cost_units]))[0]
        cols.update(line_item_line_item_type=line_type, line_item_product_code=product_code,
                    line_item_line_item_description=desc, line_item_unblended_cost=f,
                    line_item_blended_cost=f, resource_tags=pa.repeat(pa.scalar([], MS), 1),
                    product=pa.scalar([], MS), line_item_usage_amount=0.0)
        cols.update(extra)
        segs.add(1, **cols)
        book(account, product_code, cost_units, cost_units if effective is None else effective)

    def _fees(self, segs, m, acts, groups, book, by_acct_prod):
        ctx = self.ctx
        # Enterprise discount on compute, credits for the sandbox, marketplace SaaS.
        for (acct, prod), base in sorted(by_acct_prod.items()):
            if prod in ("AmazonEC2", "AmazonSageMaker") and base > 0:
                edp = -(base * 3 // 100)
                self._simple(segs, m, acct, "EdpDiscount", prod, "Enterprise Program Discount",
                             edp, book, line_item_usage_type="", line_item_operation="")
                ctx.add_team_cost("ml-platform", m, edp)
        if m.index < 6:
            base = by_acct_prod.get((C.AWS_SANDBOX, "AmazonSageMaker"), 0)
            credit = -min(int(to_units(500.0)), base // 2)
            if credit:
                self._simple(segs, m, C.AWS_SANDBOX, "Credit", "AmazonSageMaker",
                             "AWS Promotional Credit - ML sandbox", credit, book)
                ctx.add_team_cost("ml-platform", m, credit)
        seats = int(round(20 * 1.04 ** m.index))
        mp = int(to_units(seats * 100.0))
        self._simple(segs, m, C.AWS_SHARED, "Usage", "8g1p4jkzs6p0w3cdh6vd9atmc",
                     "Weights & Biases Teams - per seat per month", mp, book,
                     entity="AWS Marketplace", line_item_usage_type="SeatsUsage",
                     line_item_usage_amount=float(seats), line_item_unblended_rate=rate_str(100),
                     line_item_blended_rate=rate_str(100),
                     line_item_legal_entity="Weights and Biases, Inc.", pricing_unit="Units",
                     pricing_term="OnDemand",
                     product=pa.scalar([("product_name", "Weights & Biases Platform")], MS))
        ctx.add_team_cost("ml-platform", m, mp)
        if m.index == len(ctx.window.months) - 1:
            self._refund(segs, m, groups, book)
        for (acct, prod), base in sorted(by_acct_prod.items()):
            if base <= 0 or prod.startswith("8g1p"):
                continue
            tax = base * 6 // 100
            self._simple(segs, m, acct, "Tax", prod, "Tax for product code " + prod, tax, book,
                         line_item_tax_type="Sales Tax", line_item_usage_type="")
            ctx.add_team_cost("ml-platform", m, tax)

    def _refund(self, segs, m, groups, book):
        """Refund, in the last billing period, of one day's endpoint charge of the month
        before (a service-credit case)."""
        g = next(x for x in groups if x.key == "aws.ep.query-ranker-prod")
        line = g.lines[0]
        prev_start = add_months(m.start, -1)
        n_prev = (m.start - prev_start).days
        prev = Month(m.index - 1, prev_start, m.start, m.day0 - n_prev, n_prev)
        hours = 48.0
        if prev.index >= 0:
            a = compute(g, prev, self.ctx.seed, self.ctx.window.weekday,
                        self.ctx.window.month_of_year, {})
            hours = float(a.qty[0, 4]) or 48.0
        day = np.array([prev.day0 + 4])
        usage = np.array([hours])
        cost = -to_units(usage * line["rate"])
        cols = self._bill(m, 1, g.scope, bill_type="Refund")
        cols.update(self._dates(day))
        cols.update(self._product(line))
        f = units_to_float(cost)
        cols.update(line_item_line_item_type="Refund",
                    line_item_line_item_description=f"Refund for endpoint outage on "
                                                    f"{prev_start.replace(day=5):%Y-%m-%d}",
                    line_item_resource_id=g.ids[0], line_item_usage_amount=-usage,
                    line_item_unblended_rate=rate_str(line["rate"]),
                    line_item_blended_rate=rate_str(line["rate"]),
                    line_item_unblended_cost=f, line_item_blended_cost=f,
                    resource_tags=self._tags(g, np.array([0])), pricing_term="OnDemand")
        segs.add(1, **cols)
        c = int(cost[0])
        book(g.scope, line["product_code"], c, c)
        self.ctx.add_team_cost(g.team, m, c)
