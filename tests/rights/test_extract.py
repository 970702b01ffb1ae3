"""The register extract (Art. 15): the person's data and everything the article requires."""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import itertools
import json
import logging
import re
import sys
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ombud.demo.register import demo_register
from ombud.notice.content import retention_text
from ombud.notice.errors import UnknownFormatError
from ombud.notice.labels import source
from ombud.register import Register, loads
from ombud.register.model import ActivityErasure, Source
from ombud.register.text import Text
from ombud.rights.extract import (
    ExtractInput,
    FoundRow,
    display_value,
    find_collection,
    json_value,
    render_extract,
    system_activities,
)


def _shared(path: Path, name: str) -> ModuleType:
    """A test module of tests/notice, imported under its own name (tests is no package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


NOTICE_TESTS = Path(__file__).resolve().parents[1] / "notice"
#: The notice tests' HTML tree (``parse_html``, ``Node``) and PDF reader (``pdf_text``).
tree = _shared(NOTICE_TESTS / "conftest.py", "ombud_tests_notice_tree")
pdf = _shared(NOTICE_TESTS / "test_notice_pdf.py", "ombud_tests_notice_pdf")
Node = Any  # tree.Node

RECEIVED = dt.datetime(2025, 3, 3, 8, 15, tzinfo=dt.UTC)
GENERATED = dt.datetime(2025, 3, 4, 10, 0, tzinfo=dt.UTC)
VERSION = "3f2a9c" + "0" * 58
PERSONNUMMER = "198112189876"


@lru_cache(maxsize=1)
def almi_with_systems() -> Register:
    """Almi's register with the demo's systems (examples/almi/systems.yaml)."""
    return loads(demo_register({}), "ombud.yaml").register


def found(
    register: Register, system: str, collection: str, values: dict[str, object], **flags: bool
) -> FoundRow:
    """A row as the executor finds it: categories from the collection's ``fields``."""
    spec = find_collection(register, system, collection)
    fields = spec.fields if spec is not None else {}
    categories = {column: fields[column] for column in values if column in fields}
    return FoundRow(system, collection, values, categories, **flags)


def karin(register: Register) -> list[FoundRow]:
    """Karin as Almi's systems know her: a customer, a subscriber, a network member."""
    return [
        found(
            register,
            "crm",
            "persons",
            {
                "id": 17,
                "first_name": "Karin",
                "last_name": "Lindqvist",
                "personal_number": PERSONNUMMER,
                "email": "karin.lindqvist@example.se",
                "phone": "+46701234567",
                "birth_date": dt.date(1981, 12, 18),
                "gender": None,
                "created_at": dt.datetime(2023, 5, 2, 9, 30, tzinfo=dt.UTC),
            },
        ),
        found(
            register,
            "crm",
            "cases",
            {
                "id": 301,
                "person_id": 17,
                "channel": "chatt",
                "subject": "Fråga om lånet",
                "body": "Hej! Kan ni ringa mig?",
                # systems may keep naive timestamps: shown as they are
                "closed_at": dt.datetime(2024, 2, 1, 14, 5),  # noqa: DTZ001
            },
        ),
        found(
            register,
            "crm",
            "cases",
            {"id": 302, "person_id": 17, "subject": "Uppföljning", "body": "Tack!"},
            restricted=True,
        ),
        found(
            register,
            "crm",
            "network_members",
            {
                "id": 9,
                "person_id": 17,
                "name": "Karin Lindqvist",
                "email": "karin.lindqvist@example.se",
                "network": "Kvinnliga företagare Väst",
                "competence": "Export till Norden",
                "left_at": None,
            },
        ),
        found(
            register,
            "newsletter",
            "newsletter_subscribers",
            {
                "id": 5,
                "email": "Karin.Lindqvist@example.se",
                "name": "Karin L",
                "signup_ip": "192.0.2.15",
                "subscribed_at": dt.datetime(2022, 11, 20, 7, 0, tzinfo=dt.UTC),
            },
        ),
        found(
            register,
            "accounting",
            "invoices",
            {
                "id": "F-2023-0042",
                "customer_name": "Karin Lindqvist",
                "personal_number": PERSONNUMMER,
                "amount": Decimal("12500.50"),
                "issued_at": dt.date(2023, 3, 1),
                "scan": b"%PDF-1.4 invoice",
            },
            legal_hold=True,
            restricted=True,
        ),
    ]


