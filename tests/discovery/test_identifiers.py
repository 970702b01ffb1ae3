"""Organisation numbers, phone numbers, e-mail and IP addresses, and normalise()."""

from __future__ import annotations

import ipaddress
import json
import random
from datetime import date
from pathlib import Path

import pytest

import ombud.discovery
from ombud.discovery import (
    InvalidIdentifierError,
    Orgnr,
    Personnummer,
    also_known_as,
    normalise,
    normalise_email,
    normalise_ip,
    normalise_phone,
    parse_company_id,
    parse_orgnr,
    truncate_ip,
)

TODAY = date(2025, 6, 1)
ORGNUMBER_VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "orgnumber.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize(
    ("value", "canonical", "group"),
    [
        ("556036-0793", "5560360793", "aktiebolag"),  # Saab AB
        ("5560360793", "5560360793", "aktiebolag"),
        ("165560360793", "5560360793", "aktiebolag"),
        ("16556036-0793", "5560360793", "aktiebolag"),
        (" 212000-0142 ", "2120000142", "kommun"),  # Stockholms stad
        ("212000-1355", "2120001355", "kommun"),  # Göteborgs stad
        *[
            (item["separated_format"], str(item["integer"]), "stiftelse")
            for item in ORGNUMBER_VECTORS
        ],
    ],
)
def test_orgnr_parses(value: str, canonical: str, group: str) -> None:
    orgnr = parse_orgnr(value)
    assert orgnr.canonical == canonical
    assert group in orgnr.legal_form
    assert orgnr.format() == f"{canonical[:6]}-{canonical[6:]}"
    assert orgnr.format(prefixed=True) == f"16{canonical}"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("556036-0794", "check digit"),
        ("811218-9876", "personnummer"),  # third digit 1: a person
        ("4020000008", "0 or 4"),  # Luhn-valid, but group 4 is not issued
        ("0620000000", "0 or 4"),
        ("556036-079", "10 digits"),
        ("17556036-0793", "10 digits"),
        ("", "10 digits"),
    ],
)
def test_orgnr_rejected(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifierError, match=reason) as caught:
        parse_orgnr(value)
    assert caught.value.kind == "orgnr"


@pytest.mark.parametrize(
    ("value", "kind", "canonical"),
    [
        ("556036-0793", Orgnr, "5560360793"),
        ("165560360793", Orgnr, "5560360793"),
        ("811218-9876", Personnummer, "198112189876"),  # a sole trader: personal data
        ("19811218-9876", Personnummer, "198112189876"),
        ("8112189876", Personnummer, "198112189876"),
        ("090527+1474", Personnummer, "190905271474"),
    ],
)
def test_company_id_is_an_orgnr_or_the_owners_personnummer(
    value: str, kind: type, canonical: str
) -> None:
    company = parse_company_id(value, today=TODAY)
    assert isinstance(company, kind)
    assert company.canonical == canonical


