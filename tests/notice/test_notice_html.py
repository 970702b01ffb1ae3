"""The HTML notice: complete, in the seed's order, accessible and self-contained."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest

from ombud.notice import render_notice
from ombud.notice.labels import default_right
from ombud.register import Register
from ombud.register.model import Right

Node = Any  # conftest.Node: the tree the ``parse`` fixture builds
Parse = Callable[[str | bytes], Node]

#: The seed notice's sections, in its order (ids of the page's sections).
SEED_ORDER = [
    "intro",
    "categories",
    "legitimate-interest",
    "retention",
    "consent",
    "disclosure",
    "updates",
    "security",
    "rights",
    "contact",
    "other-notices",
    "dates",
]
#: The seed's Swedish headings (OCR corrected), in its order.
SEED_HEADINGS_SV = [
    "Personuppgiftskategorier och exempel på personuppgifter",
    "Almis hantering av personuppgifter",
    "Så här länge sparar Almi dina personuppgifter",
    "Behandlingar där personuppgifter samlas in med samtycke som rättslig grund",
    "Utlämnande av personuppgifter",
    "Uppdatering av information",
    "Skydd för personuppgifter",
    "Dina rättigheter i fråga om dataskydd",
    "Kontakta Almi eller Integritetsskyddsmyndigheten",
    "Andra behandlingar och var du hittar information",
]
#: The seed's activities, as it names them.
SEED_ACTIVITIES_SV = [
    "Mäta kundnöjdhet",
    "Service vid kontakt",
    "Statistik",
    "Direkt marknadsföring",
    "Bokar möte via webben",
    "Telemarketing",
    "Nyhetsbrevsanmälan via hemsida",
    "Analys av hemsida",
    "Nätverk",
    "Marknadsföring",
]
CONTACTS = [
    "dataskyddsombud@almi.se",
    "Almi AB, Dataskyddsombud, Box 70396, 107 24 Stockholm",
    "imy@imy.se",
    "Integritetsskyddsmyndigheten, Box 8114, 104 20 Stockholm",
]


def page(register: Register, lang: str, parse: Parse, **options: str) -> Node:
    return parse(render_notice(register, lang=lang, fmt="html", **options))


def right_title(register: Register, right: Right, lang: str) -> str:
    written = register.notice.rights.get(right)
    if written is not None and written.title is not None:
        return written.title.get(lang)
    return default_right(lang, right).title.format(org=register.organisation.name)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_almi_notice_names_everything(almi: Register, parse: Parse, lang: str) -> None:
    text = page(almi, lang, parse).text()
    expected = [a.name.get(lang) for a in almi.activities]
    expected += [c.name.get(lang) for c in almi.categories.values()]
    expected += [r.name.get(lang) for r in almi.recipients.values()]
    expected += ["Google", "Meta", "Bing", "LinkedIn"]
    expected += [right_title(almi, right, lang) for right in Right]
    expected += [*CONTACTS, "2024-07-02", "2024-07-05"]
    expected += [entry.text.get(lang) for entry in almi.notice.history]
    expected += [o.area.get(lang) for o in almi.notice.other_notices]
    missing = [e for e in expected if " ".join(e.split()) not in text]
    assert not missing


def test_almi_swedish_notice_has_the_seed_names(almi: Register, parse: Parse) -> None:
    text = page(almi, "sv", parse).text()
    assert [n for n in SEED_ACTIVITIES_SV if n not in text] == []
    assert "2024-07-02: Omstrukturering och tydliggörande kring behandlingar" in text


def test_sections_follow_the_seed_order(almi: Register, parse: Parse) -> None:
    root = page(almi, "sv", parse)
    ids = [n.attrs["id"] for n in root.iter() if n.attrs.get("id") in SEED_ORDER]
    assert ids == SEED_ORDER
    headings = [h.text() for h in root.iter("h2")]
    assert [h for h in headings if h in SEED_HEADINGS_SV] == SEED_HEADINGS_SV
    # the quick answers come first, before the table of contents and the sections
    assert headings[:2] == ["Snabbsvar", "Innehåll"]


def test_dates_are_at_the_top_and_in_the_footer(almi: Register, parse: Parse) -> None:
    root = page(almi, "en", parse, version="0123456789abcdef" * 4)
    for part in (root.by_id("intro"), root.by_id("dates")):
        assert "2024-07-02" in part.text()
        assert "2024-07-05" in part.text()
    assert "Version 0123456789ab" in root.by_id("dates").text()


# --- structure -------------------------------------------------------------------------------

CASES = [("almi", "sv"), ("almi", "en"), ("acme", "en"), ("acme", "sv")]


@pytest.fixture(params=CASES, ids=[f"{r}-{lang}" for r, lang in CASES])
def document(request: pytest.FixtureRequest, parse: Parse) -> tuple[Node, str]:
    name, lang = request.param
    register: Register = request.getfixturevalue(name)
    return page(register, lang, parse, base_path="/portal"), lang


def test_html_lang_and_viewport(document: tuple[Node, str]) -> None:
    root, lang = document
    (html,) = root.iter("html")
    assert html.attrs["lang"] == lang
    viewports = [m for m in root.iter("meta") if m.attrs.get("name") == "viewport"]
    assert len(viewports) == 1
    assert "width=device-width" in viewports[0].attrs["content"]
    assert any(m.attrs.get("charset", "").lower() == "utf-8" for m in root.iter("meta"))


def test_headings_start_at_h1_and_never_skip(document: tuple[Node, str]) -> None:
    root, _ = document
    levels = [int(h.tag[1]) for h in root.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert levels[0] == 1
    assert levels.count(1) == 1
    skips = [(a, b) for a, b in itertools.pairwise(levels) if b > a + 1]
    assert not skips


def test_tables_have_captions_and_column_headers(document: tuple[Node, str]) -> None:
    root, _ = document
    tables = list(root.iter("table"))
    assert len(tables) >= 5
    for table in tables:
        assert list(table.iter("caption")), "a table without <caption>"
        (thead,) = table.iter("thead")
        headers = list(thead.iter("th"))
        assert headers
        assert all(th.attrs.get("scope") == "col" for th in headers)
        # every data cell names its column, for the stacked layout on small screens
        assert all(td.attrs.get("data-label") for td in table.iter("td"))


def test_page_is_self_contained(document: tuple[Node, str]) -> None:
    root, _ = document
    assert not list(root.iter("script", "iframe", "img", "object", "embed"))
    for node in root.iter():
        assert "src" not in node.attrs
    assert not [n for n in root.iter("link") if n.attrs.get("rel") != "canonical"]
    css = " ".join(s.text() for s in root.iter("style"))
    assert "@import" not in css
    assert not re.search(r"url\(", css)
    assert "@font-face" not in css


def test_ids_are_unique_and_every_anchor_resolves(document: tuple[Node, str]) -> None:
    root, _ = document
    ids = [n.attrs["id"] for n in root.iter() if "id" in n.attrs]
    assert len(ids) == len(set(ids))
    fragments = {href[1:] for href, _ in root.links() if href.startswith("#")}
    assert fragments <= set(ids)
    toc = root.by_id("toc")
    targets = [href[1:] for href, _ in toc.links()]
    assert targets[0] == "quick-answers"
    assert {"categories", "rights", "contact"} <= set(targets)


def test_language_switcher_links_every_other_language(document: tuple[Node, str]) -> None:
    root, lang = document
    (nav,) = [n for n in root.iter("nav") if "languages" in n.attrs.get("class", "")]
    other = "en" if lang == "sv" else "sv"
    assert (f"/portal/privacy?lang={other}", {"sv": "Svenska", "en": "English"}[other]) in (
        nav.links()
    )
    current = [n for n in nav.iter("span") if n.attrs.get("aria-current") == "true"]
    assert current[0].attrs["lang"] == lang


# --- the quick answers -----------------------------------------------------------------------


def test_quick_answers_say_what_happens_to_my_email_and_how_to_stop_it(
    acme: Register, parse: Parse
) -> None:
    quick = page(acme, "en", parse, base_path="/portal").by_id("quick-answers")
    data = quick.by_id("qa-data")
    assert "What do you do with my e-mail address" in data.text()
    # the category holding e-mail addresses (found through the shop's identity column)
    assert "Contact details" in data.text()
    assert "Order data" not in data.text()
    links = data.links()
    assert ("/portal/privacy/consent?lang=en", "Withdraw consent") in links
    assert (
        "/portal/privacy/request?type=objection&activity=direct-marketing&lang=en",
        "Object \N{EN DASH} we stop at once",
    ) in links
    assert "Needed for our contract with you" in data.text()  # a contract: no link
    assert ("#activity-newsletter", "Newsletter") in links

    marketing = quick.by_id("qa-marketing").text()
    assert "Newsletter" in marketing
    assert "Offers | direct marketing" in marketing
    assert "Order handling" not in marketing

    assert ("mailto:dpo@acme.example", "dpo@acme.example") in quick.by_id("qa-dpo").links()
    assert ("/portal/privacy/request?lang=en", "Make a request") in (
        quick.by_id("qa-request").links()
    )


def test_quick_answers_give_every_activity_its_basis_and_retention(
    acme: Register, parse: Parse
) -> None:
    quick = page(acme, "en", parse).by_id("quick-answers")
    (table,) = quick.iter("table")
    rows = {next(row.iter("th")).text(): row.text() for row in list(table.iter("tr"))[1:]}
    assert set(rows) == {a.name.get("en") for a in acme.activities}
    assert "24 months from your last activity" in rows["Offers | direct marketing"]
    assert "3 years from when the case was closed" in rows["Order handling"]
    assert "Until you withdraw your consent" in rows["Newsletter"]
    assert "The law requires it" in rows["Bookkeeping"]
    # an example period is not published: the general statement stands in for it
    assert "7 years" not in rows["Bookkeeping"]
    assert "Object to this processing" in rows["Official statistics"]  # public task


def test_almi_quick_answers_point_to_unsubscribe_and_objection(
    almi: Register, parse: Parse
) -> None:
    data = page(almi, "sv", parse).by_id("qa-data")
    assert "Kontaktuppgifter" in data.text()
    hrefs = [href for href, _ in data.links()]
    assert "/privacy/consent?lang=sv" in hrefs
    assert "/privacy/request?type=objection&activity=direct-marketing&lang=sv" in hrefs
    using_contact = [a.name.get("sv") for a in almi.activities if "contact" in a.categories]
    assert [name for name in using_contact if name not in data.text()] == []


# --- texts, defaults and escaping ------------------------------------------------------------


def test_builtin_wording_fills_what_the_register_leaves_out(acme: Register, parse: Parse) -> None:
    root = page(acme, "en", parse)
    rights = root.by_id("rights").text()
    assert "Get a copy of your data" in rights  # the register's own title
    assert "Access to your personal data" not in rights
    assert "Objection to processing based on legitimate interest" in rights  # the default
    assert "You always have the right to object to direct marketing" in rights
    assert "appropriate administrative, technical" in root.by_id("security").text()
    assert "Acme AB and Acme Labs AB are joint controllers" in root.by_id("intro").text()
    assert "standard contractual clauses" in root.by_id("disclosure").text()
    other = root.by_id("other-legal-bases").text()
    assert "Order handling" in other
    assert "Contract" in other


def test_every_right_links_to_its_request(acme: Register, parse: Parse) -> None:
    root = page(acme, "sv", parse, base_path="/p")
    for right in Right:
        section = root.by_id(f"right-{right.value.replace('_', '-')}")
        ((href, _),) = section.links()
        if right is Right.WITHDRAW_CONSENT:
            assert href == "/p/privacy/consent?lang=sv"
        else:
            assert href == f"/p/privacy/request?type={right.value.replace('_', '-')}&lang=sv"


def test_missing_translation_falls_back_to_the_first_language(acme: Register, parse: Parse) -> None:
    # "Mailer Inc" is a plain string: English, the register's first language
    assert "Mailer Inc" in page(acme, "sv", parse).by_id("disclosure").text()


def test_register_text_is_escaped(acme: Register) -> None:
    html = render_notice(acme, lang="en", fmt="html").decode()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Offers by post" in html


def test_history_is_newest_first_and_links_earlier_versions(acme: Register, parse: Parse) -> None:
    updates = page(acme, "en", parse, base_path="/portal").by_id("updates")
    text = updates.text()
    assert text.index("2025-01-15: Bookkeeping added.") < text.index("2024-06-01: First version.")
    assert ("/portal/privacy/history?lang=en", "Earlier versions of this information") in (
        updates.links()
    )
