"""Finding personal data in free text: exact spans, validated, and no false alarms on dates
and amounts."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import pytest

from ombud.discovery import Match, contains_personal_data, find_personal_data

TODAY = date(2025, 6, 1)


def found(text: str) -> list[tuple[str, str, str]]:
    """(kind, the text matched, canonical value) of every match, in order."""
    return [(m.kind, text[m.start : m.end], m.value) for m in find_personal_data(text, today=TODAY)]


CASE_NOTE = (
    "Ärende 2024-07-02 kl. 14:30. Kunden bestrider fakturan på 1 234 567 kr från "
    "Exempel AB (556036-0793) och skriver: ring mig på 070-123 45 67 eller mejla "
    "anna.svensson@example.se, pnr 811218-9876. Inloggning från 192.0.2.44."
)


def test_case_note_exact_spans() -> None:
    matches = find_personal_data(CASE_NOTE, today=TODAY)
    expected = [
        ("orgnr", "556036-0793", "5560360793"),
        ("phone", "070-123 45 67", "+46701234567"),
        ("email", "anna.svensson@example.se", "anna.svensson@example.se"),
        ("personnummer", "811218-9876", "198112189876"),
        ("ip", "192.0.2.44", "192.0.2.44"),
    ]
    assert matches == [
        Match(kind, CASE_NOTE.index(text), CASE_NOTE.index(text) + len(text), value)
        for kind, text, value in expected
    ]
    assert (matches[1].start, matches[1].end) == (126, 139)  # the phone: 76 + 50 characters in
    assert contains_personal_data(CASE_NOTE)


@pytest.mark.parametrize(
    "text",
    [
        "Mötet är 2024-07-02 kl. 14:30, 2024-07-02T14:30:00+02:00.",
        "Summa 1 234 567 kr, moms 308 641,75 kr; 1.234.567 SEK.",
        "Datum 20240702, order 4711, ärende #000123, version 1.2.3.",
        "Beställning 1234567890123456 levererad.",
        "pnr 810231-1233 (31 februari finns inte)",
        "pnr 811218-9875 (fel kontrollsiffra)",
        "pnr 811218 9876 (mellanslag är ingen skrivform)",
        "MAC 00:1a:2b:3c:4d:5e, tid 12:30:45, std::vector",
        "mejla anna.svensson@ eller @example.se",
        "IP 256.1.1.1 och 1.2.3",
        "",
    ],
)
def test_no_personal_data(text: str) -> None:
    assert found(text) == []
    assert not contains_personal_data(text)


ORGNUMBERS = json.loads((Path(__file__).parent / "vectors" / "orgnumber.json").read_text("utf-8"))


@pytest.mark.parametrize(
    "value",
    [item[form] for item in ORGNUMBERS for form in ("short_format", "separated_format")]
    + ["556036-0793", "165560360793"],
)
def test_organisation_number_is_not_reported_as_personnummer(value: str) -> None:
    assert [kind for kind, _, _ in found(f"Leverantör {value}.")] == ["orgnr"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pnr: 811218-9876", [("personnummer", "811218-9876", "198112189876")]),
        ("(19811218-9876)", [("personnummer", "19811218-9876", "198112189876")]),
        ("198112189876;", [("personnummer", "198112189876", "198112189876")]),
        ("samordningsnr 811278-1235", [("personnummer", "811278-1235", "198112781235")]),
        ("född 090527+1474", [("personnummer", "090527+1474", "190905271474")]),
        ("interim 19700101-T126", [("personnummer", "19700101-T126", "19700101T126")]),
        ("000229-2399 är skottdag", [("personnummer", "000229-2399", "200002292399")]),
        ("tel +46 (0)70 123 45 67.", [("phone", "+46 (0)70 123 45 67", "+46701234567")]),
        ("tel 0046 70 123 45 67", [("phone", "0046 70 123 45 67", "+46701234567")]),
        ("växel 08-123 456 78", [("phone", "08-123 456 78", "+46812345678")]),
        ("växel (08) 123 456 78", [("phone", "(08) 123 456 78", "+46812345678")]),
        ("UK +44 20 7946 0958", [("phone", "+44 20 7946 0958", "+442079460958")]),
        # The pattern runs on into the year; the number is cut back to what validates.
        ("070-123 45 67 2024", [("phone", "070-123 45 67", "+46701234567")]),
        (
            "070-123 45 67, 08-123 456 78",
            [
                ("phone", "070-123 45 67", "+46701234567"),
                ("phone", "08-123 456 78", "+46812345678"),
            ],
        ),
        ("skriv till Anna@Example.se.", [("email", "Anna@Example.se", "anna@example.se")]),
        ("<åsa.öberg@exempel.se>", [("email", "åsa.öberg@exempel.se", "åsa.öberg@exempel.se")]),
        ("från 192.0.2.1:8080", [("ip", "192.0.2.1", "192.0.2.1")]),
        ("host 10.0.0.1.", [("ip", "10.0.0.1", "10.0.0.1")]),
        ("[2001:DB8::1]:443", [("ip", "2001:DB8::1", "2001:db8::1")]),
        (
            "fe80::1ff:fe23:4567:890a",
            [("ip", "fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a")],
        ),
        ("mapped ::ffff:192.0.2.1", [("ip", "::ffff:192.0.2.1", "192.0.2.1")]),
        # Both a valid personnummer (2001-01-01) and a valid phone number: the more
        # sensitive reading wins.
        ("0101011237", [("personnummer", "0101011237", "200101011237")]),
        # An address that contains a phone number is reported once, as the address.
        (
            "0701234567@sms.example.se",
            [("email", "0701234567@sms.example.se", "0701234567@sms.example.se")],
        ),
    ],
)
def test_found(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(text) == expected
    assert contains_personal_data(text)


def test_century_of_a_short_personnummer_follows_today() -> None:
    (match,) = find_personal_data("pnr 250601-1234", today=date(2025, 6, 1))
    assert match.value == "202506011234"
    (match,) = find_personal_data("pnr 250601-1234", today=date(2024, 12, 31))
    assert match.value == "192506011234"


def test_contains_accepts_a_leap_day_in_some_century() -> None:
    # 000229-2399 is 29 February 2000; read as 1900 it would not exist.
    assert contains_personal_data("pnr 000229-2399")
    assert not contains_personal_data("pnr 000229+2399")  # 1900: no 29 February


def test_match_repr_hides_the_value() -> None:
    (match,) = find_personal_data("pnr 811218-9876", today=TODAY)
    assert "9876" not in repr(match)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 200_000,
        "1" * 200_000,
        "1 " * 100_000,
        "0-" * 100_000,
        "1:" * 100_000,
        ("x" * 50 + "@") * 4_000,
        "Ärende 2024-07-02, belopp 1 234 567 kr, kl. 14:30. " * 4_000,
    ],
    ids=["letters", "digits", "spaced-digits", "hyphens", "colons", "at-signs", "prose"],
)
def test_linear_on_adversarial_text(text: str) -> None:
    # About 30 ms each here; a pattern that backtracks quadratically takes minutes.
    started = time.perf_counter()
    assert find_personal_data(text, today=TODAY) == []
    assert time.perf_counter() - started < 3
