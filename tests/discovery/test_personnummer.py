"""Personnummer, samordningsnummer and interim numbers: the public vectors and our rules."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ombud.discovery import InvalidIdentifierError, Personnummer, parse_personnummer

VECTORS = Path(__file__).parent / "vectors"
TODAY = date(2025, 6, 1)
FORMS = ("long_format", "short_format", "separated_format", "separated_long")


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


LISTED = [item for name in ("list.json", "interim.json") for item in _load(name)]


def _cases(valid: bool) -> list[Any]:
    return [
        pytest.param(item, form, id=f"{item[form]}-{form}")
        for item in LISTED
        if item["valid"] is valid
        for form in FORMS
    ]


@pytest.mark.parametrize(("item", "form"), _cases(valid=True))
def test_valid_vector_parses_to_its_twelve_digit_form(item: dict[str, Any], form: str) -> None:
    number = parse_personnummer(item[form], today=TODAY)
    expected = item["long_format"]
    if form == "short_format" and "+" in item["separated_format"]:
        # Ten digits without a separator cannot carry the +: the person reads as under 100.
        expected = "20" + expected[2:]
    assert number.canonical == expected
    assert number.is_coordination is (item["type"] == "con")
    assert number.is_interim is (item["type"] == "interim")
    assert number.sex == ("male" if item["isMale"] else "female")


@pytest.mark.parametrize(("item", "form"), _cases(valid=False))
def test_invalid_vector_is_rejected(item: dict[str, Any], form: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        parse_personnummer(item[form], today=TODAY)


@pytest.mark.parametrize(
    "item", [pytest.param(item, id=item["separated_format"]) for item in LISTED if item["valid"]]
)
def test_valid_vector_formats_back_to_its_written_forms(item: dict[str, Any]) -> None:
    number = parse_personnummer(item["separated_format"], today=TODAY)
    assert number.format(long=False, today=TODAY) == item["separated_format"]
    # With the century written out the separator is always -, as Skatteverket writes it.
    assert number.format() == item["separated_long"].replace("+", "-")


STRUCTURED = _load("structured.json")


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (kind, str(value))
        for kind, shapes in STRUCTURED.items()
        for values in shapes.values()
        for value in values["valid"]
    ],
)
def test_valid_structured_vector(kind: str, value: str) -> None:
    number = parse_personnummer(value, today=TODAY)
    assert number.canonical[2:] == value.replace("-", "").replace("+", "")[-10:]
    assert number.is_coordination is (kind == "con")


@pytest.mark.parametrize(
    "value",
    [
        str(value)
        for shapes in STRUCTURED.values()
        for values in shapes.values()
        for value in values["invalid"]
    ],
)
def test_invalid_structured_vector(value: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        parse_personnummer(value, today=TODAY)


@pytest.mark.parametrize(
    "value",
    [
        item[form]
        for item in _load("orgnumber.json")
        for form in ("short_format", "separated_format")
    ],
)
def test_organisation_number_is_not_a_personnummer(value: str) -> None:
    with pytest.raises(InvalidIdentifierError, match="organisation number"):
        parse_personnummer(value, today=TODAY)


@pytest.mark.parametrize(
    ("value", "today", "canonical"),
    [
        ("250601-1234", date(2025, 6, 1), "202506011234"),  # born today
        ("250601+1234", date(2025, 6, 1), "192506011234"),  # turns 100 today
        ("250601+1234", date(2025, 1, 1), "192506011234"),  # + from the start of that year
        ("2506011234", date(2025, 6, 1), "202506011234"),  # no separator reads as -
        ("260101-1238", date(2025, 6, 1), "192601011238"),  # 2026 is still to come
        ("260101+1238", date(2025, 6, 1), "182601011238"),
        ("260101-1238", date(2026, 1, 1), "202601011238"),
        ("090527+1474", date(2025, 6, 1), "190905271474"),
        ("090527-1474", date(2025, 6, 1), "200905271474"),
        ("19090527-1474", date(2025, 6, 1), "190905271474"),  # the century decides, not -/+
        ("000229-2399", date(2025, 6, 1), "200002292399"),
        ("121212-1212", date(2025, 6, 1), "201212121212"),
        ("  811218-9876\n", date(2025, 6, 1), "198112189876"),
        ("198112189876", date(2025, 6, 1), "198112189876"),
        ("19811218-9876", date(2025, 6, 1), "198112189876"),
        ("800229-1238", date(2025, 6, 1), "198002291238"),  # 1980 was a leap year
        ("811278-1235", date(2025, 6, 1), "198112781235"),  # samordningsnummer
        ("19700101-t126", date(2025, 6, 1), "19700101T126"),  # interim, any case
    ],
)
def test_century_follows_the_separator_and_today(value: str, today: date, canonical: str) -> None:
    assert parse_personnummer(value, today=today).canonical == canonical


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("810231-1233", "date of birth does not exist"),  # 31 February
        ("810431-1231", "date of birth does not exist"),  # 31 April
        ("790229-1231", "date of birth does not exist"),  # 1979 was no leap year
        ("000229+2399", "date of birth does not exist"),  # 1900 was no leap year
        ("810291-1230", "date of birth does not exist"),  # samordningsnummer for 31 February
        ("811218-0008", "serial number 000"),
        ("811218-9875", "check digit"),
        ("19700101-T123", "check digit"),  # an interim number's letter counts as 1
        ("000101-E221", "neither 10 nor 12 digits"),  # E is not an interim letter
        ("811218 9876", "not a space"),
        ("19811218 9876", "not a space"),
        ("556036-0793", "organisation number"),
        ("17811218-9876", "begin with 18, 19 or 20"),
        ("811218/9876", "neither 10 nor 12 digits"),
        ("", "neither 10 nor 12 digits"),
    ],
)
def test_rejection_says_why_without_repeating_the_value(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifierError) as caught:
        parse_personnummer(value, today=TODAY)
    message = str(caught.value)
    assert reason in message
    assert "YYMMDD-NNNC" in message  # the accepted forms
    assert caught.value.kind == "personnummer"
    if value:
        assert value.strip()[-4:] not in message


def test_properties_of_a_samordningsnummer() -> None:
    number = parse_personnummer("811278-1235", today=TODAY)
    assert number.is_coordination
    assert not number.is_interim
    assert number.birth_date == date(1981, 12, 18)
    assert number.sex == "male"
    assert number.format() == "19811278-1235"


def test_short_form_needs_today() -> None:
    number = parse_personnummer("090527+1474", today=TODAY)
    assert number.format(long=False, today=date(2008, 12, 31)) == "090527-1474"
    assert number.format(long=False, today=date(2009, 1, 1)) == "090527+1474"
    with pytest.raises(ValueError, match="needs today"):
        number.format(long=False)


def test_repr_and_str_hide_the_number() -> None:
    number = parse_personnummer("811218-9876", today=TODAY)
    assert "9876" not in repr(number)
    assert "811218" not in f"{number}"
    assert number == Personnummer("198112189876")
