"""The register extract (registerutdrag, GDPR Art. 15): a person's data and what goes with it.

A pure function from plain data to bytes. The request executor gathers the rows
found in the systems into an :class:`ExtractInput`; :func:`render_extract` turns
it into HTML, PDF or JSON in the person's language. Every statement about the
processing (purposes, legal bases in plain words, retention, recipients,
transfers, rights, contacts) comes from :func:`ombud.notice.content.build`, so
the extract words them exactly as the published notice does.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Literal

from jinja2 import Environment, PackageLoader, PrefixLoader, StrictUndefined

from ombud.notice import labels
from ombud.notice.content import (
    ActivityView,
    CategoryView,
    ContactView,
    Links,
    RecipientView,
    RightView,
    build,
    may_transfer,
    placeholders,
)
from ombud.notice.errors import UnknownFormatError
from ombud.register.model import (
    Activity,
    Collection,
    Controller,
    RecipientRole,
    Register,
    Right,
    Source,
    System,
)
from ombud.register.text import Text

__all__ = [
    "EXTRACT_FORMATS",
    "ExtractContent",
    "ExtractFormat",
    "ExtractInput",
    "FoundRow",
    "build_extract",
    "display_value",
    "json_value",
    "render_extract",
]

ExtractFormat = Literal["json", "html", "pdf"]
EXTRACT_FORMATS: tuple[ExtractFormat, ...] = ("json", "html", "pdf")

#: Shown for a value that is None or empty.
EMPTY = "\N{EM DASH}"

# --- input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundRow:
    """One row (record, log line) found about the person in one collection of one system."""

    system_id: str
    collection: str
    values: dict[str, object]
    #: column -> category id, from the collection's ``fields`` in the register
    categories: dict[str, str]
    #: Kept under a legal hold (the collection's ``legal_hold`` activity): never erased.
    legal_hold: bool = False
    #: Processing restricted (Art. 18): only stored.
    restricted: bool = False


@dataclass(frozen=True)
class ExtractInput:
    """Everything an extract or a portability package is made from."""

    request_id: str
    received_at: dt.datetime
    due: dt.date
    #: The person's language; the register's first language if the register lacks it.
    language: str
    controller_id: str
    register: Register
    #: The register version in force at receipt (its content hash).
    register_version: str
    rows: list[FoundRow]
    #: Systems a person answers for (``connector: manual``), e.g. Google, Meta.
    manual_systems: list[str]
    generated_at: dt.datetime
    #: ``OMBUD_BASE_URL``: links into the portal (rights, notice); none when empty.
    base_url: str = ""


# --- wording ----------------------------------------------------------------------------------

#: The extract's own wording; the notice's labels (``col_purpose``, ``h_rights`` ...) add to it.
LABELS: dict[str, dict[str, str]] = {
    "sv": {
        "x_title": "Registerutdrag från {org}",
        "x_intro": "Här är de personuppgifter om dig som {org} behandlar, och information om "
        "varför och hur de behandlas. Utdraget är svaret på din begäran om tillgång enligt "
        "artikel 15 i dataskyddsförordningen. Det är kostnadsfritt.",
        "x_none": "Vi hittade inga personuppgifter om dig.",
        "x_none_text": "{org} har sökt efter personuppgifter om dig med de uppgifter du lämnade "
        "i din begäran och hittade inga. Nedan beskrivs ändå hur {org} behandlar "
        "personuppgifter i allmänhet, och vilka rättigheter du har.",
        "x_request": "Om din begäran",
        "x_request_id": "Ärendenummer",
        "x_received": "Begäran mottogs",
        "x_due": "Svar senast",
        "x_generated": "Utdraget skapades",
        "x_controller": "Personuppgiftsansvarig",
        "x_register_version": "Registerversion",
        "x_notice": "Läs hela informationen om hur {org} behandlar personuppgifter",
        "x_h_data": "Personuppgifter om dig",
        "x_data_intro": "Uppgifterna är grupperade efter system och tabell. För varje post "
        "visas uppgiften, dess värde och vilken kategori av personuppgifter den hör till.",
        "x_used_for": "Används för",
        "x_record": "Post {n} av {total}",
        "x_col_field": "Uppgift",
        "x_col_value": "Värde",
        "x_col_category": "Kategori",
        "x_held": "Sparas enligt lag",
        "x_restricted": "Begränsad behandling",
        "x_hold_note": "Sparas eftersom lagen kräver det: {purpose} Lagringstid: {retention} "
        "Uppgifterna raderas inte förrän lagringstiden har gått ut; fram till dess används de "
        "bara för att uppfylla lagens krav.",
        "x_hold_generic": "Sparas eftersom lagen kräver det. Uppgifterna raderas inte förrän "
        "lagringstiden har gått ut; fram till dess används de bara för att uppfylla lagens krav.",
        "x_restricted_note": "Behandlingen av poster markerade {tag} är begränsad (artikel 18): "
        "utöver att lagra dem får {org} bara behandla dem med ditt samtycke, för att "
        "fastställa, göra gällande eller försvara rättsliga anspråk, för att skydda någon annans "
        "rättigheter eller av skäl som rör ett viktigt allmänintresse.",
        "x_binary": "(binärt, {n} byte)",
        "x_h_elsewhere": "Uppgifter hos andra personuppgiftsansvariga",
        "x_elsewhere_intro": "Några av {org_gen} behandlingar sker med tjänster från företag "
        "som själva ansvarar för sin behandling av uppgifter om dig. Vilka uppgifter de har kan "
        "bara de själva svara på.",
        "x_independent": "{recipient} är självständigt personuppgiftsansvarig för sin egen "
        "behandling av uppgifter om dig. Vill du veta vilka uppgifter {recipient} har om dig, "
        "eller använda dina rättigheter där, vänd dig direkt till {recipient}.",
        "x_manual": "{system} kontrolleras av en medarbetare hos {org}. Uppgifter som hittas "
        "där finns med i detta utdrag.",
        "x_h_categories": "Kategorier av personuppgifter",
        "x_categories_found": "Uppgifterna om dig hör till följande kategorier.",
        "x_categories_all": "{org} behandlar följande kategorier av personuppgifter.",
        "x_h_processing": "Varför {org} behandlar uppgifterna",
        "x_processing_found": "Uppgifterna om dig används i följande behandlingar. För var och "
        "en anges ändamålet, den rättsliga grunden, varifrån uppgifterna kommer och hur länge "
        "de sparas.",
        "x_processing_all": "{org} behandlar personuppgifter i följande behandlingar.",
        "x_cap_processing": "Ändamål, rättslig grund, källa och lagringstid",
        "x_not_from_you": "Vissa uppgifter har inte samlats in från dig utan kommer från andra "
        "källor:",
        "x_h_automated": "Automatiserade beslut och profilering",
        "x_no_automated": "{org} fattar inga beslut om dig som enbart grundar sig på "
        "automatiserad behandling, och ingen av behandlingarna innebär profilering.",
        "x_automated": "{org} fattar inga beslut om dig som enbart grundar sig på automatiserad "
        "behandling. Följande behandlingar innebär profilering:",
        "x_h_recipients": "Mottagare av uppgifterna",
        "x_recipients_intro": "Uppgifterna kan lämnas ut till följande mottagare.",
        "x_no_recipients": "Uppgifterna lämnas inte ut till någon annan.",
        "x_rights_intro": "Du har också följande rättigheter. Det kostar inget att använda dem.",
        "x_h_contact": "Frågor och klagomål",
        "x_contact_dpo": "Har du frågor om utdraget eller om hur {org} behandlar dina "
        "personuppgifter, kontakta {org_gen} dataskyddsombud.",
        "x_contact_org": "Har du frågor om utdraget eller om hur {org} behandlar dina "
        "personuppgifter, kontakta {org}.",
        "x_complaint": "Du har rätt att lämna klagomål till {authority} om du anser att {org} "
        "behandlar dina personuppgifter i strid med dataskyddsförordningen.",
        "x_footer": "Utdraget bygger på registerversion",
    },
    "en": {
        "x_title": "Your personal data at {org} (register extract)",
        "x_intro": "Here is the personal data about you that {org} processes, with information "
        "about why and how it is processed. This extract answers your request for access under "
        "Article 15 of the General Data Protection Regulation. It is free of charge.",
        "x_none": "We found no personal data about you.",
        "x_none_text": "{org} has searched for personal data about you with the details you gave "
        "in your request and found none. Below is still how {org} processes personal data in "
        "general, and the rights you have.",
        "x_request": "About your request",
        "x_request_id": "Case number",
        "x_received": "Request received",
        "x_due": "Answer due by",
        "x_generated": "Extract created",
        "x_controller": "Controller",
        "x_register_version": "Register version",
        "x_notice": "Read the full information about how {org} processes personal data",
        "x_h_data": "Personal data about you",
        "x_data_intro": "The data is grouped by system and table. Each record shows the item, "
        "its value and the category of personal data it belongs to.",
        "x_used_for": "Used for",
        "x_record": "Record {n} of {total}",
        "x_col_field": "Item",
        "x_col_value": "Value",
        "x_col_category": "Category",
        "x_held": "Kept by law",
        "x_restricted": "Restricted processing",
        "x_hold_note": "Kept because the law requires it: {purpose} Retention: {retention} The "
        "data is not erased before the retention period ends; until then it is used only to "
        "meet the legal requirement.",
        "x_hold_generic": "Kept because the law requires it. The data is not erased before the "
        "retention period ends; until then it is used only to meet the legal requirement.",
        "x_restricted_note": "Processing of records marked {tag} is restricted (Article 18): "
        "apart from storing them, {org} may process them only with your consent, to establish, "
        "exercise or defend legal claims, to protect the rights of another person or for "
        "reasons of important public interest.",
        "x_binary": "(binary, {n} bytes)",
        "x_h_elsewhere": "Data held by other controllers",
        "x_elsewhere_intro": "Some of {org_gen} processing uses services of companies that are "
        "themselves responsible for their processing of data about you. Only they can say "
        "what data they hold.",
        "x_independent": "{recipient} is an independent controller for its own processing of "
        "data about you. To find out what data {recipient} holds about you, or to exercise "
        "your rights there, contact {recipient} directly.",
        "x_manual": "{system} is checked by a member of staff at {org}. Data found there is "
        "included in this extract.",
        "x_h_categories": "Categories of personal data",
        "x_categories_found": "The data about you belongs to the following categories.",
        "x_categories_all": "{org} processes the following categories of personal data.",
        "x_h_processing": "Why {org} processes the data",
        "x_processing_found": "The data about you is used in the following processing "
        "activities. Each shows its purpose, legal basis, where the data comes from and how "
        "long it is kept.",
        "x_processing_all": "{org} processes personal data in the following activities.",
        "x_cap_processing": "Purpose, legal basis, source and retention",
        "x_not_from_you": "Some data was not collected from you but comes from other sources:",
        "x_h_automated": "Automated decisions and profiling",
        "x_no_automated": "{org} takes no decisions about you based solely on automated "
        "processing, and none of the processing involves profiling.",
        "x_automated": "{org} takes no decisions about you based solely on automated "
        "processing. The following processing involves profiling:",
        "x_h_recipients": "Recipients of the data",
        "x_recipients_intro": "The data may be disclosed to the following recipients.",
        "x_no_recipients": "The data is not disclosed to anyone else.",
        "x_rights_intro": "You also have the following rights. Using them is free of charge.",
        "x_h_contact": "Questions and complaints",
        "x_contact_dpo": "For questions about this extract or about how {org} processes your "
        "personal data, contact {org_gen} data protection officer.",
        "x_contact_org": "For questions about this extract or about how {org} processes your "
        "personal data, contact {org}.",
        "x_complaint": "You have the right to lodge a complaint with {authority} if you "
        "consider that {org} processes your personal data in breach of the General Data "
        "Protection Regulation.",
        "x_footer": "This extract is based on register version",
    },
}


def language(data: ExtractInput) -> str:
    """The person's language if the register has it, else the register's first language."""
    register = data.register
    return data.language if data.language in register.languages else register.language


def extract_labels(register: Register, lang: str) -> dict[str, str]:
    """The extract's wording in ``lang`` with ``{org}``, ``{org_gen}``, ``{authority}`` filled."""
    values = placeholders(register, lang)
    return {key: labels.fill(text, values) for key, text in LABELS[labels.builtin(lang)].items()}


