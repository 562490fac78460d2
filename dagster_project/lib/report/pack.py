"""`render_review_pack`: the quarterly review pack, `out_dir/<quarter>/report.html` (+ .pdf).

Checks the request before writing anything: a malformed quarter is a usage error (64), a
quarter without cost data in marts.dim_calendar is `ReviewRequestError` (66). Each file is
written to a temporary name beside it and renamed into place (os.replace), so a reader never
sees half a file; the PDF is made in memory before either file is written.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from dagster_project.exit_codes import MISSING_INPUT, USAGE, ExitError
from dagster_project.lib.calendar import parse_quarter

from .formatting import month_label
from .notes import notes_location
from .pdf import html_to_pdf, pdf_renderer
from .render import quarter_calendar, render_html, unavailable

FORMATS = ("html", "pdf")
QUARTER_RE = r"\d{4}Q[1-4]"


class ReviewRequestError(ExitError):
    """A review pack that cannot be made from this warehouse (no cost data for the quarter)."""

    def __init__(self, message: str, code: int = MISSING_INPUT) -> None:
        super().__init__(message, code)


@dataclass
class ReviewPack:
    quarter: str
    paths: dict[str, Path] = field(default_factory=dict)
    preliminary: bool = False
    months_with_data: int = 0
    data_through: date | None = None
    unavailable: list[tuple[str, str]] = field(default_factory=list)
    months_in_quarter: int = 3

    @property
    def banner(self) -> str | None:
        """The preliminary banner's text (None for a complete quarter)."""
        if not self.preliminary:
            return None
        return (f"Preliminary: {self.months_with_data} of {self.months_in_quarter} months, "
                f"data through {month_label(self.data_through)}")


def check_quarter(quarter: str) -> tuple[date, date, date]:
    if not isinstance(quarter, str) or not re.fullmatch(QUARTER_RE, quarter):
        raise ExitError(f"--quarter {quarter!r}: expected YYYYQn (a year and a quarter 1-4), "
                        "e.g. 2026Q3.", USAGE)
    return parse_quarter(quarter)


def render_review_pack(con: duckdb.DuckDBPyConnection, quarter: str, out_dir: Path | str,
                       formats: tuple[str, ...] = ("html",),
                       notes_path: Path | str | None = None) -> ReviewPack:
    """Write the quarter's review pack and return what was written (docs/review-pack.md)."""
    months = check_quarter(quarter)
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ExitError(f"format {bad or formats!r}: expected html and/or pdf.", USAGE)
    renderer = pdf_renderer() if "pdf" in formats else None  # fail before writing anything
    cal = quarter_calendar(con, quarter)
    if not cal["months_with_data"]:
        span = (f"the warehouse has cost data from {month_label(cal['first_month'])} to "
                f"{month_label(cal['last_month'])}" if cal["last_month"] else
                "the warehouse has no cost data yet (marts.dim_calendar is missing or empty; "
                "run `mlcost run`)")
        raise ReviewRequestError(
            f"No review pack for {quarter}: there is no cost data for any of its months "
            f"({month_label(months[0])} – {month_label(months[-1])}); {span}. Pick a quarter "
            "inside that range. Nothing was written.")
    html, sections = render_html(con, quarter, months, cal,
                                 notes_location(quarter, notes_path))
    pdf = html_to_pdf(html, renderer) if renderer else None
    folder = Path(out_dir) / quarter
    folder.mkdir(parents=True, exist_ok=True)
    pack = ReviewPack(quarter, preliminary=not cal["is_complete"],
                      months_with_data=int(cal["months_with_data"]),
                      data_through=cal["data_through"], unavailable=unavailable(sections),
                      months_in_quarter=len(months))
    if "html" in formats:
        pack.paths["html"] = _write(folder / "report.html", html.encode("utf-8"))
    if pdf is not None:
        pack.paths["pdf"] = _write(folder / "report.pdf", pdf)
    return pack


def _write(path: Path, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp makes the file private (0600); a report is for its readers (umask applies).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def render_quarterly_report(con: duckdb.DuckDBPyConnection, quarter: str,
                            out_dir: Path | str) -> Path:
    """The HTML of the review pack (the name the Dagster asset used before the pack)."""
    return render_review_pack(con, quarter, out_dir, formats=("html",)).paths["html"]


def quarters_to_review(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The last complete quarter and, when the data runs past it, the running (preliminary)
    one: what `mlcost run` and `mlcost demo` render (marts.dim_calendar)."""
    from dagster_project.lib.warehouse import table_exists

    if not table_exists(con, "marts", "dim_calendar"):
        return []
    complete, latest = con.execute(
        "select max(quarter) filter (where is_quarter_complete), "
        "max(quarter) filter (where has_cost_data) from marts.dim_calendar").fetchall()[0]
    return [q for q in dict.fromkeys((complete, latest)) if q]


def render_after_run(warehouse: Path, out_dir: Path, say=print,
                     formats: tuple[str, ...] = ("html",)) -> list[ReviewPack]:
    """The packs after `mlcost run` (HTML) / `mlcost demo` (HTML and PDF). A pack that cannot
    be made is reported in one line and does not fail the run: the data is published."""
    from dagster_project.lib.warehouse import connection

    packs = []
    try:
        with connection(warehouse, read_only=True) as con:
            for quarter in quarters_to_review(con):
                packs.append(render_review_pack(con, quarter, out_dir, formats=formats))
    except Exception as exc:  # noqa: BLE001 - the run's data is published; say why, go on
        say(f"mlcost: review pack not written ({type(exc).__name__}: {exc}); retry with "
            "`mlcost report --quarter YYYYQn`.")
    for pack in packs:
        say(f"Review pack {pack.quarter}: {', '.join(str(p) for p in pack.paths.values())}"
            + (f" ({pack.banner})" if pack.banner else ""))
    return packs
