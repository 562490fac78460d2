"""The review pack's PDF: WeasyPrint renders the same HTML (its print CSS: A4, a page break
before each section).

WeasyPrint needs Pango from the operating system. Without it the PDF cannot be made: that
is a missing input of the machine, exit 66 (MISSING_INPUT), with the Debian packages to
install; `make install` installs them when it runs as root (docs/review-pack.md).
"""

from __future__ import annotations

from dagster_project.exit_codes import MISSING_INPUT, ExitError

PANGO_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0"


def pdf_renderer():
    """WeasyPrint's HTML class, or an ExitError saying how to install Pango. Called before
    anything is written, so a missing library leaves no half-made pack."""
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except OSError as exc:  # cffi could not load libpango / libpangoft2
        raise ExitError(
            f"The PDF needs the Pango text library, which this machine lacks ({exc}). On "
            f"Debian/Ubuntu install it with `sudo apt-get install -y {PANGO_PACKAGES}` (`make "
            "install` does it when run as root), or ask for HTML only with --format html.",
            MISSING_INPUT) from None
    return HTML, URLFetcher


def html_to_pdf(html: str, renderer=None) -> bytes:
    HTML, URLFetcher = renderer or pdf_renderer()
    # no base_url and data: URLs only: the pack is self-contained, and a URL in warehouse
    # text must never make the renderer go to the network or the disk
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf()