# --- values -----------------------------------------------------------------------------------

_BINARY = (bytes, bytearray, memoryview)
SUBJECT = Source.DATA_SUBJECT
#: An ISO 8601 date and time as ``isoformat()`` writes it.
ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$"
)


def json_value(value: object) -> tuple[object, str | None]:
    """``value`` as JSON can hold it, and its encoding: ``"base64"`` for bytes, else None.

    Dates and times become ISO 8601 strings, decimals strings (exact), anything else
    unknown its ``str()``.
    """
    if isinstance(value, _BINARY):
        return base64.b64encode(bytes(value)).decode("ascii"), "base64"
    return plain(value), None


def plain(value: object) -> object:  # noqa: PLR0911 - one return per kind of value
    """A JSON-safe copy of ``value`` (bytes nested in lists or maps become base64)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, _BINARY):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return str(value)


def display_value(value: object, lang: str) -> str:  # noqa: PLR0911 - one return per kind of value
    """``value`` as a person reads it: dates as ISO dates, None as an em dash."""
    if value is None or value == "":
        return EMPTY
    words = labels.UI[labels.builtin(lang)]
    if isinstance(value, bool):
        return words["yes"] if value else words["no"]
    if isinstance(value, str) and ISO_DATETIME.match(value):
        # a timestamp that went through JSON on its way here: shown as a datetime would be
        try:
            return display_value(dt.datetime.fromisoformat(value), lang)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.utcoffset() is not None:
            return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return f"{value:%H:%M}"
    if isinstance(value, _BINARY):
        size = value.nbytes if isinstance(value, memoryview) else len(value)
        return labels.fill(LABELS[labels.builtin(lang)]["x_binary"], {"n": str(size)})
    if isinstance(value, Decimal | float):
        text = str(value)
        return text.replace(".", ",") if labels.builtin(lang) == "sv" else text
    if isinstance(value, Enum):
        return display_value(value.value, lang)
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return json.dumps(plain(value), ensure_ascii=False)
    return str(value)


def column_label(column: str) -> str:
    """``first_name`` -> ``First name``."""
    words = re.sub(r"[_\s]+", " ", column).strip()
    return words[:1].upper() + words[1:] if words else column


# --- the register, row by row -----------------------------------------------------------------


def find_system(register: Register, system_id: str) -> System | None:
    return next((s for s in register.systems if s.id == system_id), None)


def find_collection(register: Register, system_id: str, name: str) -> Collection | None:
    system = find_system(register, system_id)
    return system.collections.get(name) if system is not None else None


def system_activities(register: Register, system_id: str) -> list[Activity]:
    """The activities a system serves (its ``activities``), in the system's order."""
    system = find_system(register, system_id)
    if system is None:
        return []
    found = (register.activity(activity_id) for activity_id in system.activities)
    return [activity for activity in found if activity is not None]


