import pytest

from ombud.web.language import negotiate

LANGS = ["sv", "en"]


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        (None, None, "sv"),
        ("en", None, "en"),
        ("en", "sv-SE,sv;q=0.9", "en"),
        ("fi", "en-GB,en;q=0.9", "en"),
        (None, "en-US,en;q=0.9,sv;q=0.8", "en"),
        (None, "sv-SE,sv;q=0.9,en;q=0.8", "sv"),
        (None, "de-DE,de;q=0.9,en;q=0.5", "en"),
        (None, "en;q=0.2,sv;q=0.8", "sv"),
        (None, "en;q=0", "sv"),
        (None, "*", "sv"),
        (None, "fr,de", "sv"),
        (None, "en;q=bogus,sv", "sv"),
    ],
)
def test_negotiate(query: str | None, header: str | None, expected: str) -> None:
    assert negotiate(LANGS, query, header) == expected