def extract_input(
    rows: list[FoundRow] | None = None,
    *,
    lang: str = "sv",
    manual: tuple[str, ...] = ("google-analytics", "meta-pixel"),
    base_url: str = "",
) -> ExtractInput:
    register = almi_with_systems()
    return ExtractInput(
        request_id="RK7M2QX9TP",
        received_at=RECEIVED,
        due=dt.date(2025, 4, 3),
        language=lang,
        controller_id="almi-ab",
        register=register,
        register_version=VERSION,
        rows=karin(register) if rows is None else rows,
        manual_systems=list(manual),
        generated_at=GENERATED,
        base_url=base_url,
    )


def page(data: ExtractInput) -> Node:
    return tree.parse_html(render_extract(data, fmt="html"))


def document(data: ExtractInput) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(render_extract(data, fmt="json"))
    return parsed


def words(text: str) -> str:
    return " ".join(text.split())


def in_use(register: Register, systems: list[str]) -> list[str]:
    """The activities of the given systems, in register order."""
    ids = {a.id for s in systems for a in system_activities(register, s)}
    return [a.id for a in register.activities if a.id in ids]


# --- HTML: the data and everything Art. 15 requires --------------------------------------------


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_html_gives_the_data_and_everything_article_15_requires(lang: str) -> None:
    register = almi_with_systems()
    root = page(extract_input(lang=lang))
    text = root.text()
    values = ["Karin", "Lindqvist", "karin.lindqvist@example.se", PERSONNUMMER, "+46701234567"]
    values += ["Fråga om lånet", "Kvinnliga företagare Väst", "192.0.2.15", "F-2023-0042"]
    values += ["1981-12-18", "2023-05-02 09:30 UTC", "2024-02-01 14:05", "2023-03-01"]
    values += ["12500,50" if lang == "sv" else "12500.50"]
    assert [v for v in values if v not in text] == []

    used = in_use(register, ["crm", "newsletter", "accounting"])
    activities = [register.activity(a) for a in used]
    expected = []
    for activity in activities:
        assert activity is not None
        expected += [activity.name.get(lang), activity.purpose.get(lang)]
        expected.append(retention_text(register, activity, lang))
    expected += [
        register.recipients[r].name.get(lang) for r in ("system-suppliers", "other-suppliers")
    ]
    expected += ["imy@imy.se", "Integritetsskyddsmyndigheten, Box 8114, 104 20 Stockholm"]
    expected += ["dataskyddsombud@almi.se", "Almi AB, Dataskyddsombud, Box 70396, 107 24 Stockholm"]
    expected += ["RK7M2QX9TP", "2025-04-03", VERSION]
    assert [e for e in expected if words(e) not in text] == []

    # the processing of systems where nothing was found is not this person's
    for other in ("telemarketing", "website-analytics"):
        activity = register.activity(other)
        assert activity is not None
        assert words(activity.purpose.get(lang)) not in text


@pytest.mark.parametrize(
    ("lang", "needles"),
    [
        (
            "sv",
            [
                "Begära rättelse",
                "Begära radering",
                "Begränsning av behandling",
                "Invända mot behandling",
                "Du har rätt att lämna klagomål till Integritetsskyddsmyndigheten",
            ],
        ),
        (
            "en",
            [
                "Request rectification",
                "Request erasure",
                "Restriction of processing",
                "Object to processing",
                "lodge a complaint with Swedish Authority for Privacy Protection",
            ],
        ),
    ],
)
def test_rights_and_the_complaint_are_stated(lang: str, needles: list[str]) -> None:
    root = page(extract_input(lang=lang))
    rights = root.by_id("rights").text()
    assert [n for n in needles[:4] if n not in rights] == []
    assert needles[4] in root.by_id("complaint").text()
    assert ("mailto:imy@imy.se", "imy@imy.se") in root.by_id("complaint").links()
    assert ("mailto:dataskyddsombud@almi.se", "dataskyddsombud@almi.se") in (
        root.by_id("contact-dpo").links()
    )