@dataclass(frozen=True)
class RowGroup:
    """The rows of one collection of one system."""

    system_id: str
    collection: str
    rows: tuple[FoundRow, ...]


def group_rows(register: Register, rows: Sequence[FoundRow]) -> list[RowGroup]:
    """Rows by system and collection, in the register's order; unknown ones after, as found."""
    grouped: dict[tuple[str, str], list[FoundRow]] = {}
    for row in rows:
        grouped.setdefault((row.system_id, row.collection), []).append(row)
    systems = [s.id for s in register.systems]
    seen = list(dict.fromkeys(row.system_id for row in rows))

    def rank(key: tuple[str, str]) -> tuple[int, int, int, int]:
        system_id, name = key
        system = find_system(register, system_id)
        names = list(system.collections) if system is not None else []
        system_rank = (
            (0, systems.index(system_id)) if system_id in systems else (1, seen.index(system_id))
        )
        collection_rank = names.index(name) if name in names else len(names)
        return (*system_rank, collection_rank, list(grouped).index(key))

    return [RowGroup(s, c, tuple(grouped[(s, c)])) for s, c in sorted(grouped, key=rank)]


# --- the content ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    column: str
    label: str
    value: str
    category: str


@dataclass(frozen=True)
class Record:
    number: int
    label: str
    held: bool
    restricted: bool
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class CollectionData:
    name: str
    anchor: str
    caption: str
    #: Number each record: there are several, or some carry a mark.
    numbered: bool
    records: tuple[Record, ...]
    hold_note: str
    restricted_note: str


