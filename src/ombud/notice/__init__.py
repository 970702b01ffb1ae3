"""The published privacy notice (Art. 13/14) and the record of processing (Art. 30).

Both are rendered from the register alone, so what is published is what is
enforced. The notice comes in HTML, Markdown, PDF and JSON-LD (W3C DPV terms),
in any of the register's languages; the record in CSV, XLSX and JSON.
"""

from __future__ import annotations

from typing import Literal

from ombud.notice.content import NoticeContent, build
from ombud.notice.errors import NoticeError, UnknownFormatError, UnknownLanguageError
from ombud.notice.ropa import RopaFormat, render_ropa
from ombud.register.model import Register

NoticeFormat = Literal["html", "md", "pdf", "json"]
NOTICE_FORMATS: tuple[NoticeFormat, ...] = ("html", "md", "pdf", "json")

__all__ = [
    "NOTICE_FORMATS",
    "NoticeContent",
    "NoticeError",
    "NoticeFormat",
    "RopaFormat",
    "UnknownFormatError",
    "UnknownLanguageError",
    "build",
    "render_notice",
    "render_ropa",
]


def render_notice(
    register: Register,
    *,
    lang: str,
    fmt: NoticeFormat,
    version: str | None = None,
    base_path: str = "",
) -> bytes:
    """The privacy notice in ``lang`` as ``fmt`` bytes (UTF-8 for the text formats).

    ``version`` labels the footer and the JSON (e.g. the register's content hash);
    ``base_path`` prefixes the links into the portal (``{base_path}/privacy/request``).
    Raises :class:`UnknownLanguageError` for a language the register lacks and
    :class:`UnknownFormatError` for an unknown format.
    """
    if fmt not in NOTICE_FORMATS:
        raise UnknownFormatError(fmt, NOTICE_FORMATS)
    content = build(register, lang, version=version, base_path=base_path)
    # Imported per format: WeasyPrint is slow to import and only the PDF needs it.
    if fmt == "json":
        from ombud.notice.jsonld import render_json  # noqa: PLC0415

        return render_json(register, content)
    if fmt == "md":
        from ombud.notice.markdown import render_markdown  # noqa: PLC0415

        return render_markdown(content).encode("utf-8")
    from ombud.notice.html import render_html  # noqa: PLC0415

    page = render_html(content)
    if fmt == "pdf":
        from ombud.notice.pdf import render_pdf  # noqa: PLC0415

        return render_pdf(page)
    return page.encode("utf-8")
