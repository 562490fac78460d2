"""The quarterly review pack (HTML + PDF) and the Evidence exports.

* ``render_review_pack(con, quarter, out_dir, formats=("html",), notes_path=None) -> ReviewPack``
  writes ``out_dir/<quarter>/report.html`` (and ``report.pdf``); docs/review-pack.md.
* ``ReviewRequestError``: a quarter without cost data (exit 66, nothing written).
* ``export_evidence_sources(con, out_dir) -> list[Path]``
"""

from importlib import import_module

# Loaded on first use: the renderer pulls in Altair, vl-convert and WeasyPrint (≈ 1 s), and
# every `mlcost` command imports this package to build its parser.
_EXPORTS = {"export_evidence_sources": ".evidence", "ReviewPack": ".pack",
            "ReviewRequestError": ".pack", "render_quarterly_report": ".pack",
            "render_review_pack": ".pack"}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ReviewPack", "ReviewRequestError", "export_evidence_sources",
           "render_quarterly_report", "render_review_pack"]
