"""The record of processing activities (Art. 30(1)) as CSV, XLSX or JSON.

One row per activity with every Art. 30(1) field; joint controllers, the DPO
and the supervisory authority are repeated in each row (so a filtered sheet
stays complete) and listed once more on the workbook's second sheet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ombud.notice import dpv, labels
from ombud.notice.content import may_transfer, retention_text
from ombud.notice.errors import UnknownFormatError, UnknownLanguageError
from ombud.register.model import Activity, Category, Controller, LegalBasis, Register
from ombud.register.text import Text

RopaFormat = Literal["csv", "xlsx", "json"]
FORMATS: tuple[RopaFormat, ...] = ("csv", "xlsx", "json")
Value = str | bool | list[str] | None


@dataclass(frozen=True)
class Column:
    key: str
    sv: str
    en: str
    width: int = 30

    def label(self, lang: str) -> str:
        return self.sv if labels.builtin(lang) == "sv" else self.en


COLUMNS: tuple[Column, ...] = (
    Column("activity_id", "Id", "Id", 22),
    Column("activity", "Behandling", "Activity", 28),
    Column("controller", "Personuppgiftsansvarig", "Controller"),
    Column("controller_contact", "Den ansvariges kontaktuppgifter", "Controller contact details"),
    Column("joint_controllers", "Gemensamt personuppgiftsansvariga", "Joint controllers"),
    Column("dpo_contact", "Dataskyddsombud", "Data protection officer", 36),
    Column("purpose", "Ändamål", "Purpose", 48),
    Column("legal_basis", "Rättslig grund", "Legal basis", 26),
    Column("dpv_legal_basis", "Rättslig grund (DPV)", "Legal basis (DPV)", 22),
    Column("legitimate_interest", "Berättigat intresse", "Legitimate interest", 36),
    Column("data_subjects", "Kategorier av registrerade", "Categories of data subjects"),
    Column("personal_data", "Kategorier av personuppgifter", "Categories of personal data"),
    Column(
        "special_categories", "Känsliga personuppgifter (art. 9)", "Special categories (Art. 9)"
    ),
    Column("recipients", "Mottagare (roll)", "Recipients (role)", 40),
    Column(
        "third_country_transfers", "Överföring till tredje land", "Transfers to third countries"
    ),
    Column("transfer_safeguards", "Skyddsåtgärder vid överföring", "Transfer safeguards", 40),
    Column("retention_period", "Lagringstid (ISO 8601)", "Retention period (ISO 8601)", 14),
    Column("retention_from", "Lagringstiden räknas från", "Retention counted from", 18),
    Column("retention_until", "Lagring upphör", "Retention ends", 18),
    Column("retention_notice", "Lagringstid enligt informationen", "Retention as published", 40),
    Column(
        "retention_example", "Lagringstiden är ett exempel", "Retention period is an example", 12
    ),
    Column(
        "security_measures",
        "Säkerhetsåtgärder (allmän beskrivning)",
        "Security measures (general description)",
        48,
    ),
    Column("sources", "Källor", "Sources", 24),
    Column("profiling", "Profilering", "Profiling", 12),
    Column("direct_marketing", "Direkt marknadsföring", "Direct marketing", 12),
    Column("consent_purpose", "Samtyckesändamål", "Consent purpose", 18),
    Column(
        "personnummer_justification",
        "Motivering för personnummer",
        "Justification for personnummer",
        30,
    ),
    Column("systems", "System", "Systems", 24),
)

_ARTICLE = {
    LegalBasis.CONSENT: "a",
    LegalBasis.CONTRACT: "b",
    LegalBasis.LEGAL_OBLIGATION: "c",
    LegalBasis.VITAL_INTEREST: "d",
    LegalBasis.PUBLIC_TASK: "e",
    LegalBasis.LEGITIMATE_INTEREST: "f",
}


def render_ropa(register: Register, *, fmt: RopaFormat, lang: str | None = None) -> bytes:
    """The Art. 30(1) record in ``fmt``; ``lang`` defaults to the register's first language.

    Raises :class:`UnknownLanguageError` or :class:`UnknownFormatError`.
    """
    lang = register.language if lang is None else lang
    if lang not in register.languages:
        raise UnknownLanguageError(lang, register.languages)
    rows = records(register, lang)
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2).encode("utf-8")
    if fmt == "csv":
        return _csv(rows, lang)
    if fmt == "xlsx":
        return _xlsx(register, rows, lang)
    raise UnknownFormatError(fmt, FORMATS)


def records(register: Register, lang: str) -> list[dict[str, Value]]:
    """One dict per activity, keyed by :data:`COLUMNS`."""
    return [_record(register, activity, lang) for activity in register.activities]


def _record(register: Register, activity: Activity, lang: str) -> dict[str, Value]:
    def t(text: Text | None) -> str:
        return text.get(lang, register.language) if text is not None else ""

    org = register.organisation
    controllers = [c for c in org.controllers if c.id == activity.controller] or org.controllers
    categories = register.categories
    recipients = {
        rid: register.recipients[rid] for rid in activity.recipients if rid in register.recipients
    }
    retention = activity.retention
    short, _ = labels.legal_basis(lang, activity.legal_basis)
    article = _ARTICLE[activity.legal_basis]
    basis = (
        f"{short} (art. 6.1 {article})"
        if labels.builtin(lang) == "sv"
        else (f"{short} (Art. 6(1)({article}))")
    )
    dpo = org.dpo
    security = t(register.notice.security) or labels.fill(
        labels.UI[labels.builtin(lang)]["security_default"], {"org": org.name}
    )
    return {
        "activity_id": activity.id,
        "activity": t(activity.name),
        "controller": [_lead(c, lang) for c in controllers],
        "controller_contact": [_controller_contact(c) for c in controllers],
        "joint_controllers": [_lead(c, lang) for c in org.controllers]
        if len(org.controllers) > 1
        else [],
        "dpo_contact": ", ".join(v for v in (t(dpo.name), dpo.email, dpo.phone, dpo.postal) if v)
        if dpo is not None
        else None,
        "purpose": t(activity.purpose),
        "legal_basis": basis,
        "dpv_legal_basis": dpv.legal_basis(activity.legal_basis)[0],
        "legitimate_interest": t(activity.legitimate_interest) or None,
        "data_subjects": [
            t(register.subjects[s].name) if s in register.subjects else s for s in activity.subjects
        ],
        "personal_data": [
            t(categories[c].name) if c in categories else c for c in activity.categories
        ],
        "special_categories": [
            _special(t(categories[c].name), categories[c])
            for c in activity.categories
            if c in categories and categories[c].special
        ],
        "recipients": [f"{t(r.name)} ({labels.role(lang, r.role)})" for r in recipients.values()],
        "third_country_transfers": [
            f"{t(r.name)}: {labels.country(lang, r.country)}" if r.country else t(r.name)
            for r in recipients.values()
            if may_transfer(r)
        ],
        "transfer_safeguards": [
            f"{t(r.name)}: "
            + labels.join(
                lang, [labels.mechanism(lang, m) for m in r.transfer.mechanisms], alternatives=True
            )
            + (f" ({r.transfer.reference})" if r.transfer.reference else "")
            for r in recipients.values()
            if may_transfer(r) and r.transfer is not None
        ],
        "retention_period": retention.period if retention else None,
        "retention_from": retention.from_.value if retention else None,
        "retention_until": retention.until if retention else None,
        "retention_notice": retention_text(register, activity, lang),
        "retention_example": retention.example if retention else False,
        "security_measures": security,
        "sources": [labels.source(lang, s) for s in activity.sources],
        "profiling": activity.profiling,
        "direct_marketing": activity.direct_marketing,
        "consent_purpose": activity.consent.purpose if activity.consent else None,
        "personnummer_justification": t(activity.personnummer_justification) or None,
        "systems": [s.name for s in register.systems if activity.id in s.activities],
    }


def _special(name: str, category: Category) -> str:
    condition = category.art9_condition
    return f"{name} (art. 9.2 {condition.value})" if condition is not None else name


def _lead(controller: Controller, lang: str) -> str:
    if not controller.lead:
        return controller.name
    return f"{controller.name} ({'ledande' if labels.builtin(lang) == 'sv' else 'lead'})"


def _controller_contact(controller: Controller) -> str:
    details = [v for v in (controller.orgnr, controller.email, controller.website) if v]
    return f"{controller.name}: {', '.join(details)}" if details else controller.name


def _cell(value: Value, lang: str) -> str:
    if isinstance(value, bool):
        return labels.UI[labels.builtin(lang)]["yes" if value else "no"]
    if isinstance(value, list):
        return "; ".join(value)
    return value or ""


def _csv(rows: Sequence[dict[str, Value]], lang: str) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([c.label(lang) for c in COLUMNS])
    writer.writerows([_cell(row[c.key], lang) for c in COLUMNS] for row in rows)
    return buffer.getvalue().encode("utf-8")


def _xlsx(register: Register, rows: Sequence[dict[str, Value]], lang: str) -> bytes:
    # Imported here: only this format needs openpyxl.
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.styles import Alignment, Font, PatternFill  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    sv = labels.builtin(lang) == "sv"
    book = Workbook()
    book.properties.creator = "Ombud"
    book.properties.title = "Register över behandlingar" if sv else "Record of processing"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE7F0")
    wrap = Alignment(wrap_text=True, vertical="top")

    sheet = book.active
    assert sheet is not None
    sheet.title = "Behandlingar (art. 30)" if sv else "Activities (Art. 30)"
    sheet.append([c.label(lang) for c in COLUMNS])
    for row in rows:
        sheet.append([_cell(row[c.key], lang) for c in COLUMNS])
    for index, column in enumerate(COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for cells in sheet.iter_rows():
        for cell in cells:
            cell.alignment = wrap
    for cell in sheet[1]:
        cell.font, cell.fill = bold, fill
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = sheet.dimensions

    parties = book.create_sheet("Ansvariga och kontakter" if sv else "Controllers and contacts")
    header = (
        [
            "Roll",
            "Namn",
            "Organisationsnummer",
            "E-post",
            "Telefon",
            "Postadress",
            "Webbplats",
            "Anmärkning",
        ]
        if sv
        else [
            "Role",
            "Name",
            "Organisation number",
            "E-mail",
            "Phone",
            "Postal address",
            "Website",
            "Notes",
        ]
    )
    parties.append(header)
    for party in _parties(register, lang):
        parties.append(party)
    for index, width in enumerate((30, 34, 18, 30, 16, 40, 30, 60), 1):
        parties.column_dimensions[get_column_letter(index)].width = width
    for cells in parties.iter_rows():
        for cell in cells:
            cell.alignment = wrap
    for cell in parties[1]:
        cell.font, cell.fill = bold, fill
    parties.freeze_panes = "A2"
    parties.auto_filter.ref = parties.dimensions

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _parties(register: Register, lang: str) -> list[list[str]]:
    """Controllers, DPO and supervisory authority: the rows of the second sheet."""
    sv = labels.builtin(lang) == "sv"
    org = register.organisation
    joint = len(org.controllers) > 1
    arrangement = (
        org.joint_controllership.get(lang, register.language) if org.joint_controllership else ""
    )
    rows = []
    for controller in org.controllers:
        if not joint:
            role = "Personuppgiftsansvarig" if sv else "Controller"
        elif controller.lead:
            role = "Gemensamt personuppgiftsansvarig (ledande)" if sv else "Joint controller (lead)"
        else:
            role = "Gemensamt personuppgiftsansvarig" if sv else "Joint controller"
        rows.append(
            [
                role,
                controller.name,
                controller.orgnr or "",
                controller.email or "",
                "",
                "",
                controller.website or "",
                arrangement if controller.lead else "",
            ]
        )
    if org.dpo is not None:
        dpo = org.dpo
        rows.append(
            [
                "Dataskyddsombud" if sv else "Data protection officer",
                dpo.name.get(lang, register.language) if dpo.name else "",
                "",
                dpo.email or "",
                dpo.phone or "",
                dpo.postal or "",
                "",
                "",
            ]
        )
    if org.authority is not None:
        authority = org.authority
        rows.append(
            [
                "Tillsynsmyndighet" if sv else "Supervisory authority",
                authority.name.get(lang, register.language) if authority.name else "",
                "",
                authority.email or "",
                authority.phone or "",
                authority.postal or "",
                authority.website or "",
                "",
            ]
        )
    return rows
