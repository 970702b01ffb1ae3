"""The portability package (Art. 20): only what the person provided under consent or contract."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import zipfile
from dataclasses import replace
from typing import Any

import pytest
from test_extract import PERSONNUMMER, almi_with_systems, extract_input, found, karin

from ombud.register import Register, loads
from ombud.rights.extract import ExtractInput, FoundRow
from ombud.rights.portability import build_portability_zip, is_portable

#: A shop of our own: a contract and a legitimate interest in one system.
SHOP = """\
version: 1
languages: [en, sv]
organisation:
  name: Shop
  controllers: [{id: shop, name: Shop AB, lead: true}]
categories:
  contact: {name: {en: Contact details, sv: Kontaktuppgifter}}
  orders: {name: {en: Order data, sv: Orderuppgifter}}
  behaviour: {name: {en: Browsing behaviour, sv: Surfbeteende}}
activities:
  - id: orders
    name: {en: Orders, sv: Beställningar}
    purpose: {en: Delivering orders, sv: Leverera beställningar}
    legal_basis: contract
    categories: [contact, orders]
  - id: recommendations
    name: {en: Recommendations, sv: Rekommendationer}
    purpose: {en: Recommending products, sv: Rekommendera varor}
    legal_basis: legitimate_interest
    categories: [contact, behaviour]
  - id: paper-contracts
    name: {en: Paper contracts, sv: Pappersavtal}
    purpose: {en: Keeping signed contracts, sv: Spara undertecknade avtal}
    legal_basis: contract
    categories: [contact]
    automated: false
systems:
  - id: shop
    name: Shop database
    connector: sql
    url: env:SHOP_DATABASE_URL
    activities: [orders, recommendations]
    collections:
      customers:
        fields: {email: contact, address: contact}
      orders:
        fields: {items: orders, email: contact}
      clicks:
        fields: {page: behaviour, email: contact}
  - id: archive
    name: Signed paper contracts
    connector: manual
    activities: [paper-contracts]
    collections:
      scans:
        fields: {email: contact}
notice:
  updated: 2025-01-01
