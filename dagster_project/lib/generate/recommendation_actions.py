"""The demo's reviewed recommendation actions file (docs/recommendations.md): the A/B arm
endpoint deleted the day after its last billed day (done, so its realised saving is measurable
from the costs after that date) and the forgotten canary endpoint accepted for deletion."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from .catalog import Catalog
from .window import Window

HEADER = "recommendation_id,status,date,note,reviewer\n"


def recommendation_id(recommendation_type: str, provider: str, key: str) -> str:
    """The id fct_recommendations gives a recommendation: md5 of `type|provider|key` (the dbt
    macro recommendation_id, macros/recommendations.sql)."""
    return hashlib.md5(f"{recommendation_type}|{provider}|{key}".encode()).hexdigest()


def action_lines(catalog: Catalog, window: Window) -> list[str]:
    """The actions file's data lines (without the header)."""
    groups = {g.key: g for g in catalog.groups}
    lines = []
    ab = groups.get("aws.ep.recsys-ab-test-b")
    if ab is not None and int(ab.end[0]) < len(window.days) - 1:
        deleted = window.date(int(ab.end[0])) + dt.timedelta(days=1)
        rid = recommendation_id("idle_endpoint", ab.provider, ab.ids[0])
        lines.append(f"{rid},done,{deleted:%Y-%m-%d},A/B arm B endpoint deleted,"
                     "search-platform-lead\n")
    canary = groups.get("aws.ep.query-ranker-canary")
    if canary is not None:
        reviewed = window.months[-1].start
        rid = recommendation_id("idle_endpoint", canary.provider, canary.ids[0])
        lines.append(f"{rid},accepted,{reviewed:%Y-%m-%d},delete after the owner confirms,"
                     "search-platform-lead\n")
    return lines


def write_actions_file(out_dir: Path, catalog: Catalog, window: Window) -> Path:
    """Write `landing/actions/recommendation_actions.csv`; returns its path."""
    path = Path(out_dir) / "landing" / "actions" / "recommendation_actions.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        f.writelines(action_lines(catalog, window))
    return path
