"""Quarterly HTML report and Evidence exports.

* ``render_quarterly_report(con, quarter, out_dir) -> Path``
* ``export_evidence_sources(con, out_dir) -> list[Path]``
"""

from .evidence import export_evidence_sources
from .render import build_context, render_quarterly_report

__all__ = ["build_context", "export_evidence_sources", "render_quarterly_report"]
