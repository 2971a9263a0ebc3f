"""Reports as PDF: the HTML report laid out in pages by WeasyPrint.

WeasyPrint draws text with Pango, a system library: where it is missing,
``pdf_unavailable`` says what is, and what installs it, before any work is done.
"""

from __future__ import annotations

PDF_LIBRARIES = "WeasyPrint and its system libraries (Pango 1.44 or later, with HarfBuzz)"
PDF_INSTALL = "apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b"


class PdfUnavailableError(Exception):
    """WeasyPrint cannot be loaded here: the message says what is missing."""


def pdf_unavailable() -> str | None:
    """Why a PDF cannot be written here, or ``None`` when it can."""
    try:
        import weasyprint  # noqa: F401, PLC0415 (loads Pango: only for a PDF)
    except (ImportError, OSError) as error:
        # WeasyPrint raises OSError naming the shared library it could not load.
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return (
            f"a PDF needs {PDF_LIBRARIES}, which could not be loaded ({detail}); "
            f"on Debian or Ubuntu: {PDF_INSTALL}, and pip install weasyprint; "
            "or write HTML instead (-o report.html)"
        )
    return None


def html_to_pdf(html: str) -> bytes:
    """The HTML document laid out as a PDF (A4, as its CSS says); it loads nothing from the
    network, since the document embeds all it shows."""
    missing = pdf_unavailable()
    if missing is not None:
        raise PdfUnavailableError(missing)
    import weasyprint  # noqa: PLC0415 (loads Pango: only for a PDF)

    # No base URL and a fetcher that refuses everything: the report is self-contained.
    pdf: bytes = weasyprint.HTML(string=html, url_fetcher=_refuse).write_pdf()
    return pdf


def _refuse(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    raise ValueError(f"the report loads nothing from outside it (asked for {url})")
