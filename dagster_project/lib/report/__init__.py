"""The quarterly review pack (HTML + PDF) and the Evidence exports.

* ``render_review_pack(con, quarter, out_dir, formats=("html",), notes_path=None) -> ReviewPack``
  writes ``out_dir/<quarter>/report.html`` (and ``report.pdf``); docs/review-pack.md.
* ``ReviewRequestError``: a quarter without cost data (exit 66, nothing written).
* ``export_evidence_sources(con, out_dir) -> list[Path]``
"""

from .evidence import export_evidence_sources
from .pack import ReviewPack, ReviewRequestError, render_quarterly_report, render_review_pack

__all__ = ["ReviewPack", "ReviewRequestError", "export_evidence_sources",
           "render_quarterly_report", "render_review_pack"]
