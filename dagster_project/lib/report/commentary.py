"""One deterministic sentence per row of marts.rpt_review_commentary_facts.

Every number in a sentence is a column of that row (the row names its own `source_table`),
so a reviewer can trace it; the same row always gives the same sentence. Example:
"recommendations +$12.3k (+8.0%) over forecast, mostly volume: recsys-two-tower grew 14.0%".
"""

from __future__ import annotations

from typing import Any

from .formatting import compact_money, pct

EFFECT_WORDS = {
    "volume_effect": "volume", "mix_effect": "mix", "price_effect": "price",
    "commitment_effect": "commitment coverage", "new_discontinued_effect":
    "new or discontinued items", "unquantified_effect": "unquantified changes",
}


def subject(fact: dict[str, Any]) -> str:
    if fact["level"] == "total":
        return "Total"
    if fact["level"] == "team_model" and fact.get("ml_model"):
        return f"{fact['team']} / {fact['ml_model']}"
    return str(fact["team"])


def sentence(fact: dict[str, Any]) -> str:
    cur = fact.get("currency")
    amount = compact_money(fact["variance_vs_forecast"], cur, signed=True)
    share = pct(fact.get("variance_vs_forecast_pct"))
    direction = "over" if fact.get("direction") == "over" else "under"
    text = f"{subject(fact)} {amount} ({share}) {direction} forecast"
    effect = fact.get("dominant_effect")
    if effect:
        word = EFFECT_WORDS.get(effect, str(effect).removesuffix("_effect").replace("_", " "))
        text += f", mostly {word}"
        if fact.get("dominant_effect_amount") is not None:
            text += f" ({compact_money(fact['dominant_effect_amount'], cur, signed=True)})"
    key = fact.get("top_driver_key")
    if key:
        kind = fact.get("top_driver_kind") or "driver"
        growth = fact.get("top_driver_growth_pct")
        if growth is not None:
            verb = "grew" if growth > 0 else "fell" if growth < 0 else "held at"
            text += f": {kind} {key} {verb} {pct(abs(growth), signed=False)}"
        elif fact.get("top_driver_delta") is not None:
            text += (f": {kind} {key} "
                     f"{compact_money(fact['top_driver_delta'], cur, signed=True)} (new)")
    return text + "."