def test_data_is_grouped_by_system_then_collection_then_category() -> None:
    register = almi_with_systems()
    rows = list(reversed(karin(register)))  # found in any order, shown in the register's
    root = page(extract_input(rows))
    systems = [
        n.attrs["id"]
        for n in root.by_id("data").iter("section")
        if "system" in n.attrs.get("class", "")
    ]
    assert systems == ["system-crm", "system-newsletter", "system-accounting"]
    crm = root.by_id("system-crm")
    assert [h.text() for h in crm.iter("h4")] == ["persons", "cases", "network_members"]
    assert "Personuppgiftsansvarig: Almi AB" in crm.text()

    (persons,) = root.by_id("data-crm-persons").iter("table")
    cells = [[c.text() for c in tr.iter("th", "td")] for tr in list(persons.iter("tr"))[1:]]
    order = list(register.categories)
    names = {register.categories[c].name.get("sv"): i for i, c in enumerate(order)}
    ranks = [names.get(category, len(order)) for _, _, category in cells]
    assert ranks == sorted(ranks)  # by category in the register's order, uncategorised last
    assert cells[0] == ["Birth date", "1981-12-18", "Demografiska uppgifter"]
    assert ["Gender", "\N{EM DASH}", "Demografiska uppgifter"] in cells  # None
    assert cells[-2] == ["Id", "17", "\N{EM DASH}"]


def test_legal_hold_is_explained_with_the_law() -> None:
    register = almi_with_systems()
    accounting = register.activity("accounting")
    assert accounting is not None
    for lang, kept, tag in (
        ("sv", "Sparas eftersom lagen kräver det", "Sparas enligt lag"),
        ("en", "Kept because the law requires it", "Kept by law"),
    ):
        invoices = page(extract_input(lang=lang)).by_id("data-accounting-invoices").text()
        assert kept in invoices
        assert words(accounting.purpose.get(lang)) in invoices  # "... bokföringslagen (1999:1078)"
        assert words(retention_text(register, accounting, lang)) in invoices
        assert tag in invoices
    newsletter = page(extract_input()).by_id("system-newsletter").text()
    assert "lagen kräver" not in newsletter


def test_legal_hold_gives_the_reason_written_for_the_person() -> None:
    register = almi_with_systems()
    reason = "Fakturor ska enligt bokföringslagen sparas i sju år."
    activities = [
        a.model_copy(
            update={"erasure": ActivityErasure(exception="b", reason=Text({"sv": reason}))}
        )
        if a.id == "accounting"
        else a
        for a in register.activities
    ]
    data = replace(extract_input(), register=register.model_copy(update={"activities": activities}))
    invoices = page(data).by_id("data-accounting-invoices").text()
    assert f"Sparas eftersom lagen kräver det: {reason}" in invoices


def test_restricted_records_are_marked_and_explained() -> None:
    root = page(extract_input(lang="en"))
    cases = root.by_id("data-crm-cases")
    assert "Processing of records marked «Restricted processing» is restricted (Article 18)" in (
        cases.text()
    )
    headers = [th.text() for th in cases.iter("th") if th.attrs.get("scope") == "rowgroup"]
    assert headers == ["Record 1 of 2", "Record 2 of 2 Restricted processing"]
    assert "restricted" not in root.by_id("data-crm-persons").text().lower()


def test_other_controllers_are_named_with_their_privacy_pages() -> None:
    root = page(extract_input(lang="sv"))
    google = root.by_id("elsewhere-google-analytics")
    assert "Google är självständigt personuppgiftsansvarig" in google.text()
    assert "vänd dig direkt till Google" in google.text()
    assert any(href == "https://policies.google.com/privacy" for href, _ in google.links())
    meta = root.by_id("elsewhere-meta-pixel")
    assert any(href == "https://www.facebook.com/privacy/policy/" for href, _ in meta.links())
    # the staff's instructions are for the staff, not for the person
    assert "Användarutforskaren" not in root.text()


def test_sources_other_than_the_person_are_named() -> None:
    register = almi_with_systems()
    rows = [
        found(
            register,
            "telemarketing",
            "call_list",
            {"id": 1, "contact_name": "Karin Lindqvist", "phone": "070-123 45 67"},
        )
    ]
    processing = page(extract_input(rows)).by_id("processing").text()
    assert "Vissa uppgifter har inte samlats in från dig" in processing
    expected = ", ".join(source("sv", s) for s in (Source.SUPPLIERS, Source.PUBLIC_SOURCES))
    assert f"Telemarketing: {expected}" in processing


