"""AWS Cost and Usage Report 2.0 (Data Exports) Parquet writer: usage lines, fees, taxes,
credits and refunds. The column set is in ``aws_cur2_schema`` (``SCHEMA`` is re-exported
here); Reserved Instance and Savings Plan coverage is in ``aws_commitments``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import company as C
from .activity import Activity, compute, line_usage
from .aws_commitments import CommitmentsMixin
from .aws_cur2_schema import LEGAL, LOCATION, MD, MS, QTY_DP, SCHEMA, iso_ms
from .fmt import code, exact_sum, hex_ids, rate_str, stable_int, to_units, units_to_float
from .groups import Group
from .rows import Segments
from .window import Month, add_months

__all__ = ["SCHEMA", "AwsWriter"]

_ENV = {C.AWS_PAYER_ACCOUNT_ID: "shared", C.AWS_ML_PROD: "prod", C.AWS_SANDBOX: "sandbox",
        C.AWS_DATA: "prod", C.AWS_SHARED: "shared"}
_FLUSH_ROWS = 250_000


class AwsWriter(CommitmentsMixin):
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
                        line_item_normalized_usage_amount=np.round(usage * line["nf"], QTY_DP))
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
                        savings_plan_start_time=iso_ms(sp["start"]),
                        savings_plan_end_time=iso_ms(sp["start"].replace(
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
        self.ctx.record_training_cost(g, f"{line['usage_type']}|{kind}", m, member, day,
                                      effective, usage)
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
                usage = np.round(amount, QTY_DP)
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
        # 40 seats in the last month, 4% fewer each month before it (growth ends at today)
        seats = max(1, int(round(40 * 1.04 ** (m.index - (len(ctx.window.months) - 1)))))
        mp = int(to_units(seats * 100.0))
        self._simple(segs, m, C.AWS_SHARED, "Usage", "8g1p4jkzs6p0w3cdh6vd9atmc",
                     "Weights & Biases Teams - per seat per month", mp, book,
                     entity="AWS Marketplace", line_item_usage_type="SeatsUsage",
                     line_item_usage_amount=float(seats), line_item_unblended_rate=rate_str(100),
                     line_item_blended_rate=rate_str(100),
                     line_item_legal_entity="Weights and Biases, Inc.", pricing_unit="Units",
                     pricing_term="OnDemand",
                     product=pa.scalar([("product_name", "Weights & Biases Platform")], MS))
        # the mart splits the seats by seeds/shared_cost_fixed_shares.csv (the budgets' view)
        for team, share in C.MARKETPLACE_SEAT_SHARES.items():
            ctx.add_team_cost(team, m, mp * share // 100)
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
