"""Score attribution and idle-waste detection against the demo generator's planted truth.

The demo generator writes ``ground_truth/resources.csv`` (provider, resource_id, team,
ml_model, workload, ...) and ``ground_truth/idle_periods.csv`` (provider, resource_id,
waste_type, idle_start, idle_end). These functions compare the published marts with them:

* :func:`score_attribution` - cost-weighted accuracy of team / ml_model / workload over the
  allocation rows whose resource the truth knows, per provider and overall.
* :func:`score_waste` - precision and recall of the detected (resource, waste type) pairs
  per waste type, plus the share of planted idle days that were found.

Both only read: they take an open DuckDB connection (read-only is fine) and bind the truth
file paths as parameters.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb

WASTE_TYPES = (
    "idle_endpoint",
    "idle_notebook",
    "low_gpu_utilization",
    "unused_commitment",
    "orphaned_storage",
)

# Allocation rows joined to the truth by resource. Commitment fees and unused-commitment rows
# of AWS reservations carry the commitment only in CommitmentDiscountId, hence the fallback.
# Weights are absolute effective cost so credits count as much as charges.
_ATTRIBUTION_SQL = """
with truth as (
    select provider, resource_id, team, ml_model, workload
    from read_csv(?, header = true, all_varchar = true)
),

allocations as (
    select
        provider,
        coalesce(resource_id, commitment_discount_id) as resource_key,
        team,
        ml_model,
        workload,
        abs(effective_cost) as weight
    from marts.fct_cost_allocations
),

joined as (
    select
        a.provider,
        a.weight,
        t.resource_id is not null as has_truth,
        a.team = t.team as is_team_correct,
        a.ml_model = t.ml_model as is_model_correct,
        a.workload = t.workload as is_workload_correct,
        a.team = 'unallocated' as is_unallocated
    from allocations as a
    left join truth as t
        on a.provider = t.provider
        and a.resource_key = t.resource_id
)

select
    coalesce(provider, 'all') as provider,
    sum(weight) as total_cost,
    sum(weight) filter (where has_truth) as scored_cost,
    sum(weight) filter (where has_truth and is_team_correct) as team_correct_cost,
    sum(weight) filter (where has_truth and is_model_correct) as model_correct_cost,
    sum(weight) filter (where has_truth and is_workload_correct) as workload_correct_cost,
    sum(weight) filter (where is_unallocated) as unallocated_cost
from joined
group by grouping sets ((provider), ())
order by provider
"""

_WASTE_SQL = """
with truth as (
    select
        provider,
        resource_id,
        waste_type,
        cast(idle_start as date) as idle_start,
        cast(idle_end as date) as idle_end
    from read_csv(?, header = true, all_varchar = true)
),

detected as (
    select provider, resource_id, waste_type, period_start, period_end
    from marts.fct_idle_waste
),

truth_pairs as (
    select distinct provider, resource_id, waste_type from truth
),

detected_pairs as (
    select distinct provider, resource_id, waste_type from detected
),

pairs as (
    select
        coalesce(t.waste_type, d.waste_type) as waste_type,
        coalesce(t.provider, d.provider) as provider,
        coalesce(t.resource_id, d.resource_id) as resource_id,
        t.resource_id is not null as is_planted,
        d.resource_id is not null as is_detected
    from truth_pairs as t
    full outer join detected_pairs as d
        on t.provider = d.provider
        and t.resource_id = d.resource_id
        and t.waste_type = d.waste_type
),

truth_days as (
    select distinct t.provider, t.resource_id, t.waste_type, cast(g.day as date) as day
    from truth as t,
        lateral (select unnest(generate_series(t.idle_start, t.idle_end, interval 1 day)) as day)
            as g
),

detected_days as (
    select distinct d.provider, d.resource_id, d.waste_type, cast(g.day as date) as day
    from detected as d,
        lateral (select unnest(generate_series(d.period_start, d.period_end, interval 1 day))
            as day) as g
),

day_overlap as (
    select
        t.waste_type,
        count(*) as planted_days,
        count(d.day) as found_days
    from truth_days as t
    left join detected_days as d
        on t.provider = d.provider
        and t.resource_id = d.resource_id
        and t.waste_type = d.waste_type
        and t.day = d.day
    group by t.waste_type
)

