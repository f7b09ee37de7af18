"""The report as PDF: WeasyPrint lays out the HTML document (A4, page numbers, the run's
identity in every footer). WeasyPrint needs Debian's pango (``make pdf-libs``)."""

from __future__ import annotations


def html_to_pdf(document: str) -> bytes:
    """PDF bytes of a self-contained HTML document (no external resources are fetched)."""
    import weasyprint  # slow to import: only when a PDF is asked for

    def no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
        raise ValueError(f"the report fetches nothing: {url}")

    return bytes(weasyprint.HTML(string=document, url_fetcher=no_fetch).write_pdf())
