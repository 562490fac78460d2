"""GCP Cloud Billing detailed (resource-level) usage cost export, as newline-delimited JSON.

Field names, nesting and order follow the BigQuery table
``gcp_billing_export_resource_v1_<BILLING_ACCOUNT_ID>`` (docs.cloud.google.com/billing/docs/
how-to/export-data-bigquery-tables/detailed-usage), written the way ``bq extract`` writes
JSON: timestamps as ``YYYY-MM-DD HH:MM:SS[.ffffff] UTC`` text, repeated records as arrays.
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
from .fmt import MONEY_DP, exact_sum, fixed_str, stable_int, to_units
from .groups import Group
from .window import Month

_QTY_DP = 6
_PROMO_BUDGET = 3000.0
_FREE_CLASS_B_OPS = 50_000
_J = dict(separators=(",", ":"), ensure_ascii=False)


def _dumps(v) -> str:
    return json.dumps(v, **_J)


def _kv(d: dict | None) -> list[dict]:
    return [{"key": k, "value": v} for k, v in (d or {}).items()]


def _project_json(project_id: str) -> str:
    p = C.GCP_PROJECT_BY_ID[project_id]
    return _dumps({
        "id": p.project_id, "number": p.number, "name": p.name, "labels": _kv(dict(p.labels)),
        "ancestry_numbers": f"/{C.GCP_ORGANIZATION[0].split('/')[1]}/"
                            f"{C.GCP_FOLDER[0].split('/')[1]}/",
        "ancestors": [{"resource_name": f"projects/{p.number}", "display_name": p.name},
                      {"resource_name": C.GCP_FOLDER[0], "display_name": C.GCP_FOLDER[1]},
                      {"resource_name": C.GCP_ORGANIZATION[0],
                       "display_name": C.GCP_ORGANIZATION[1]}]})


def _location(g: Group, service_desc: str) -> dict:
    if "zone" in g.p:
        z = g.p["zone"]
        return {"location": z[:-2], "country": "US", "region": z[:-2], "zone": z}
    if service_desc in ("Cloud Storage", "BigQuery"):
        return {"location": "us", "country": "US", "region": None, "zone": None}
    return {"location": "us-central1", "country": "US", "region": "us-central1", "zone": None}


class GcpWriter:
    """Writes one NDJSON file per invoice month."""

    def __init__(self, ctx):
        self.ctx = ctx
        w = ctx.window
        self.base = Path(ctx.out_dir) / "landing" / "gcp" / "billing_export"
        self.table = "gcp_billing_export_resource_v1_" + C.GCP_BILLING_ACCOUNT_ID.replace("-", "_")
        days = np.arange(np.datetime64(w.start, "D"), np.datetime64(w.end, "D") + 1)
        txt = np.datetime_as_string(days, unit="s")
        self._ts = np.char.add(np.char.replace(txt, "T", " "), " UTC")
        exp = np.datetime_as_string(days.astype("datetime64[s]") + np.timedelta64(5 * 3600 + 754,
                                                                                   "s"), unit="s")
        self._export = np.char.add(np.char.replace(exp, "T", " "), ".418000 UTC")
        self.promo_left = int(to_units(_PROMO_BUDGET))
        self.cud = ctx.catalog.commitments["gcp_cud"]
        self.projects = {p.project_id: _project_json(p.project_id) for p in C.GCP_PROJECTS}
        self.member_json: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    # -------------------------------------------------------------- pieces
    def _members(self, g: Group):
        if g.key not in self.member_json:
            labels = np.array([_dumps(_kv(t)) for t in g.tags], dtype=object)
            res = np.array([_dumps({"name": n, "global_name": i}) for n, i in zip(g.names, g.ids,
                                                                                 strict=True)],
                           dtype=object)
            self.member_json[g.key] = (labels, res)
        return self.member_json[g.key]

    def _line_text(self, m: Month, *, service, sku_id, sku_desc, project, labels, sys_labels,
                   location, resource, rate, unit, usage_unit, day, cost_u, list_u, amount_s,
                   apu_s, credits, cost_type="regular", adjustment=None) -> pa.Array:
        i = np.asarray(day, dtype=np.int64)
        price = _dumps({"effective_price": rate, "tier_start_amount": 0, "unit": unit,
                        "pricing_unit_quantity": 1, "list_price": rate,
                        "effective_price_default": rate, "list_price_consumption_model": rate})
        head = (f'{{"billing_account_id":"{C.GCP_BILLING_ACCOUNT_ID}","service":'
                f'{_dumps({"id": service[0], "description": service[1]})},"sku":'
                f'{_dumps({"id": sku_id, "description": sku_desc})},"usage_start_time":"')
        mid1 = f'","project":{self.projects[project]},"labels":'
        mid2 = (f',"system_labels":{sys_labels},"location":{_dumps(location)},"resource":')
        mid3 = (f',"tags":[],"price":{price},"subscription":null,"transaction_type":"GOOGLE",'
                f'"seller_name":"Google","export_time":"')
        cost_s = fixed_str(cost_u, MONEY_DP)
        list_s = fixed_str(list_u, MONEY_DP)
        tail_inv = (f',"invoice":{{"month":"{m.yyyymm}","publisher_type":"GOOGLE"}},'
                    f'"cost_type":"{cost_type}","adjustment_info":{_dumps(adjustment)},'
                    '"cost_at_list":')
        return pc.binary_join_element_wise(
            head, pa.array(self._ts[i]), '","usage_end_time":"', pa.array(self._ts[i + 1]),
            mid1, labels, mid2, resource, mid3, pa.array(self._export[i + 1]), '","cost":',
            cost_s, ',"currency":"USD","currency_conversion_rate":1,"usage":{"amount":', amount_s,
            f',"unit":"{usage_unit}","amount_in_pricing_units":', apu_s,
            f',"pricing_unit":"{unit}"}},"credits":', credits, tail_inv, list_s,
            ',"consumption_model":null,"cost_at_effective_price_default":', cost_s,
            ',"cost_at_list_consumption_model":', list_s, "}", "")

    @staticmethod
    def _credits(units: np.ndarray, name: str, ctype: str, cid: str) -> pa.Array:
        has = units != 0
        amount = fixed_str(units, MONEY_DP)
        one = pc.binary_join_element_wise(
            f'[{{"name":"{name}","amount":', amount,
            f',"full_name":"{name}","id":"{cid}","type":"{ctype}"}}]', "")
        return pc.if_else(pa.array(has), one, "[]")

    # -------------------------------------------------------------- month
    def write_month(self, m: Month, groups: list[Group], acts: dict[str, Activity]) -> int:
        self.base.mkdir(parents=True, exist_ok=True)
        path = self.base / f"{self.table}_{m.yyyymm}.jsonl"
        rows = 0
        billed = 0
        by_project: dict[str, int] = {}
        cud = self.cud
        cud_cap = cud["gpus"] * 24.0
        cud_used = np.zeros(m.n_days)
        cud_rows: list = []  # CUD-credited rows: their share of the fee (the runs' truth)
        free_left = int(to_units(_FREE_CLASS_B_OPS * 0.0000004))  # monthly free tier
        with path.open("w", encoding="utf-8", newline="\n") as f:

            def put(lines: pa.Array) -> None:
                nonlocal rows
                if len(lines):
                    f.write("\n".join(lines.to_pylist()))
                    f.write("\n")
                    rows += len(lines)

            for g in groups:
                a = acts[g.key]
                labels_j, res_j = self._members(g)
                # share of the month each member ran (sustained use discount tier)
                share = a.qty.sum(axis=1) / (24.0 * m.n_days) if a.qty.size else np.zeros(0)
                for line in g.lines:
                    i, member, day, amount = line_usage(a, line, m.n_days)
                    if len(amount) == 0:
                        continue
                    apu = np.round(amount, _QTY_DP)
                    cost = to_units(apu * line["rate"])
                    credit = np.zeros(len(cost), dtype=np.int64)
                    ck = line.get("credit")
                    cname = ctype = cid = ""
                    if ck == "cud":
                        order = np.lexsort((member, day))
                        for k in order:
                            dd = day[k] - m.day0
                            take = min(apu[k], cud_cap - cud_used[dd])
                            if take > 0:
                                cud_used[dd] += take
                                credit[k] = -int(to_units(take * line["rate"]))
                        cname, ctype = "Committed Usage Discount: GPU", "COMMITTED_USAGE_DISCOUNT"
                        cid = f"CommittedUsageDiscount:{cud['name']}"
                    elif ck == "sud":
                        s = share[i]
                        frac = np.clip((s - 0.25) / 0.75, 0.0, 1.0) * 0.3
                        credit = -to_units(cost / 1e10 * frac)
                        cname, ctype = "Sustained Usage Discount", "SUSTAINED_USAGE_DISCOUNT"
                        cid = "SustainedUsageDiscount"
                    elif ck == "promo":
                        for k in range(len(cost)):
                            if self.promo_left <= 0:
                                break
                            c = int(min(cost[k], self.promo_left))
                            credit[k] = -c
                            self.promo_left -= c
                        cname, ctype = "Vertex AI launch promotion", "PROMOTION"
                        cid = f"Promotion:{stable_int('promo') % 10**12}"
                    elif ck == "free_tier":
                        for k in range(len(cost)):
                            if free_left <= 0:
                                break
                            c = int(min(cost[k], free_left))
                            credit[k] = -c
                            free_left -= c
                        cname, ctype, cid = "Free Tier", "FREE_TIER", "FreeTier"
                    elif ck == "discount":
                        credit = -(cost * 5 // 100)
                        cname, ctype, cid = "Spending-based discount", "DISCOUNT", "SpendBased"
                    svc = line["service"]
                    sys_l = "[]"
                    if "machine" in g.p and svc[1] == "Compute Engine":
                        sys_l = _dumps(_kv({"compute.googleapis.com/machine_spec":
                                            g.p["machine"]}))
                    uu = line["usage_unit"]
                    if uu == "seconds":
                        amt = fixed_str(to_units(apu * 3600.0, 3), 3)
                    elif uu in ("byte-seconds", "bytes"):
                        # beyond int64 for large buckets: format the float itself
                        f_ = 2.0**30 * 86400.0 * m.n_days if uu == "byte-seconds" else 2.0**40
                        amt = pa.array([f"{x:.0f}" for x in apu * f_], pa.string())
                    else:
                        amt = fixed_str(to_units(apu, _QTY_DP), _QTY_DP)
                    cred = (self._credits(credit, cname, ctype, cid) if ck
                            else pa.repeat(pa.scalar("[]"), len(cost)))
                    lines = self._line_text(
                        m, service=svc, sku_id=line["sku_id"], sku_desc=line["sku_desc"],
                        project=g.scope, labels=pa.array(labels_j[member], pa.string()),
                        sys_labels=sys_l, location=_location(g, svc[1]),
                        resource=pa.array(res_j[member], pa.string()), rate=line["rate"],
                        unit=line["pricing_unit"], usage_unit=uu, day=day, cost_u=cost,
                        list_u=cost, amount_s=amt, apu_s=fixed_str(to_units(apu, _QTY_DP),
                                                                   _QTY_DP),
                        credits=cred)
                    put(lines)
                    net = exact_sum(cost) + exact_sum(credit)
                    billed += net
                    by_project[g.scope] = by_project.get(g.scope, 0) + net
                    self.ctx.add_team_cost(g.team, m, net)
                    self.ctx.record_training_cost(g, line["sku_desc"], m, member, day,
                                                  cost + credit, apu)
                    if ck == "cud":
                        cud_rows.append((g, line["sku_desc"], member, day, -credit))
            fee = self._cud_fee(m, cud_used, put, by_project)
            billed += fee
            _record_cud_fee(self.ctx, m, cud_rows, fee)
            billed += self._other(m, put, by_project)
        self.ctx.files.append(path)
        self.ctx.ledger_add("gcp", C.GCP_BILLING_ACCOUNT_ID, m, billed, billed)
        return rows

    def _cud_fee(self, m, cud_used, put, by_project) -> int:
        cud = self.cud
        n = m.n_days
        day = np.arange(m.day0, m.day0 + n)
        hours = np.full(n, cud["gpus"] * 24.0)
        cost = to_units(hours * cud["rate"])
        gname = (f"//compute.googleapis.com/projects/{cud['project']}/regions/us-central1/"
                 f"commitments/{cud['name']}")
        desc = "Commitment v1: A100 GPU in Americas for 1 Year"
        lines = self._line_text(
            m, service=("6F81-5844-456A", "Compute Engine"), sku_id="2D1A-A1B0-7C3E",
            sku_desc=desc, project=cud["project"], labels="[]", sys_labels="[]",
            location={"location": "us-central1", "country": "US", "region": "us-central1",
                      "zone": None},
            resource=_dumps({"name": cud["name"], "global_name": gname}), rate=cud["rate"],
            unit="hour", usage_unit="seconds", day=day, cost_u=cost, list_u=cost,
            amount_s=fixed_str(to_units(hours * 3600.0, 3), 3),
            apu_s=fixed_str(to_units(hours, _QTY_DP), _QTY_DP),
            credits=pa.repeat(pa.scalar("[]"), n))
        put(lines)
        total = exact_sum(cost)
        unused_h = float(hours.sum() - cud_used.sum())
        # the whole fee is the team's (the covered usage nets to 0 after its CUD credit)
        self.ctx.add_team_cost("search-ranking", m, total)
        if unused_h > hours.sum() * 0.01:
            self.ctx.add_idle("gcp", gname, "unused_commitment", m.start,
                              m.end - dt.timedelta(days=1))
        by_project[cud["project"]] = by_project.get(cud["project"], 0) + total
        return total

    def _other(self, m: Month, put, by_project) -> int:
        """Month-level tax per project and one manual adjustment."""
        total = 0
        last = m.end - dt.timedelta(days=1)
        di = np.array([(last - self.ctx.window.start).days])
        if m.index == min(1, len(self.ctx.window.months) - 1):
            adj = -int(to_units(250.0))
            lines = self._line_text(
                m, service=("C7E2-9256-1C43", "Vertex AI"), sku_id="8E3C-5D1B-0F77",
                sku_desc="Online Prediction adjustment", project=C.GCP_RECSYS, labels="[]",
                sys_labels="[]", location={"location": "us-central1", "country": "US",
                                           "region": "us-central1", "zone": None},
                resource='{"name":null,"global_name":null}', rate=0.0, unit="hour",
                usage_unit="seconds", day=di, cost_u=np.array([adj]), list_u=np.array([0]),
                amount_s="0", apu_s="0", credits="[]", cost_type="adjustment",
                adjustment={"id": f"adj-{stable_int('adj', m.label) % 10**10}",
                            "description": "Goodwill adjustment for Vertex AI prediction "
                                           "latency incident",
                            "mode": "MANUAL_ADJUSTMENTS", "type": "GENERAL_ADJUSTMENT"})
            put(lines)
            total += adj
            by_project[C.GCP_RECSYS] = by_project.get(C.GCP_RECSYS, 0) + adj
            self.ctx.add_team_cost("recommendations", m, adj)
        for project, base in sorted(by_project.items()):
            if base <= 0:
                continue
            tax = base * 5 // 100
            lines = self._line_text(
                m, service=("", "Invoice"), sku_id="", sku_desc="Tax", project=project,
                labels="[]", sys_labels="[]",
                location={"location": "us", "country": "US", "region": None, "zone": None},
                resource='{"name":null,"global_name":null}', rate=0.0, unit="",
                usage_unit="", day=di, cost_u=np.array([tax]), list_u=np.array([tax]),
                amount_s="0", apu_s="0", credits="[]", cost_type="tax")
            put(lines)
            total += tax
            team = C.GCP_PROJECT_BY_ID[project].default_team
            self.ctx.add_team_cost(team, m, tax)
        return total


def _record_cud_fee(ctx, m: Month, cud_rows: list, fee: int) -> None:
    """The month's CUD fee spread over the covered rows in proportion to their credit, as the
    FOCUS model amortises it (int_focus__gcp): part of those rows' effective cost."""
    total = sum(int(c.sum()) for *_, c in cud_rows)
    if total <= 0:
        return
    for g, sku, member, day, credit in cud_rows:
        share = (credit.astype(object) * fee // total).astype(np.int64)
        ctx.record_training_cost(g, f"{sku}|cud-fee", m, member, day, share,
                                 np.zeros(len(share)))