select
    p.waste_type,
    p.provider,
    p.resource_id,
    p.is_planted,
    p.is_detected,
    o.planted_days,
    o.found_days
from pairs as p
left join day_overlap as o on p.waste_type = o.waste_type
order by p.waste_type, p.provider, p.resource_id
"""


def _ratio(num: Decimal | int | None, den: Decimal | int | None) -> float | None:
    if not den:
        return None
    return float(Decimal(num or 0) / Decimal(den))


def score_attribution(con: duckdb.DuckDBPyConnection, ground_truth_dir: str | Path) -> dict:
    """Cost-weighted accuracy of team, ml_model and workload against ``resources.csv``.

    Returns ``{"overall": {...}, "by_provider": {provider: {...}}}`` where each entry has
    ``team_accuracy``, ``ml_model_accuracy``, ``workload_accuracy`` (shares of the scored
    cost attributed to the true value), ``scored_share`` (share of all cost whose resource
    the truth knows: tax, support and other resource-less rows are not scored) and
    ``unallocated_share`` (of all cost). Costs are absolute effective cost.
    """
    path = Path(ground_truth_dir) / "resources.csv"
    rows = con.execute(_ATTRIBUTION_SQL, [str(path)]).fetchall()
    result: dict = {"overall": {}, "by_provider": {}}
    for provider, total, scored, team_ok, model_ok, workload_ok, unallocated in rows:
        entry = {
            "total_cost": total,
            "scored_cost": scored,
            "scored_share": _ratio(scored, total),
            "team_accuracy": _ratio(team_ok, scored),
            "ml_model_accuracy": _ratio(model_ok, scored),
            "workload_accuracy": _ratio(workload_ok, scored),
            "unallocated_share": _ratio(unallocated, total),
        }
        if provider == "all":
            result["overall"] = entry
        else:
            result["by_provider"][provider] = entry
    return result


def score_waste(con: duckdb.DuckDBPyConnection, ground_truth_dir: str | Path) -> dict:
    """Precision and recall of detected idle resources against ``idle_periods.csv``.

    A detection is a (provider, resource_id, waste_type) with at least one row in
    ``marts.fct_idle_waste``; it is a true positive when the truth plants that waste type on
    that resource. Returns ``{"by_type": {waste_type: {...}}, "overall": {...}}``; each entry
    has ``true_positives``, ``false_positives``, ``false_negatives``, ``precision``,
    ``recall``, ``day_recall`` (share of planted idle days inside a detected period) and
    the ``missed`` / ``unexpected`` resource ids.
    """
    path = Path(ground_truth_dir) / "idle_periods.csv"
    rows = con.execute(_WASTE_SQL, [str(path)]).fetchall()
    by_type: dict[str, dict] = {
        w: {"true_positives": 0, "false_positives": 0, "false_negatives": 0, "missed": [],
            "unexpected": [], "planted_days": 0, "found_days": 0}
        for w in WASTE_TYPES
    }
    for waste_type, provider, resource_id, planted, detected, p_days, f_days in rows:
        e = by_type.setdefault(waste_type, {"true_positives": 0, "false_positives": 0,
                                            "false_negatives": 0, "missed": [],
                                            "unexpected": [], "planted_days": 0,
                                            "found_days": 0})
        e["planted_days"], e["found_days"] = p_days or 0, f_days or 0
        if planted and detected:
            e["true_positives"] += 1
        elif detected:
            e["false_positives"] += 1
            e["unexpected"].append(f"{provider}:{resource_id}")
        else:
            e["false_negatives"] += 1
            e["missed"].append(f"{provider}:{resource_id}")
    totals = {"true_positives": 0, "false_positives": 0, "false_negatives": 0,
              "planted_days": 0, "found_days": 0}
    for e in by_type.values():
        for k in totals:
            totals[k] += e[k]
        _finish(e)
    _finish(totals)
    return {"by_type": by_type, "overall": totals}


def _finish(e: dict) -> None:
    tp, fp, fn = e["true_positives"], e["false_positives"], e["false_negatives"]
    e["precision"] = _ratio(tp, tp + fp)
    e["recall"] = _ratio(tp, tp + fn)
    e["day_recall"] = _ratio(e["found_days"], e["planted_days"])
