"""The notice as PDF, rendered by WeasyPrint from the same HTML page."""

from __future__ import annotations

from typing import NoReturn


def _refuse(url: str, *_: object, **__: object) -> NoReturn:
    # The page is self-contained; a fetch would mean something injected a resource.
    raise ValueError(f"the notice must not load external resources ({url})")


def render_pdf(html: str) -> bytes:
    """PDF bytes of ``html`` (A4, page numbers, print styles); never touches the network."""
    # Imported here: WeasyPrint takes a second to import and only this format needs it.
    from weasyprint import HTML  # noqa: PLC0415

    document: bytes = HTML(string=html, base_url=None, url_fetcher=_refuse).write_pdf()
    return document