def test_profiling_is_stated_with_its_logic() -> None:
    register = almi_with_systems()
    none = page(extract_input()).by_id("automated").text()
    assert "ingen av behandlingarna innebär profilering" in none

    rows = [found(register, "google-analytics", "export", {"client_id": "GA1.2.345.678"})]
    automated = page(extract_input(rows, lang="en")).by_id("automated").text()
    profiling = register.activity("marketing-profiling")
    assert profiling is not None
    assert profiling.profiling_logic is not None
    assert words(profiling.profiling_logic.get("en")) in automated


def test_values_and_register_texts_are_escaped() -> None:
    register = almi_with_systems()
    rows = [found(register, "crm", "cases", {"id": 1, "body": "<script>alert(1)</script>"})]
    html = render_extract(extract_input(rows), fmt="html").decode()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_portal_links_only_with_a_base_url() -> None:
    rights = page(extract_input(base_url="https://privacy.almi.se")).by_id("rights")
    assert ("https://privacy.almi.se/privacy/request?type=erasure&lang=sv", "Begär radering") in (
        rights.links()
    )
    assert page(extract_input()).by_id("rights").links() == []


def test_a_language_the_register_lacks_falls_back_to_its_first() -> None:
    (html,) = page(extract_input(lang="de")).iter("html")
    assert html.attrs["lang"] == "sv"


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(UnknownFormatError, match="use one of: json, html, pdf"):
        render_extract(extract_input(), fmt="docx")  # type: ignore[arg-type]


# --- nothing found --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "answer"),
    [
        ("sv", "Vi hittade inga personuppgifter om dig."),
        ("en", "We found no personal data about you."),
    ],
)
def test_nothing_found_is_a_clear_answer_that_still_describes_the_processing(
    lang: str, answer: str
) -> None:
    register = almi_with_systems()
    root = page(extract_input([], lang=lang, manual=()))
    assert answer in root.by_id("intro").text()
    assert not [n for n in root.iter() if n.attrs.get("id") == "data"]
    processing = root.by_id("processing").text()
    assert [a.id for a in register.activities if words(a.name.get(lang)) not in processing] == []
    assert "imy@imy.se" in root.by_id("complaint").text()
    assert "dataskyddsombud@almi.se" in root.by_id("contact").text()

    doc = document(extract_input([], lang=lang, manual=()))
    assert doc["found"] is False
    assert doc["data"] == []
    assert [p["activity"] for p in doc["processing"]] == [a.id for a in register.activities]


# --- HTML structure -------------------------------------------------------------------------

CASES = [("sv", True), ("en", True), ("sv", False)]


@pytest.fixture(params=CASES, ids=[f"{lang}-{'found' if f else 'empty'}" for lang, f in CASES])
def extract_page(request: pytest.FixtureRequest) -> tuple[Node, str]:
    lang, found_any = request.param
    rows: list[FoundRow] | None = None if found_any else []
    return page(extract_input(rows, lang=lang, base_url="https://privacy.almi.se")), lang


def test_html_lang_charset_and_viewport(extract_page: tuple[Node, str]) -> None:
    root, lang = extract_page
    (html,) = root.iter("html")
    assert html.attrs["lang"] == lang
    assert any(m.attrs.get("charset", "").lower() == "utf-8" for m in root.iter("meta"))
    assert any(m.attrs.get("name") == "viewport" for m in root.iter("meta"))


