"""#commentary: a sentence per material variance (marts.rpt_review_commentary_facts), each
followed by the table its numbers come from, then the reviewers' notes file."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..commentary import sentence
from ..notes import read_notes
from .base import Section, missing_reason, rows

MART = ("marts", "rpt_review_commentary_facts")
NEEDED = ("quarter", "level", "team", "ml_model", "currency", "variance_vs_forecast",
          "variance_vs_forecast_pct", "direction", "dominant_effect", "dominant_effect_amount",
          "top_driver_key", "top_driver_kind", "top_driver_delta", "top_driver_growth_pct",
          "fact_rank", "source_table")


def build(con: duckdb.DuckDBPyConnection, quarter: str, notes_path: Path) -> Section:
    section = Section("commentary", "Commentary", sources=[".".join(MART)])
    notes = read_notes(notes_path)
    section.extra = {"notes": notes, "notes_path": str(notes_path), "sentences": []}
    why = missing_reason(con, *MART, needed=NEEDED)
    if why:
        # the notes are still shown: a reviewer's text does not depend on the marts
        section.extra["missing"] = why
        return section
    facts = rows(con, "select * from marts.rpt_review_commentary_facts where quarter = ? "
                 "order by fact_rank", [quarter])
    section.extra["sentences"] = [{"text": sentence(f), "source": f["source_table"]}
                                  for f in facts]
    if not facts:
        section.extra["facts_empty"] = f"No material variance in {quarter}."
    return section
