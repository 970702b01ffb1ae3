"""The PDF notice, read back with pdftotext (Debian package poppler-utils)."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ombud.notice import render_notice
from ombud.register import Register


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext is missing: install poppler-utils (make system does)")
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [tool, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def squash(text: str) -> str:
    """Without whitespace and hyphens: table cells wrap names over lines."""
    return re.sub(r"[\s\u00ad-]", "", text)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_almi_pdf_has_the_activities_and_dates(almi: Register, lang: str, tmp_path: Path) -> None:
    pdf = render_notice(almi, lang=lang, fmt="pdf", version="f" * 64)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path)
    assert "2024-07-02" in text
    assert "2024-07-05" in text
    squashed = squash(text)
    missing = [
        a.name.get(lang) for a in almi.activities if squash(a.name.get(lang)) not in squashed
    ]
    assert not missing
    assert "dataskyddsombud@almi.se" in text
    assert squash(almi.notice.history[0].text.get(lang)) in squashed


def test_pdf_has_page_numbers(acme: Register, tmp_path: Path) -> None:
    text = pdf_text(render_notice(acme, lang="en", fmt="pdf"), tmp_path)
    pages = text.count("\f")
    assert pages >= 2
    assert re.search(rf"\b1 ?/ ?{pages}\b", text)
    assert re.search(rf"\b{pages} ?/ ?{pages}\b", text)


def test_weasyprint_has_nothing_to_complain_about(
    almi: Register, caplog: pytest.LogCaptureFixture
) -> None:
    # Unsupported CSS, media queries or a fetched resource would each log a warning.
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        render_notice(almi, lang="sv", fmt="pdf")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
