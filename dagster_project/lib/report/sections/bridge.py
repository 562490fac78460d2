"""#bridge: forecast -> volume, mix, price, commitment, new/discontinued, unquantified ->
actual, for the total, by team and by team x model (marts.rpt_review_bridge); and #drivers:
the resources and SKUs behind each material variance (marts.fct_variance_drivers)."""

from __future__ import annotations

import duckdb

from .. import charts
from .base import Chart, Column, Section, Table, missing_reason, rows

EFFECTS = [("volume_effect", "Volume"), ("mix_effect", "Mix"), ("price_effect", "Price"),
           ("commitment_effect", "Commitment"),
           ("new_discontinued_effect", "New / discontinued"),
           ("unquantified_effect", "Unquantified")]
BRIDGE = ("marts", "rpt_review_bridge")
BRIDGE_NEEDED = ("quarter", "level", "team", "ml_model", "currency", "forecast_cost",
                 *(e for e, _ in EFFECTS), "actual_cost", "variance_vs_forecast", "is_material")
DRIVERS = ("marts", "fct_variance_drivers")
DRIVERS_NEEDED = ("quarter", "team", "ml_model", "driver_kind", "driver_key", "provider",
                  "service_name", "currency", "actual_cost", "expected_cost", "delta_cost",
                  "share_of_variance", "driver_rank")
TOP_DRIVERS = 5  # per parent variance and kind


def _bridge_columns(first: list[Column]) -> list[Column]:
    return [*first, Column("forecast_cost", "Forecast", "money"),
            *(Column(e, label, "money") for e, label in EFFECTS),
            Column("actual_cost", "Actual", "money"),
            Column("variance_vs_forecast", "Variance", "money"),
            Column("is_material", "Material", "bool")]


def build_bridge(con: duckdb.DuckDBPyConnection, quarter: str) -> Section:
    anchor, title, sources = "bridge", "Variance bridge", [".".join(BRIDGE)]
    why = missing_reason(con, *BRIDGE, needed=BRIDGE_NEEDED)
    if why:
        return Section(anchor, title, sources=sources, unavailable=why)
    data = rows(con, "select * from marts.rpt_review_bridge where quarter = ? "
                "order by level, abs(variance_vs_forecast) desc, team, ml_model", [quarter])
    total = next((r for r in data if r["level"] == "total"), None)
    if total is None:
        return Section(anchor, title, sources=sources,
                       empty=f"marts.rpt_review_bridge has no row for {quarter}.")
    cur = total["currency"]
    steps = [(label, total[e]) for e, label in EFFECTS]
    svg = charts.waterfall([s for s in steps if s[1]], ("Forecast", total["forecast_cost"]),
                           ("Actual", total["actual_cost"]), cur)
    numbers = Table(
        f"{quarter} total bridge: forecast, effects, actual",
        [Column("step", "Step"), Column("amount", "Amount", "money")],
        [{"step": "Forecast", "amount": total["forecast_cost"]},
         *({"step": label, "amount": v} for label, v in steps),
         {"step": "Actual", "amount": total["actual_cost"]}], row_header="step")
    return Section(
        anchor, title, sources=sources,
        intro="Effects add up exactly to actual − forecast; positive = above the forecast.",
        charts=[Chart("Bridge from the locked forecast to the actual", svg, numbers)],
        tables=[
            Table("By team", _bridge_columns([Column("team", "Team")]),
                  [r for r in data if r["level"] == "team"], row_header="team"),
            Table("By team and model", _bridge_columns(
                [Column("team", "Team"), Column("ml_model", "Model")]),
                  [r for r in data if r["level"] == "team_model"], row_header="ml_model"),
        ],
        extra={"currency": cur})


def build_drivers(con: duckdb.DuckDBPyConnection, quarter: str) -> Section:
    anchor, title, sources = "drivers", "Top drivers", [".".join(DRIVERS)]
    why = missing_reason(con, *DRIVERS, needed=DRIVERS_NEEDED)
    if why:
        return Section(anchor, title, sources=sources, unavailable=why)
    data = rows(con, "select * from marts.fct_variance_drivers where quarter = ? "
                "and driver_rank <= ? order by team, ml_model nulls first, driver_kind, "
                "driver_rank", [quarter, TOP_DRIVERS])
    if not data:
        return Section(anchor, title, sources=sources,
                       empty=f"No material variance in {quarter}, so no drivers.")
    cols = [Column("team", "Team"), Column("ml_model", "Model"),
            Column("driver_kind", "Kind"), Column("driver_rank", "Rank", "int"),
            Column("driver_key", "Resource / SKU"), Column("provider", "Provider"),
            Column("service_name", "Service"), Column("expected_cost", "Expected", "money"),
            Column("actual_cost", "Actual", "money"), Column("delta_cost", "Delta", "money"),
            Column("share_of_variance", "Share of variance", "share")]
    return Section(anchor, title, sources=sources,
                   intro=f"The {TOP_DRIVERS} largest resources and SKUs (by absolute delta) "
                   "behind each material variance.",
                   tables=[Table(f"{quarter} drivers of material variances", cols, data,
                                 row_header="driver_key")])