@dataclass(frozen=True)
class SystemData:
    id: str
    anchor: str
    name: str
    controller: str
    activities: tuple[str, ...]
    collections: tuple[CollectionData, ...]


@dataclass(frozen=True)
class Elsewhere:
    """A system a person answers for; its recipient may be a controller in its own right."""

    id: str
    anchor: str
    system: str
    recipient: str
    independent: bool
    text: str
    description: str
    privacy_url: str | None
    activities: tuple[str, ...]


@dataclass(frozen=True)
class SourceNote:
    activity: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class RequestInfo:
    id: str
    received: str
    due: str
    generated: str
    version: str


@dataclass(frozen=True)
class ExtractContent:
    """The extract in one language: what every format renders."""

    lang: str
    labels: Mapping[str, str]
    title: str
    found: bool
    request: RequestInfo
    controller: Controller
    controllers_statement: str
    notice_link: str | None
    systems: tuple[SystemData, ...]
    elsewhere: tuple[Elsewhere, ...]
    categories: tuple[CategoryView, ...]
    activities: tuple[ActivityView, ...]
    not_from_you: tuple[SourceNote, ...]
    profiling: tuple[ActivityView, ...]
    recipients: tuple[RecipientView, ...]
    transfers: str
    rights: tuple[RightView, ...]
    right_links: bool
    dpo: ContactView | None
    authority: ContactView | None
    complaint: str


