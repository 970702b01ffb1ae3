"""Registers and an HTML tree for the notice tests.

``almi`` is the shipped example (examples/almi/ombud.yaml); ``acme`` is a small
register of our own that exercises what Almi's does not: every legal basis, a
transfer to a third country, a special category, missing notice texts (so the
built-in wording shows), English as the first language and markup in a text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ombud.register import Register, load, loads

ALMI = Path(__file__).resolve().parents[2] / "examples" / "almi" / "ombud.yaml"

ACME = """\
version: 1
languages: [en, sv]
organisation:
  name: Acme
  controllers:
    - {id: acme, name: Acme AB, lead: true, orgnr: "556000-0001", email: privacy@acme.example}
    - {id: acme-labs, name: Acme Labs AB}
  dpo:
    email: dpo@acme.example
    postal: "Acme AB, DPO, Box 1, 111 11 Stockholm"
    phone: "+46 8 123 45 67"
  authority:
    name: {en: Swedish Authority for Privacy Protection, sv: Integritetsskyddsmyndigheten}
    email: imy@imy.se
    postal: "Integritetsskyddsmyndigheten, Box 8114, 104 20 Stockholm"
categories:
  orders:
    name: {en: Order data, sv: Orderuppgifter}
    examples: {en: "Items, amounts", sv: "Varor, belopp"}
  contact:
    name: {en: Contact details, sv: Kontaktuppgifter}
    examples: {en: "Address, phone", sv: "Adress, telefon"}
  health:
    name: {en: Health data, sv: Hälsouppgifter}
    special: true
    art9_condition: c
subjects:
  customer: {name: {en: Customers, sv: Kunder}}
recipients:
  mailer:
    name: Mailer Inc
    role: processor
    country: US
    transfer: {mechanism: sccs, reference: "Decision (EU) 2021/914"}
    privacy_url: https://mailer.example/privacy
  tax:
    name: {en: Swedish Tax Agency, sv: Skatteverket}
    role: authority
    country: SE
activities:
  - id: newsletter
    name: {en: Newsletter, sv: Nyhetsbrev}
    purpose: {en: Sending the newsletter, sv: Att skicka nyhetsbrevet}
    legal_basis: consent
    categories: [contact]
    subjects: [customer]
    sources: [data_subject]
    recipients: [mailer]
    retention: {until: consent_withdrawn}
    consent: {purpose: newsletter}
  - id: direct-marketing
    name: {en: "Offers | direct marketing", sv: Direktmarknadsföring}
    purpose: {en: "<script>alert(1)</script> Offers by post", sv: Erbjudanden per post}
    legal_basis: legitimate_interest
    legitimate_interest: {en: Reaching customers with offers, sv: Att nå kunder med erbjudanden}
    categories: [contact]
    subjects: [customer]
    sources: [public_sources]
    direct_marketing: true
    retention: {period: P24M, from: last_activity}
  - id: order-handling
    name: {en: Order handling, sv: Orderhantering}
    purpose: {en: Delivering what you ordered, sv: Att leverera det du beställt}
    legal_basis: contract
    categories: [contact, orders]
    subjects: [customer]
    sources: [data_subject]
    retention: {period: P3Y, from: case_closed}
  - id: bookkeeping
    name: {en: Bookkeeping, sv: Bokföring}
    purpose: {en: Keeping the accounts the law requires, sv: Bokföring enligt lag}
    legal_basis: legal_obligation
    categories: [orders]
    recipients: [tax]
    retention: {period: P7Y, from: collected, example: true}
  - id: first-aid
    name: {en: First aid at events, sv: Första hjälpen vid evenemang}
    purpose: {en: Helping someone who is hurt, sv: Att hjälpa den som skadat sig}
    legal_basis: vital_interest
    categories: [health]
  - id: census
    name: {en: Official statistics, sv: Officiell statistik}
    purpose: {en: Reporting to Statistics Sweden, sv: Rapportering till SCB}
    legal_basis: public_task
    categories: [orders]
systems:
  - id: shop
    name: Shop database
    connector: sql
    url: env:SHOP_DATABASE_URL
    activities: [order-handling, newsletter]
    collections:
      customers:
        primary_key: id
        identity: {email: mail}
        fields: {mail: contact, basket: orders}
notice:
  updated: 2025-01-15
  published: 2025-01-20
  rights:
    access:
      title: {en: Get a copy of your data, sv: Få en kopia av dina uppgifter}
  history:
    - date: 2024-06-01
      text: {en: First version., sv: Första versionen.}
    - date: 2025-01-15
      text: {en: Bookkeeping added., sv: Bokföring tillagd.}
  other_notices:
    - area: {en: Job applications, sv: Jobbansökningar}
      where: {en: In the recruitment system, sv: I rekryteringssystemet}
      url: https://jobs.acme.example
"""


@pytest.fixture(scope="session")
def almi() -> Register:
    """Almi's register, the shipped example."""
    return load(ALMI).register


@pytest.fixture(scope="session")
def acme() -> Register:
    """A small register of the tests' own."""
    return loads(ACME, "acme.yaml").register


# --- a small HTML tree, built with the standard library --------------------------------------

VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)
BLOCKS = frozenset(
    {
        "address",
        "article",
        "br",
        "caption",
        "div",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "section",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    def iter(self, *tags: str) -> Iterator[Node]:
        """This node and its descendants in document order, optionally only ``tags``."""
        if not tags or self.tag in tags:
            yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter(*tags)

    def text(self) -> str:
        """The text inside as a reader sees it: blocks apart, whitespace collapsed."""
        parts: list[str] = []

        def walk(node: Node) -> None:
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                elif child.tag not in ("style", "script"):
                    block = child.tag in BLOCKS
                    parts.append(" " if block else "")
                    walk(child)
                    parts.append(" " if block else "")

        walk(self)
        return " ".join("".join(parts).split())

    def by_id(self, element_id: str) -> Node:
        found = [n for n in self.iter() if n.attrs.get("id") == element_id]
        assert len(found) == 1, f"expected one element with id={element_id!r}, found {len(found)}"
        return found[0]

    def links(self) -> list[tuple[str, str]]:
        """(href, text) of every <a> inside."""
        return [(a.attrs.get("href", ""), a.text()) for a in self.iter("a")]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self.current.tag != tag:
            self.errors.append(f"</{tag}> closes <{self.current.tag}>")
            return
        assert self.current.parent is not None
        self.current = self.current.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse_html(page: str | bytes) -> Node:
    """The document's tree; fails unless every element is closed in order."""
    builder = _Builder()
    builder.feed(page.decode("utf-8") if isinstance(page, bytes) else page)
    builder.close()
    assert not builder.errors, builder.errors[:5]
    assert builder.current is builder.root, f"<{builder.current.tag}> is never closed"
    return builder.root


@pytest.fixture(scope="session")
def parse() -> Callable[[str | bytes], Node]:
    return parse_html
