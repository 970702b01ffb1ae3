"""The public API of ombud.notice and the errors a caller can cause."""

from __future__ import annotations

from importlib.resources import files

import pytest

import ombud.notice
from ombud.notice import (
    NoticeError,
    UnknownFormatError,
    UnknownLanguageError,
    render_notice,
    render_ropa,
)
from ombud.register import Register


def test_public_api_is_exactly_this() -> None:
    assert sorted(ombud.notice.__all__) == [
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
    for name in ombud.notice.__all__:
        assert hasattr(ombud.notice, name)


@pytest.mark.parametrize("fmt", ["html", "md", "json"])
def test_unknown_language_is_a_value_error_naming_the_languages(acme: Register, fmt: str) -> None:
    with pytest.raises(UnknownLanguageError, match=r"'fi'.*en, sv") as raised:
        render_notice(acme, lang="fi", fmt=fmt)  # type: ignore[arg-type]
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, NoticeError)
    assert raised.value.available == ("en", "sv")


def test_unknown_language_for_the_record(acme: Register) -> None:
    with pytest.raises(UnknownLanguageError, match="use one of: en, sv"):
        render_ropa(acme, fmt="csv", lang="de")


def test_unknown_format(acme: Register) -> None:
    with pytest.raises(UnknownFormatError, match=r"'docx'.*html, md, pdf, json"):
        render_notice(acme, lang="en", fmt="docx")  # type: ignore[arg-type]
    with pytest.raises(UnknownFormatError, match="'ods'"):
        render_ropa(acme, fmt="ods")  # type: ignore[arg-type]


def test_templates_ship_inside_the_package() -> None:
    templates = files("ombud.notice") / "templates"
    assert (templates / "notice.html.j2").is_file()
    assert (templates / "notice.css").is_file()
    assert (templates / "screen.css").is_file()


def test_text_formats_are_utf8(almi: Register) -> None:
    for fmt in ("html", "md", "json"):
        data = render_notice(almi, lang="sv", fmt=fmt)  # type: ignore[arg-type]
        assert "Mäta kundnöjdhet" in data.decode("utf-8")