def test_headings_start_at_h1_and_never_skip(extract_page: tuple[Node, str]) -> None:
    root, _ = extract_page
    levels = [int(h.tag[1]) for h in root.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert levels[0] == 1
    assert levels.count(1) == 1
    assert [(a, b) for a, b in itertools.pairwise(levels) if b > a + 1] == []


def test_tables_have_captions_and_scoped_headers(extract_page: tuple[Node, str]) -> None:
    root, _ = extract_page
    tables = list(root.iter("table"))
    assert len(tables) >= 3
    for table in tables:
        assert list(table.iter("caption")), "a table without <caption>"
        (thead,) = table.iter("thead")
        assert [th.attrs.get("scope") for th in thead.iter("th")] == ["col"] * len(
            list(thead.iter("th"))
        )
        body = [th for tbody in table.iter("tbody") for th in tbody.iter("th")]
        assert all(th.attrs.get("scope") in ("row", "rowgroup") for th in body)
        assert all(td.attrs.get("data-label") for td in table.iter("td"))


def test_page_is_self_contained_and_its_anchors_resolve(extract_page: tuple[Node, str]) -> None:
    root, _ = extract_page
    assert not list(root.iter("script", "iframe", "img", "object", "embed", "link"))
    assert all("src" not in node.attrs for node in root.iter())
    css = " ".join(s.text() for s in root.iter("style"))
    assert "@import" not in css
    assert not re.search(r"url\(", css)
    ids = [n.attrs["id"] for n in root.iter() if "id" in n.attrs]
    assert len(ids) == len(set(ids))
    fragments = {href[1:] for href, _ in root.links() if href.startswith("#")}
    assert fragments <= set(ids)


# --- PDF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_pdf_has_the_values(lang: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        content = render_extract(extract_input(lang=lang), fmt="pdf")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    assert content.startswith(b"%PDF-")
    text = pdf.pdf_text(content, tmp_path)
    squashed = pdf.squash(text)
    values = ["karin.lindqvist@example.se", PERSONNUMMER, "Fråga om lånet", "F-2023-0042"]
    values += ["Kvinnliga företagare Väst", "1981-12-18", "dataskyddsombud@almi.se", "imy@imy.se"]
    assert [v for v in values if pdf.squash(v) not in squashed] == []
    assert re.search(r"\b1 ?/ ?\d+\b", text)  # page numbers


# --- JSON -----------------------------------------------------------------------------------


def test_json_has_the_documented_structure() -> None:
    doc = document(extract_input(lang="en"))
    assert {"request", "controller", "data", "processing", "rights", "complaint"} <= set(doc)
    assert doc["request"] == {
        "id": "RK7M2QX9TP",
        "type": "access",
        "received_at": "2025-03-03T08:15:00+00:00",
        "due": "2025-04-03",
        "language": "en",
        "generated_at": "2025-03-04T10:00:00+00:00",
        "register_version": VERSION,
    }
    assert doc["found"] is True
    assert doc["controller"]["id"] == "almi-ab"
    assert doc["controller"]["dpo"]["email"] == "dataskyddsombud@almi.se"
    assert [(d["system"], d["collection"], len(d["rows"])) for d in doc["data"]] == [
        ("crm", "persons", 1),
        ("crm", "cases", 2),
        ("crm", "network_members", 1),
        ("newsletter", "newsletter_subscribers", 1),
        ("accounting", "invoices", 1),
    ]
    (person,) = doc["data"][0]["rows"]
    assert person["email"] == {"value": "karin.lindqvist@example.se", "category": "contact"}
    assert person["birth_date"] == {"value": "1981-12-18", "category": "demographic"}
    assert person["gender"] == {"value": None, "category": "demographic"}
    assert person["created_at"] == {"value": "2023-05-02T09:30:00+00:00", "category": None}

    invoices = doc["data"][-1]
    (invoice,) = invoices["rows"]
    assert invoice["amount"] == {"value": "12500.50", "category": None}
    assert invoice["scan"]["encoding"] == "base64"
    assert base64.b64decode(invoice["scan"]["value"]) == b"%PDF-1.4 invoice"
    assert invoices["legal_hold"]["activity"] == "accounting"
    assert invoices["legal_hold"]["rows"] == [0]
    assert "Accounting Act" in invoices["legal_hold"]["text"]
    assert invoices["restricted_rows"] == [0]
    assert doc["data"][1]["restricted_rows"] == [1]


def test_json_processing_carries_dpv_terms() -> None:
    doc = document(extract_input(lang="en"))
    processing = {p["activity"]: p for p in doc["processing"]}
    assert set(processing) == set(in_use(almi_with_systems(), ["crm", "newsletter", "accounting"]))
    bases = {a: (p["legal_basis"]["dpv"], p["legal_basis"]["gdpr"]) for a, p in processing.items()}
    assert bases["customer-service"] == ("dpv:LegitimateInterest", "eu-gdpr:A6-1-f")
    assert bases["newsletter"] == ("dpv:Consent", "eu-gdpr:A6-1-a")
    assert bases["accounting"] == ("dpv:LegalObligation", "eu-gdpr:A6-1-c")
    assert "dpv:DirectMarketing" in processing["direct-marketing"]["dpv_purposes"]
    assert processing["newsletter"]["sources"][0]["dpv"] == "dpv:DataSubjectDataSource"
    assert processing["accounting"]["systems"] == ["accounting"]
    recipients = {r["id"]: r for r in doc["recipients"]}
    assert recipients["system-suppliers"]["transfer"]["gdpr"] == [
        "eu-gdpr:A45-3",
        "eu-gdpr:A46-2-c",
    ]
    rights = {r["id"]: r["gdpr"] for r in doc["rights"]}
    assert {
        "rectification": "eu-gdpr:A16",
        "erasure": "eu-gdpr:A17",
        "restriction": "eu-gdpr:A18",
        "objection": "eu-gdpr:A21",
    }.items() <= rights.items()
    assert doc["complaint"]["email"] == "imy@imy.se"
    assert doc["complaint"]["authority"] == "Swedish Authority for Privacy Protection"
    google = next(o for o in doc["other_controllers"] if o["system"] == "google-analytics")
    assert google["privacy_url"] == "https://policies.google.com/privacy"
    assert google["independent_controller"] is True


# --- values ---------------------------------------------------------------------------------

STOCKHOLM_WINTER = dt.timezone(dt.timedelta(hours=1))


@pytest.mark.parametrize(
    ("value", "lang", "shown"),
    [
        (None, "sv", "\N{EM DASH}"),
        ("", "en", "\N{EM DASH}"),
        (True, "sv", "ja"),
        (False, "en", "no"),
        (0, "en", "0"),
        (dt.date(2024, 2, 29), "sv", "2024-02-29"),
        (dt.datetime(2024, 2, 29, 13, 5, tzinfo=STOCKHOLM_WINTER), "sv", "2024-02-29 12:05 UTC"),
        (dt.datetime(2024, 2, 29, 13, 5, 59), "en", "2024-02-29 13:05"),  # noqa: DTZ001 - naive
        ("2024-02-29T13:05:00+00:00", "en", "2024-02-29 13:05 UTC"),  # came through JSON
        (Decimal("1234.50"), "sv", "1234,50"),
        (Decimal("1234.50"), "en", "1234.50"),
        (b"\x00\x01\x02", "sv", "(binärt, 3 byte)"),
        (b"\x00\x01\x02", "en", "(binary, 3 bytes)"),
        ({"a": [1, "å"]}, "en", '{"a": [1, "å"]}'),
        ("Box 70396", "sv", "Box 70396"),
    ],
)
def test_values_are_shown_as_a_person_reads_them(value: object, lang: str, shown: str) -> None:
    assert display_value(value, lang) == shown


@pytest.mark.parametrize(
    ("value", "encoded", "encoding"),
    [
        (None, None, None),
        (dt.date(2024, 2, 29), "2024-02-29", None),
        (dt.datetime(2024, 2, 29, 13, 5, tzinfo=dt.UTC), "2024-02-29T13:05:00+00:00", None),
        (Decimal("0.10"), "0.10", None),
        (float("nan"), "nan", None),
        (b"hej", "aGVq", "base64"),
        (memoryview(b"hej"), "aGVq", "base64"),
        ({"when": dt.date(2024, 1, 1), "raw": b"hej"}, {"when": "2024-01-01", "raw": "aGVq"}, None),
    ],
)
def test_values_serialise_to_json_safely(
    value: object, encoded: object, encoding: str | None
) -> None:
    assert json_value(value) == (encoded, encoding)
    json.dumps(encoded, allow_nan=False)


def test_rows_as_the_executor_stores_them() -> None:
    # The executor keeps rows as JSON between its steps (timestamps become ISO strings) and
    # passes the collection's whole `fields` as categories, columns the row lacks included.
    register = almi_with_systems()
    spec = find_collection(register, "newsletter", "newsletter_subscribers")
    assert spec is not None
    values: dict[str, object] = {
        "email": "karin@example.se",
        "subscribed_at": "2022-11-20T07:00:00+00:00",
    }
    row = FoundRow("newsletter", "newsletter_subscribers", values, dict(spec.fields))
    root = page(extract_input([row], lang="en"))
    assert "2022-11-20 07:00 UTC" in root.by_id("data").text()
    categories = root.by_id("categories").text()
    assert "Contact details" in categories
    assert "Identity data" not in categories  # name, signup_ip, visitor_id: not found