@pytest.mark.parametrize("value", ["811218-9875", "556036-0794", "12345", "810231-1233"])
def test_company_id_rejected_as_orgnr(value: str) -> None:
    with pytest.raises(InvalidIdentifierError) as caught:
        parse_company_id(value, today=TODAY)
    assert caught.value.kind == "orgnr"
    assert "sole trader" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "e164"),
    [
        ("070-123 45 67", "+46701234567"),
        ("0701234567", "+46701234567"),
        ("070 123 45 67", "+46701234567"),
        ("070\u00a0123\u00a045\u00a067", "+46701234567"),
        (" 070-123 45 67\n", "+46701234567"),
        ("0046701234567", "+46701234567"),
        ("0046 70 123 45 67", "+46701234567"),
        ("+46701234567", "+46701234567"),
        ("+46 70 123 45 67", "+46701234567"),
        ("+46 (0)70 123 45 67", "+46701234567"),
        ("+46(0)70-1234567", "+46701234567"),
        ("08-123 456 78", "+46812345678"),
        ("08-12345678", "+46812345678"),
        ("(08) 123 456 78", "+46812345678"),
        ("+46 8 123 456 78", "+46812345678"),
        ("031-123 45 67", "+46311234567"),
        ("0771-123 456", "+46771123456"),
        ("+44 20 7946 0958", "+442079460958"),  # other countries pass through, validated
        ("+358 40 1234567", "+358401234567"),
        ("0044 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_to_e164(value: str, e164: str) -> None:
    assert normalise_phone(value) == e164


@pytest.mark.parametrize(
    "value",
    [
        "070-123 45 6",  # one digit short
        "070-123 45 678",  # one digit too many
        "1234",
        "",
        "070-ABC DE FG",
        "070-123 45 67 ext 3",
        "+4670123456789",
        "+46 00 123 45 67",
        "mejla mig",
    ],
)
def test_phone_rejected(value: str) -> None:
    with pytest.raises(InvalidIdentifierError, match="070-123 45 67") as caught:
        normalise_phone(value)
    assert caught.value.kind == "phone"


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("anna.svensson@example.se", "anna.svensson@example.se"),
        (" Anna.Svensson@Example.SE \n", "anna.svensson@example.se"),  # local part too
        ("ÅSA.Öberg@Exempel.se", "åsa.öberg@exempel.se"),
        ("a+nyhetsbrev@sub.example.co.uk", "a+nyhetsbrev@sub.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("x@a-b.se", "x@a-b.se"),
    ],
)
def test_email_normalised(value: str, canonical: str) -> None:
    assert normalise_email(value) == canonical


@pytest.mark.parametrize(
    "value",
    [
        "",
        "anna",
        "anna@",
        "@example.se",
        "anna@example",
        "anna@@example.se",
        "anna@example.se@example.se",
        "anna..svensson@example.se",
        ".anna@example.se",
        "anna.@example.se",
        "anna svensson@example.se",
        "anna@-example.se",
        "anna@example-.se",
        "anna@exam_ple.se",
        "anna@example.123",
        "anna@[192.0.2.1]",
        f"{'a' * 65}@example.se",
        f"anna@{'a' * 64}.se",
        f"anna@{'a.' * 125}se",  # over 254 characters
    ],
)
def test_email_rejected(value: str) -> None:
    with pytest.raises(InvalidIdentifierError, match="local@domain") as caught:
        normalise_email(value)
    assert caught.value.kind == "email"


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("192.0.2.1", "192.0.2.1"),
        (" 10.0.0.255 ", "10.0.0.255"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329"),
        ("::1", "::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),  # IPv4-mapped: the IPv4 host
    ],
)
def test_ip_normalised(value: str, canonical: str) -> None:
    assert normalise_ip(value) == canonical


@pytest.mark.parametrize(
    "value", ["", "256.1.1.1", "1.2.3", "192.168.01.1", "2001:db8:::1", "example.se", "12:30:45"]
)
def test_ip_rejected(value: str) -> None:
    with pytest.raises(InvalidIdentifierError, match="IPv4") as caught:
        normalise_ip(value)
    assert caught.value.kind == "ip"


@pytest.mark.parametrize(
    ("value", "truncated"),
    [
        ("192.0.2.123", "192.0.2.0"),
        ("10.1.2.0", "10.1.2.0"),
        ("255.255.255.255", "255.255.255.0"),
        ("2001:db8:abcd:12:34::1", "2001:db8:abcd::"),
        ("2001:DB8:ABCD:FFFF:FFFF:FFFF:FFFF:FFFF", "2001:db8:abcd::"),
        ("::1", "::"),
        ("::ffff:192.0.2.77", "192.0.2.0"),
    ],
)
def test_truncate_ip(value: str, truncated: str) -> None:
    assert truncate_ip(value) == truncated


def test_truncate_ip_rejects_a_non_address() -> None:
    with pytest.raises(InvalidIdentifierError):
        truncate_ip("192.0.2")


@pytest.mark.parametrize(
    "value", ["01.2.3.4", "1.2.3.256", "1.2.3.4.5", "1.2.3.-4", "\u0661.2.3.4"]
)
def test_truncate_ip_rejects_what_ipaddress_rejects(value: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        truncate_ip(value)


def test_truncate_ip_dotted_quads_agree_with_ipaddress() -> None:
    # IPv4 is truncated without ipaddress objects (the consent hot path): same answers.
    rng = random.Random(5)
    for _ in range(5_000):
        value = ".".join(
            str(rng.choice((0, 1, 9, 10, 99, 100, 199, 200, 249, 250, 255, rng.randrange(256))))
            for _ in range(4)
        )
        expected = str(ipaddress.ip_network(f"{value}/24", strict=False).network_address)
        assert truncate_ip(value) == expected, value


@pytest.mark.parametrize(
    ("kind", "value", "canonical"),
    [
        ("email", " Anna.Svensson@Example.SE", "anna.svensson@example.se"),
        ("phone", "070-123 45 67", "+46701234567"),
        ("personnummer", "811218-9876", "198112189876"),
        ("personnummer", "811278-1235", "198112781235"),
        ("personnummer", "090527+1474", "190905271474"),
        ("orgnr", "556036-0793", "5560360793"),
        ("orgnr", "811218-9876", "198112189876"),  # a sole trader: the personnummer
        ("ip", "2001:DB8::1", "2001:db8::1"),
        ("customer_id", "  C-00123 ", "C-00123"),
        (
            "visitor_id",
            "\t3f2a9c1e-7b5d-4a8e-9f01-2c3d4e5f6a7b\n",
            "3f2a9c1e-7b5d-4a8e-9f01-2c3d4e5f6a7b",
        ),
        ("member_no", " M 42 ", "M 42"),  # custom kinds of the register are opaque
    ],
)
def test_normalise(kind: str, value: str, canonical: str) -> None:
    assert normalise(kind, value, today=TODAY) == canonical


@pytest.mark.parametrize(
    ("kind", "value", "accepted"),
    [
        ("email", "anna.svensson", "name@example.se"),
        ("phone", "12", "+46 70 123 45 67"),
        ("personnummer", "556036-0793", "YYMMDD+NNNC"),
        ("personnummer", "810231-1233", "YYYYMMDD-NNNC"),
        ("orgnr", "556036-0794", "NNNNNN-NNNN"),
        ("ip", "localhost", "IPv6"),
        ("customer_id", "   ", "non-blank"),
        ("visitor_id", "", "non-blank"),
    ],
)
def test_normalise_rejects_with_the_accepted_forms(kind: str, value: str, accepted: str) -> None:
    with pytest.raises(InvalidIdentifierError, match=f"not a valid {kind}: ") as caught:
        normalise(kind, value, today=TODAY)
    assert isinstance(caught.value, ValueError)
    assert caught.value.kind == kind
    assert accepted in caught.value.accepted


@pytest.mark.parametrize("kind", ombud.discovery.IDENTIFIER_KINDS)
def test_no_kind_accepts_blank(kind: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        normalise(kind, "  ", today=TODAY)


def test_public_api_is_exported() -> None:
    for name in ombud.discovery.__all__:
        assert getattr(ombud.discovery, name) is not None, name


def test_a_sole_traders_organisation_number_and_personnummer_stand_for_each_other() -> None:
    person = normalise("personnummer", "811218-9876", today=TODAY)
    firm = normalise("orgnr", "811218-9876", today=TODAY)
    assert also_known_as("personnummer", person) == (("orgnr", person),)
    assert also_known_as("orgnr", firm) == (("personnummer", firm),)
    # A legal person's organisation number, and other kinds, stand for nobody else.
    assert also_known_as("orgnr", normalise("orgnr", "556036-0793", today=TODAY)) == ()
    assert also_known_as("email", "anna@example.se") == ()