"""


@pytest.fixture(scope="module")
def shop() -> Register:
    return loads(SHOP, "shop.yaml").register


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def rows_of(csv_bytes: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8"), newline="")))


# --- which rows are portable ----------------------------------------------------------------

ALMI_RULES = [
    # system, collection, columns, portable?
    ("newsletter", "newsletter_subscribers", ["email", "name", "signup_ip"], True),
    ("crm", "network_members", ["name", "email", "network", "competence"], True),
    # CRM persons and cases serve legitimate-interest activities only
    ("crm", "persons", ["first_name", "email", "birth_date", "gender"], False),
    ("crm", "cases", ["subject", "body"], False),
    # the invoices rest on a legal obligation
    ("accounting", "invoices", ["customer_name", "personal_number"], False),
    # the website's event log: observed data of the person's own use counts as provided
    # (EDPB/WP29 guidelines on portability) and analytics rests on consent
    ("website", "events", ["visitor_id", "event", "url"], True),
    # nothing declared as personal data: nothing the person provided
    ("newsletter", "newsletter_subscribers", ["id", "subscribed_at"], False),
    # a system the register does not know
    ("archive", "boxes", ["email"], False),
]


@pytest.mark.parametrize(
    ("system", "collection", "columns", "portable"),
    ALMI_RULES,
    ids=[f"{s}.{c}" for s, c, _, _ in ALMI_RULES],
)
def test_almi_rows_are_portable_by_the_legal_basis_and_categories(
    system: str, collection: str, columns: list[str], portable: bool
) -> None:
    register = almi_with_systems()
    row = found(register, system, collection, dict.fromkeys(columns, "x"))
    if system == "archive":
        row = FoundRow(system, collection, {"email": "x"}, {"email": "contact"})
    assert is_portable(register, row) is portable


SHOP_RULES = [
    ("customers", {"email": "contact", "address": "contact"}, True),  # contract covers contact
    ("orders", {"items": "orders", "email": "contact"}, True),  # contract covers both
    ("clicks", {"page": "behaviour", "email": "contact"}, False),  # behaviour: legit. interest
    ("scans", {"email": "contact"}, False),  # a contract, but on paper: not automated
]


@pytest.mark.parametrize(("collection", "categories", "portable"), SHOP_RULES)
def test_contract_data_is_portable_and_legitimate_interest_data_is_not(
    shop: Register, collection: str, categories: dict[str, str], portable: bool
) -> None:
    system = "archive" if collection == "scans" else "shop"
    row = FoundRow(system, collection, dict.fromkeys(categories, "x"), categories)
    assert is_portable(shop, row) is portable


# --- the package ----------------------------------------------------------------------------


def almi_zip(lang: str = "sv", rows: list[FoundRow] | None = None) -> dict[str, bytes]:
    return unzip(build_portability_zip(extract_input(rows, lang=lang)))


def test_zip_holds_newsletter_and_network_rows_but_not_crm_cases() -> None:
    files = almi_zip()
    assert sorted(files) == [
        "README.txt",
        "crm-network_members.csv",
        "data.json",
        "newsletter-newsletter_subscribers.csv",
    ]
    everything = b"".join(files.values()).decode("utf-8")
    # CRM cases and persons (legitimate interest) and invoices (legal obligation) stay out
    for absent in ("Fråga om lånet", "Uppföljning", PERSONNUMMER, "F-2023-0042", "+46701234567"):
        assert absent not in everything

    data = json.loads(files["data.json"])
    assert data["request"]["id"] == "RK7M2QX9TP"
    assert data["request"]["type"] == "portability"
    assert data["controller"] == {"id": "almi-ab", "name": "Almi AB"}
    parts = {(d["system"], d["collection"]): d for d in data["data"]}
    assert set(parts) == {("crm", "network_members"), ("newsletter", "newsletter_subscribers")}
    newsletter = parts["newsletter", "newsletter_subscribers"]
    assert newsletter["file"] == "newsletter-newsletter_subscribers.csv"
    assert newsletter["activities"] == [{"id": "newsletter", "legal_basis": "consent"}]
    assert newsletter["rows"] == [
        {"email": "Karin.Lindqvist@example.se", "name": "Karin L", "signup_ip": "192.0.2.15"}
    ]
    assert parts["crm", "network_members"]["activities"] == [
        {"id": "network", "legal_basis": "consent"}
    ]


def test_csv_files_parse_and_hold_only_what_the_person_provided() -> None:
    files = almi_zip()
    assert rows_of(files["newsletter-newsletter_subscribers.csv"]) == [
        {"email": "Karin.Lindqvist@example.se", "name": "Karin L", "signup_ip": "192.0.2.15"}
    ]
    # the system's own id, links and timestamps are not data the person provided
    assert rows_of(files["crm-network_members.csv"]) == [
        {
            "name": "Karin Lindqvist",
            "email": "karin.lindqvist@example.se",
            "network": "Kvinnliga företagare Väst",
            "competence": "Export till Norden",
        }
    ]


def test_values_survive_csv_and_json() -> None:
    register = almi_with_systems()
    values: dict[str, object] = {
        "email": 'åsa.öberg@example.se, "work"',
        "name": "Åsa\nÖberg",
        "signup_ip": None,
        "visitor_id": b"\x00\xffid",
    }
    row = found(register, "newsletter", "newsletter_subscribers", values)
    files = almi_zip("en", [row])
    (parsed,) = rows_of(files["newsletter-newsletter_subscribers.csv"])
    assert parsed == {
        "email": 'åsa.öberg@example.se, "work"',
        "name": "Åsa\nÖberg",
        "signup_ip": "",
        "visitor_id": base64.b64encode(b"\x00\xffid").decode(),
    }
    (part,) = json.loads(files["data.json"])["data"]
    assert base64.b64decode(part["rows"][0]["visitor_id"]) == b"\x00\xffid"
    assert part["rows"][0]["signup_ip"] is None
    binary = {c["name"]: c["binary"] for c in part["columns"]}
    assert binary == {"email": False, "name": False, "signup_ip": False, "visitor_id": True}
    assert "base64" in files["README.txt"].decode()


@pytest.mark.parametrize(
    ("lang", "included", "why"),
    [
        (
            "sv",
            ["Nätverk (Samtycke)", "Nyhetsbrevsanmälan via hemsida (Samtycke)"],
            ["samtycke eller avtal", "intresseavvägning", "registerutdrag (artikel 15)"],
        ),
        (
            "en",
            ["Networks (Consent)", "Newsletter sign-up on the website (Consent)"],
            ["consent or a contract", "legitimate interest", "register extract (Article 15)"],
        ),
    ],
)
def test_readme_says_what_is_included_and_why_the_rest_is_not(
    lang: str, included: list[str], why: list[str]
) -> None:
    readme = " ".join(almi_zip(lang)["README.txt"].decode("utf-8").split())
    assert [text for text in [*included, *why] if text not in readme] == []
    assert "crm-network_members.csv" in readme
    assert "newsletter-newsletter_subscribers.csv" in readme
    # the collections found but left out, with their legal basis
    cases = "cases: 2 poster (Intresseavvägning)" if lang == "sv" else "cases: 2 records"
    assert cases in readme
    assert "invoices: 1" in readme
    assert "dataskyddsombud@almi.se" in readme


def test_nothing_portable_gives_a_readme_that_says_so() -> None:
    register = almi_with_systems()
    cases = [r for r in karin(register) if r.collection == "cases"]
    files = almi_zip("en", cases)
    assert sorted(files) == ["README.txt", "data.json"]
    assert json.loads(files["data.json"])["data"] == []
    readme = " ".join(files["README.txt"].decode().split())
    assert "We found no personal data about you that falls under the right to data" in readme
    assert "cases: 2 records" in readme


def test_the_same_input_gives_the_same_bytes() -> None:
    data: ExtractInput = extract_input()
    first = build_portability_zip(data)
    assert build_portability_zip(replace(data, rows=list(data.rows))) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        stamps = {info.date_time for info in archive.infolist()}
    assert stamps == {(2025, 3, 4, 10, 0, 0)}


def test_contract_rows_of_another_register_are_packaged(shop: Register) -> None:
    rows = [
        FoundRow(
            "shop",
            "orders",
            {"items": "2 x tea", "email": "a@example.com"},
            {"items": "orders", "email": "contact"},
        ),
        FoundRow(
            "shop",
            "clicks",
            {"page": "/tea", "email": "a@example.com"},
            {"page": "behaviour", "email": "contact"},
        ),
    ]
    data = ExtractInput(
        request_id="R1",
        received_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        due=dt.date(2025, 2, 1),
        language="en",
        controller_id="shop",
        register=shop,
        register_version="0" * 64,
        rows=rows,
        manual_systems=[],
        generated_at=dt.datetime(2025, 1, 2, tzinfo=dt.UTC),
    )
    files = unzip(build_portability_zip(data))
    assert sorted(files) == ["README.txt", "data.json", "shop-orders.csv"]
    assert rows_of(files["shop-orders.csv"]) == [{"items": "2 x tea", "email": "a@example.com"}]
    parsed: dict[str, Any] = json.loads(files["data.json"])
    assert parsed["data"][0]["activities"] == [{"id": "orders", "legal_basis": "contract"}]
    readme = " ".join(files["README.txt"].decode().split())
    assert "Orders (Contract)" in readme
    assert "clicks: 1 records (Legitimate interest)" in readme
