"""Ombud's built-in wording: complete in Swedish and English."""

from __future__ import annotations

import re

import pytest

from ombud.notice import labels
from ombud.notice.content import duration_text
from ombud.register.model import LegalBasis, RecipientRole, RetentionStart, Right, Source

PLACEHOLDERS = {"org", "org_gen", "authority", "lead", "others", "mechanisms"}


def test_swedish_and_english_have_the_same_strings() -> None:
    assert set(labels.UI["sv"]) == set(labels.UI["en"])
    for lang in labels.BUILTIN:
        assert all(value.strip() for value in labels.UI[lang].values())
        used = {m for value in labels.UI[lang].values() for m in re.findall(r"\{(\w+)\}", value)}
        assert used <= PLACEHOLDERS


@pytest.mark.parametrize("lang", labels.BUILTIN)
@pytest.mark.parametrize("right", list(Right))
def test_every_right_has_default_wording(lang: str, right: Right) -> None:
    default = labels.default_right(lang, right)
    assert default.title
    assert len(default.text) > 80
    assert default.action
    assert (
        not re.findall(r"\{(\w+)\}", default.text)
        or set(re.findall(r"\{(\w+)\}", default.text)) <= PLACEHOLDERS
    )


@pytest.mark.parametrize("lang", labels.BUILTIN)
def test_every_enum_value_has_a_label(lang: str) -> None:
    for basis in LegalBasis:
        short, plain = labels.legal_basis(lang, basis)
        assert short
        assert plain
    assert all(labels.source(lang, s) for s in Source)
    assert all(labels.role(lang, r) for r in RecipientRole)
    assert all(labels.retention_start(lang, r) for r in RetentionStart)


def test_erasure_and_restriction_list_their_grounds() -> None:
    for lang in labels.BUILTIN:
        assert len(labels.default_right(lang, Right.ERASURE).conditions) == 5  # Art. 17(1)
        assert len(labels.default_right(lang, Right.RESTRICTION).conditions) == 4  # Art. 18(1)


@pytest.mark.parametrize(
    ("period", "lang", "expected"),
    [
        ("P24M", "sv", "24 månader"),
        ("P1M", "sv", "1 månad"),
        ("P7Y", "en", "7 years"),
        ("P1Y6M", "en", "1 year and 6 months"),
        ("P1Y2M3D", "sv", "1 år, 2 månader och 3 dagar"),
        ("P2W", "en", "2 weeks"),
        ("P30D", "de", "30 days"),  # no built-in German: English
    ],
)
def test_durations_in_words(period: str, lang: str, expected: str) -> None:
    assert duration_text(period, lang) == expected


@pytest.mark.parametrize(
    ("name", "lang", "expected"),
    [
        ("Almi", "sv", "Almis"),
        ("Almi", "en", "Almi's"),
        ("Acme Labs", "sv", "Acme Labs"),
        ("Acme Labs", "en", "Acme Labs'"),
        ("Ombud", "fi", "Ombud's"),
    ],
)
def test_genitive(name: str, lang: str, expected: str) -> None:
    assert labels.genitive(name, lang) == expected
