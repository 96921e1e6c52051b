"""HTML to PDF with WeasyPrint, for the Marac referral. Imported only when a PDF is asked for, so the
demo and the CLI never load it; without its Debian libraries the workspace says so in one line.

WeasyPrint fetches nothing: every URL (image, stylesheet, font) is refused, the styles come inline and
the fonts from the system's fontconfig (Debian's fonts-dejavu-core).
"""

from __future__ import annotations

from typing import Any

MISSING = (
    "PDF export needs the Debian packages libpango-1.0-0 and libpangoft2-1.0-0: "
    "install them with `sh .ci/debian-packages`."
)


class PdfUnavailable(Exception):
    """WeasyPrint or the system libraries it loads are missing."""


def html_to_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML document (blocking: run it off the event loop)."""
    try:
        import weasyprint
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError):  # OSError: cffi could not load Pango
        raise PdfUnavailable(MISSING) from None

    class Refuse(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError("Safecheck's PDFs fetch nothing")

    pdf = weasyprint.HTML(string=html, url_fetcher=Refuse()).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
