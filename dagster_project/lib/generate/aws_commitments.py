"""Reserved Instance and Savings Plan coverage of the AWS CUR 2.0 writer: which on-demand EC2
usage the RI and the Compute Savings Plan cover, day by day, and the monthly RI fee, RI
purchase fee and Savings Plan recurring fee lines with their unused parts.

``AwsWriter`` (``aws_cur2``) mixes this in; the methods use its ``_emit``, ``_bill``,
``_dates`` and ``_month_dates`` helpers, ``ctx`` and the ``ri``/``sp`` commitments.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from . import company as C
from .aws_cur2_schema import LOCATION, MS, QTY_DP, iso_ms
from .fmt import exact_sum, rate_str, stable_int, to_units, units_to_float


class CommitmentsMixin:
    """RI first, then the Savings Plan, then on demand; fee lines per billing period."""

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
            if line["instance_type"] == ri["itype"] and g.scope == ri["account"] and \
                    m.start >= ri["start"].date():
                for k in range(len(usage)):
                    dd = day[k] - m.day0
                    take = min(usage[k], cap_h - ri_used[dd])
                    if take > 0:
                        cov[k] = round(take, QTY_DP)
                        ri_used[dd] += cov[k]
            if cov.any():
                sel = cov > 0
                b, e = self._emit(segs, m, g, line, member[sel], day[sel], cov[sel], "ri")
                book(g.scope, line["product_code"], b, e)
            rest.append((gi, line, member, day, np.round(usage - cov, QTY_DP)))
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
            od = np.round(usage - cov, QTY_DP)
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
            savings_plan_start_time=iso_ms(sp["start"]),
            savings_plan_end_time=iso_ms(sp["start"].replace(year=sp["start"].year + sp["years"])),
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
        if m.start < ri["start"].date():  # not bought yet: no fee
            return
        hours = ri["units"] * 24.0 * m.n_days
        used = float(np.round(ri_used.sum(), QTY_DP))
        unused = round(hours - used, QTY_DP)
        recurring = int(to_units(hours * ri["recurring_hourly"]))
        amort = int(to_units(hours * ri["upfront_hourly"]))
        un_amort = int(to_units(unused * ri["upfront_hourly"]))
        un_recur = int(to_units(unused * ri["recurring_hourly"]))
        nf = 16.0
        start = ri["start"]
        end = start.replace(year=start.year + ri["years"])
        upfront_value = round(ri["units"] * ri["upfront_hourly"] * 8760 * ri["years"], 2)
        common = dict(
            reservation_reservation_a_r_n=ri["arn"], reservation_start_time=iso_ms(start),
            reservation_end_time=iso_ms(end), reservation_modification_status="Original",
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
            reservation_unused_normalized_unit_quantity=round(unused * nf, QTY_DP),
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