def build_extract(data: ExtractInput) -> ExtractContent:
    """The extract's content in the person's language, resolved from the register."""
    return _Builder(data).content()


class _Builder:
    def __init__(self, data: ExtractInput) -> None:
        self.data = data
        self.register = register = data.register
        self.lang = language(data)
        self.notice = build(register, self.lang, base_path=data.base_url)
        self.words = {**self.notice.labels, **extract_labels(register, self.lang)}
        self.views = {a.id: a for a in self.notice.activities}
        self.categories = {c.id: c for c in self.notice.categories}
        self.category_rank = {cid: i for i, cid in enumerate(register.categories)}
        org = register.organisation
        self.controller = next(
            (c for c in org.controllers if c.id == data.controller_id),
            org.lead or org.controllers[0],
        )

    def t(self, text: Text | None) -> str:
        return text.get(self.lang, self.register.language) if text is not None else ""

    def content(self) -> ExtractContent:
        data, register, notice, words = self.data, self.register, self.notice, self.words
        groups = group_rows(register, data.rows)
        in_use = activities_in_use(register, groups)
        activities = tuple(a for a in notice.activities if a.id in in_use)
        recipient_ids = {r for a in register.activities if a.id in in_use for r in a.recipients}
        recipients = tuple(r for r in notice.recipients if r.id in recipient_ids)
        transferring = any(may_transfer(register.recipients[r.id]) for r in recipients)
        systems = dict.fromkeys(g.system_id for g in groups)
        return ExtractContent(
            lang=self.lang,
            labels=words,
            title=words["x_title"],
            found=bool(groups),
            request=RequestInfo(
                id=data.request_id,
                received=display_value(data.received_at, self.lang),
                due=data.due.isoformat(),
                generated=display_value(data.generated_at, self.lang),
                version=data.register_version,
            ),
            controller=self.controller,
            controllers_statement=(
                notice.controllers if len(register.organisation.controllers) > 1 else ""
            ),
            notice_link=(
                Links(data.base_url.rstrip("/"), self.lang).page(self.lang)
                if data.base_url
                else None
            ),
            systems=tuple(self.system(s, [g for g in groups if g.system_id == s]) for s in systems),
            elsewhere=tuple(self.elsewhere(s) for s in dict.fromkeys(data.manual_systems)),
            categories=tuple(self.category(c) for c in self.category_ids(in_use)),
            activities=activities,
            not_from_you=tuple(
                SourceNote(
                    self.views[a.id].name,
                    tuple(labels.source(self.lang, s) for s in a.sources if s is not SUBJECT),
                )
                for a in register.activities
                if a.id in in_use and any(s is not SUBJECT for s in a.sources)
            ),
            profiling=tuple(a for a in activities if a.profiling),
            recipients=recipients,
            transfers=notice.transfers if transferring else "",
            rights=tuple(r for r in notice.rights if r.id is not Right.ACCESS),
            right_links=bool(data.base_url),
            dpo=notice.dpo,
            authority=notice.authority,
            complaint=words["x_complaint"],
        )

    def category_ids(self, in_use: set[str]) -> list[str]:
        """The categories of the data found, or of every activity in use; register order."""
        register = self.register
        if self.data.rows:
            wanted = {
                row.categories[c]
                for row in self.data.rows
                for c in row.values
                if c in row.categories
            }
        else:
            wanted = {c for a in register.activities if a.id in in_use for c in a.categories}
        ordered = [c for c in register.categories if c in wanted]
        return ordered + sorted(wanted - set(ordered))

    def category(self, category_id: str) -> CategoryView:
        unknown = CategoryView(
            id=category_id,
            anchor=f"category-{category_id}",
            name=category_id,
            examples="",
            special=False,
        )
        return self.categories.get(category_id, unknown)

    def system_name(self, system_id: str) -> str:
        system = find_system(self.register, system_id)
        return system.name if system is not None else system_id

    def activity_names(self, system_id: str) -> tuple[str, ...]:
        return tuple(self.views[a.id].name for a in system_activities(self.register, system_id))

    def system(self, system_id: str, groups: list[RowGroup]) -> SystemData:
        system = find_system(self.register, system_id)
        owner = system.controller if system is not None else None
        controllers = self.register.organisation.controllers
        return SystemData(
            id=system_id,
            anchor=f"system-{system_id}",
            name=system.name if system is not None else system_id,
            controller=next((c.name for c in controllers if c.id == owner), self.controller.name),
            activities=self.activity_names(system_id),
            collections=tuple(self.collection(g) for g in groups),
        )

    def collection(self, group: RowGroup) -> CollectionData:
        words, total = self.words, len(group.rows)
        records = tuple(
            Record(
                number,
                labels.fill(words["x_record"], {"n": str(number), "total": str(total)}),
                row.legal_hold,
                row.restricted,
                self.cells(row),
            )
            for number, row in enumerate(group.rows, start=1)
        )
        hold_note = ""
        if any(row.legal_hold for row in group.rows):
            spec = find_collection(self.register, group.system_id, group.collection)
            hold = self.views.get(spec.legal_hold or "") if spec is not None else None
            activity = self.register.activity(hold.id) if hold is not None else None
            hold_note = words["x_hold_generic"]
            if hold is not None and activity is not None:
                # the reason written for the person (Art. 17(3)), else the activity's purpose
                reason = self.t(activity.erasure.reason) if activity.erasure else hold.purpose
                hold_note = labels.fill(
                    words["x_hold_note"],
                    {"purpose": _sentence(reason), "retention": _sentence(hold.retention)},
                )
        restricted_note = ""
        if any(row.restricted for row in group.rows):
            tag = f"\N{LEFT-POINTING DOUBLE ANGLE QUOTATION MARK}{words['x_restricted']}"
            restricted_note = labels.fill(
                words["x_restricted_note"],
                {"tag": f"{tag}\N{RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK}"},
            )
        return CollectionData(
            name=group.collection,
            anchor=f"data-{group.system_id}-{_slug(group.collection)}",
            caption=f"{self.system_name(group.system_id)}: {group.collection}",
            numbered=total > 1 or any(r.held or r.restricted for r in records),
            records=records,
            hold_note=hold_note,
            restricted_note=restricted_note,
        )

    def cells(self, row: FoundRow) -> tuple[Cell, ...]:
        """The row's columns grouped by category in the register's order; uncategorised last."""
        ranks, last = self.category_rank, len(self.category_rank)

        def rank(column: str) -> int:
            category = row.categories.get(column)
            return last + 1 if category is None else ranks.get(category, last)

        return tuple(
            Cell(
                column,
                column_label(column),
                display_value(row.values[column], self.lang),
                self.category(row.categories[column]).name if column in row.categories else "",
            )
            for column in sorted(row.values, key=rank)
        )

    def elsewhere(self, system_id: str) -> Elsewhere:
        register = self.register
        system = find_system(register, system_id)
        recipient_id = system.recipient if system is not None else None
        recipient = register.recipients.get(recipient_id or "")
        name = system.name if system is not None else system_id
        independent = (
            recipient is not None and recipient.role is RecipientRole.INDEPENDENT_CONTROLLER
        )
        recipient_name = self.t(recipient.name) if recipient is not None else ""
        text = self.words["x_independent" if independent else "x_manual"]
        return Elsewhere(
            id=system_id,
            anchor=f"elsewhere-{system_id}",
            system=name,
            recipient=recipient_name,
            independent=independent,
            text=labels.fill(text, {"recipient": recipient_name, "system": name}),
            description=self.t(recipient.description) if recipient is not None else "",
            privacy_url=recipient.privacy_url if recipient is not None else None,
            activities=self.activity_names(system_id),
        )


