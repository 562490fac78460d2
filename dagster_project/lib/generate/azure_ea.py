"""Azure Cost Management cost details export for an EA enrollment (actual and amortized).

Header, column order, UTF-8 BOM, ``MM/DD/YYYY`` dates and brace-less Tags follow
Microsoft's EA cost details export (sample: finops-toolkit ``EA_ActualCost_Small.csv``,
copied in shared/samples/azure/).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import company as C
from .activity import Activity, line_usage
from .fmt import MONEY_DP, csv_quote, exact_sum, fixed_str, to_units
from .groups import Group
from .window import Month

HEADER = (
    "BillingAccountId,BillingAccountName,BillingPeriodStartDate,BillingPeriodEndDate,"
    "BillingProfileId,BillingProfileName,AccountOwnerId,AccountName,SubscriptionId,"
    "SubscriptionName,Date,Product,PartNumber,MeterId,ServiceFamily,MeterCategory,"
    "MeterSubCategory,MeterRegion,MeterName,Quantity,EffectivePrice,Cost,UnitPrice,"
    "BillingCurrency,ResourceLocation,AvailabilityZone,ConsumedService,ResourceId,ResourceName,"
    "ServiceInfo1,ServiceInfo2,AdditionalInfo,Tags,InvoiceSectionId,InvoiceSection,CostCenter,"
    "UnitOfMeasure,ResourceGroup,ReservationId,ReservationName,ProductOrderId,ProductOrderName,"
    "OfferId,IsAzureCreditEligible,Term,PublisherName,PlanName,ChargeType,Frequency,"
    "PublisherType,PayGPrice,PricingModel,CostAllocationRuleName,benefitId,benefitName"
).split(",")
assert len(HEADER) == 55
_QTY_DP = 6
_BOM = "\ufeff"


def tags_text(tags: dict[str, str] | None) -> str:
    """EA exports write Tags as JSON object members without the braces."""
    if not tags:
        return ""
    return ",".join(f'"{k}": "{v}"' for k, v in tags.items())


def _mdY(d: dt.date) -> str:
    return f"{d:%m/%d/%Y}"


def _rate(r: float) -> str:
    return f"{r:.10f}".rstrip("0").rstrip(".")


class AzureWriter:
    """Writes the actual and the amortized export of each month."""

    def __init__(self, ctx):
        self.ctx = ctx
        w = ctx.window
        self.base = Path(ctx.out_dir) / "landing" / "azure"
        days = np.arange(np.datetime64(w.start, "D"), np.datetime64(w.end, "D"))
        self._dates = np.array([f"{x.astype(dt.date):%m/%d/%Y}" for x in days], dtype=object)
        self.ri = ctx.catalog.commitments["azure_ri"]
        ri = self.ri
        self.ri_path = (f"/providers/microsoft.capacity/reservationorders/{ri['order']}/"
                        f"reservations/{ri['rid']}")
        self.member_cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _members(self, g: Group):
        if g.key not in self.member_cache:
            self.member_cache[g.key] = (
                np.array(g.ids, dtype=object), np.array(g.names, dtype=object),
                np.array([csv_quote(tags_text(t)) for t in g.tags], dtype=object))
        return self.member_cache[g.key]

    def _fields(self, m: Month, sub: C.AzureSubscription, line: dict, **v) -> list:
        """The 55 fields, static ones as text and per-row ones as Arrow arrays."""
        ai = v.get("additional_info", line.get("additional_info"))
        return [
            C.AZURE_BILLING_ACCOUNT_ID, csv_quote(C.AZURE_BILLING_ACCOUNT_NAME), _mdY(m.start),
            _mdY(m.end - dt.timedelta(days=1)), C.AZURE_BILLING_ACCOUNT_ID,
            csv_quote(C.AZURE_BILLING_ACCOUNT_NAME), C.AZURE_ACCOUNT_OWNER,
            C.AZURE_ENROLLMENT_ACCOUNT_NAME, sub.subscription_id, sub.name, v["date"],
            csv_quote(line["product"]), line["part_number"], line["meter_id"],
            line["service_family"], line["meter_category"], line["meter_sub"], "US East",
            csv_quote(line["meter_name"]), v["quantity"], v["effective_price"], v["cost"],
            v["unit_price"], C.CURRENCY, "eastus", "", v.get("consumed_service",
                                                            line["consumed_service"]),
            v["resource_id"], v["resource_name"], "", "",
            csv_quote(json.dumps(ai, separators=(",", ":"))) if ai else "", v["tags"], "",
            C.AZURE_ENROLLMENT_ACCOUNT_NAME, C.AZURE_COST_CENTER, line["unit"],
            v.get("resource_group", ""), v.get("reservation_id", ""),
            v.get("reservation_name", ""), v.get("order_id", ""), v.get("order_name", ""),
            C.AZURE_OFFER_ID, "True", v.get("term", ""), "Microsoft", line.get("plan_name", ""),
            v.get("charge_type", "Usage"), v.get("frequency", "UsageBased"), "Azure",
            v["payg_price"], v.get("pricing_model", line["pricing_model"]), "",
            v.get("benefit_id", ""), v.get("benefit_name", ""),
        ]

    @staticmethod
    def _join(fields: list) -> pa.Array:
        return pc.binary_join_element_wise(*fields, ",")

    def _ri_fields(self, covered: bool = True) -> dict:
        ri = self.ri
        return dict(reservation_id=ri["rid"], reservation_name=ri["name"],
                    order_id=ri["order"],
                    order_name=csv_quote(f"Reserved VM Instance, Standard_{ri['size']}, US East, "
                                         "1 Year"),
                    term="12", benefit_id=self.ri_path, benefit_name=ri["name"],
                    pricing_model="Reservation")

    # -------------------------------------------------------------- month
    def write_month(self, m: Month, groups: list[Group], acts: dict[str, Activity]) -> int:
        folder = f"{m.start:%Y%m%d}-{(m.end - dt.timedelta(days=1)):%Y%m%d}"
        paths = {k: self.base / name / folder / "part_0_0001.csv" for k, name in
                 (("actual", C.AZURE_EXPORT_ACTUAL), ("amortized", C.AZURE_EXPORT_AMORTIZED))}
        for p in paths.values():
            p.parent.mkdir(parents=True, exist_ok=True)
        fh = {k: p.open("w", encoding="utf-8", newline="") for k, p in paths.items()}
        for f in fh.values():
            f.write(_BOM + ",".join(HEADER) + "\n")
        totals = {"actual": 0, "amortized": 0}
        rows = 0
        ri = self.ri
        cap = ri["units"] * 24.0
        used = np.zeros(m.n_days)

        def put(kind: str, lines: pa.Array, cost_units: int) -> None:
            nonlocal rows
            if len(lines):
                fh[kind].write("\n".join(lines.to_pylist()))
                fh[kind].write("\n")
                rows += len(lines)
            totals[kind] += cost_units

        for g in groups:
            a = acts[g.key]
            sub = C.AZURE_SUB_BY_NAME[g.scope]
            rids, rnames, rtags = self._members(g)
            for line in g.lines:
                i, member, day, amount = line_usage(a, line, m.n_days)
                if len(amount) == 0:
                    continue
                qty = np.round(amount, _QTY_DP)
                cov = np.zeros(len(qty))
                if line.get("ri"):
                    for k in np.lexsort((member, day)):
                        dd = day[k] - m.day0
                        take = round(min(qty[k], cap - used[dd]), _QTY_DP)
                        if take > 0:
                            cov[k] = take
                            used[dd] += take
                od = np.round(qty - cov, _QTY_DP)
                base = dict(resource_group=g.p.get("resource_group", ""))
                rate = _rate(line["rate"])
                for part, q_part in (("od", od), ("ri", cov)):
                    sel = q_part > 0
                    if not sel.any():
                        continue
                    mm, dd, qq = member[sel], day[sel], q_part[sel]
                    common = dict(base, date=pa.array(self._dates[dd], pa.string()),
                                  quantity=fixed_str(to_units(qq, _QTY_DP), _QTY_DP),
                                  unit_price=rate, payg_price=rate,
                                  resource_id=pa.array(rids[mm], pa.string()),
                                  resource_name=pa.array(rnames[mm], pa.string()),
                                  tags=pa.array(rtags[mm], pa.string()))
                    if part == "od":
                        cost = to_units(qq * line["rate"])
                        cs = fixed_str(cost, MONEY_DP)
                        text = self._join(self._fields(m, sub, line, cost=cs,
                                                       effective_price=rate, **common))
                        c = exact_sum(cost)
                        put("actual", text, c)
                        put("amortized", text, c)
                        self.ctx.add_team_cost(g.team, m, c)
                        self.ctx.record_training_cost(g, f"{line['meter_name']}|od", m, mm, dd,
                                                      cost, qq)
                    else:
                        ai = dict(line["additional_info"], ReservationOrderId=ri["order"],
                                  ReservationId=ri["rid"], ConsumptionMeter=line["meter_id"],
                                  RINormalizationRatio=1.0)
                        zero = np.zeros(len(qq), dtype=np.int64)
                        text = self._join(self._fields(
                            m, sub, line, cost=fixed_str(zero), effective_price="0",
                            additional_info=ai, **common, **self._ri_fields()))
                        put("actual", text, 0)
                        cost = to_units(qq * ri["hourly"])
                        text = self._join(self._fields(
                            m, sub, line, cost=fixed_str(cost, MONEY_DP),
                            effective_price=_rate(ri["hourly"]), additional_info=ai, **common,
                            **self._ri_fields()))
                        c = exact_sum(cost)
                        put("amortized", text, c)
                        self.ctx.add_team_cost(g.team, m, c)
                        self.ctx.record_training_cost(g, f"{line['meter_name']}|ri", m, mm, dd,
                                                      cost, qq)
        self._reservation(m, groups, used, put)
        for f in fh.values():
            f.close()
        self.ctx.files.extend(paths.values())
        self.ctx.ledger_add("azure", C.AZURE_BILLING_ACCOUNT_ID, m, totals["actual"],
                            totals["amortized"])
        return rows

    def _reservation(self, m: Month, groups, used, put) -> None:
        ri = self.ri
        sub = C.AZURE_SUB_BY_NAME[ri["subscription"]]
        line = next(ln for g in groups for ln in g.lines if ln.get("ri"))
        hourly = _rate(ri["hourly"])
        monthly = int(to_units(ri["units"] * 24.0 * m.n_days * ri["hourly"]))
        common = dict(resource_id=self.ri_path, resource_name="", tags="",
                      consumed_service="Microsoft.Capacity", **self._ri_fields())
        ms = fixed_str(np.array([monthly]), MONEY_DP)
        text = self._join(self._fields(
            m, sub, line, date=pa.array([_mdY(m.start)]), quantity="1", effective_price=ms,
            cost=ms, unit_price=ms, payg_price="0", charge_type="Purchase", frequency="Recurring",
            additional_info={}, **common))
        put("actual", text, monthly)
        unused = np.round(ri["units"] * 24.0 - used, _QTY_DP)
        sel = unused > 0
        if sel.any():
            dd = np.arange(m.day0, m.day0 + m.n_days)[sel]
            cost = to_units(unused[sel] * ri["hourly"])
            text = self._join(self._fields(
                m, sub, line, date=pa.array(self._dates[dd], pa.string()),
                quantity=fixed_str(to_units(unused[sel], _QTY_DP), _QTY_DP),
                effective_price=hourly, cost=fixed_str(cost, MONEY_DP),
                unit_price=_rate(line["rate"]), payg_price=_rate(line["rate"]),
                charge_type="UnusedReservation", additional_info={}, **common))
            c = exact_sum(cost)
            put("amortized", text, c)
            self.ctx.add_team_cost("fraud-detection", m, c)
            if float(unused.sum()) > ri["units"] * 24.0 * m.n_days * 0.01:
                self.ctx.add_idle("azure", self.ri_path, "unused_commitment", m.start,
                                  m.end - dt.timedelta(days=1))