def activities_in_use(register: Register, groups: Sequence[RowGroup]) -> set[str]:
    """The activities of the systems where data was found; every activity when none was."""
    if not groups:
        return {a.id for a in register.activities}
    return {a.id for g in groups for a in system_activities(register, g.system_id)}


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else f"{text}."


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "collection"


# --- formats ----------------------------------------------------------------------------------


def render_extract(data: ExtractInput, *, fmt: ExtractFormat) -> bytes:
    """The register extract as ``fmt`` bytes: ``html`` and ``json`` UTF-8, ``pdf`` a PDF.

    Raises :class:`~ombud.notice.errors.UnknownFormatError` for another format.
    """
    if fmt not in EXTRACT_FORMATS:
        raise UnknownFormatError(fmt, EXTRACT_FORMATS)
    content = build_extract(data)
    if fmt == "json":
        # The JSON document builds on this module's types, so it is imported here.
        from ombud.rights.extract_json import extract_document  # noqa: PLC0415

        document = extract_document(data, content)
        return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    page = render_html(content)
    if fmt == "pdf":
        # Imported here: WeasyPrint is slow to import and only this format needs it.
        from ombud.notice.pdf import render_pdf  # noqa: PLC0415

        return render_pdf(page)
    return page.encode("utf-8")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Templates of this package, and the notice's styles under ``notice/``."""
    return Environment(
        loader=PrefixLoader(
            {"rights": PackageLoader("ombud.rights"), "notice": PackageLoader("ombud.notice")}
        ),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_html(content: ExtractContent) -> str:
    """One self-contained, printable page: inline CSS, no scripts, fonts or images."""
    template = environment().get_template("rights/extract.html.j2")
    return template.render(x=content, L=content.labels)
