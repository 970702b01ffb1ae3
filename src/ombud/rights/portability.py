"""Data portability (GDPR Art. 20): the data the person provided, as a zip of JSON and CSV.

Only data the person provided to processing that rests on consent or a contract
is portable (Art. 20(1)); for Almi, the newsletter and the networks, not what
customer service keeps on legitimate interest nor the invoices the law requires.
The decision is per row: a row is portable when one of its system's consent or
contract activities, carried out by automated means (``automated``, Art. 20(1)(b)),
covers every category of the row's columns. Only the columns
the register declares as personal data (the collection's ``fields``) go into the
package; the system's own ids, flags and timestamps are not data the person gave.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from ombud.notice import labels
from ombud.notice.content import placeholders
from ombud.register.model import Activity, LegalBasis, Register
from ombud.rights.extract import (
    ExtractInput,
    FoundRow,
    RowGroup,
    display_value,
    find_system,
    group_rows,
    json_value,
    language,
    plain,
    system_activities,
)

__all__ = [
    "PORTABLE_BASES",
    "build_portability_zip",
    "is_portable",
    "portable_activities",
]

#: The legal bases under which data the person provided is portable (Art. 20(1)(a)).
PORTABLE_BASES = frozenset({LegalBasis.CONSENT, LegalBasis.CONTRACT})

README: dict[str, dict[str, str]] = {
    "sv": {
        "title": "Dina personuppgifter från {org} (dataportabilitet)",
        "case": "Ärendenummer: {request}",
        "created": "Skapad: {generated}",
        "intro": "Den här filen innehåller de personuppgifter som du själv har lämnat till {org} "
        "och som {org} behandlar med stöd av ditt samtycke eller ett avtal med dig (artikel 20 "
        "i dataskyddsförordningen). Uppgifterna är i ett strukturerat, maskinläsbart format så "
        "att du kan föra över dem till en annan tjänst.",
        "files": "Innehåll:",
        "data_json": "data.json: alla uppgifter i en fil (JSON, UTF-8).",
        "csv": "{file}: {system}, {collection} ({rows} poster; CSV, UTF-8, rubrikrad).",
        "activities": "Uppgifterna kommer från följande behandlingar:",
        "none": "Vi hittade inga personuppgifter om dig som omfattas av rätten till "
        "dataportabilitet.",
        "why": "Vad som inte ingår, och varför: rätten till dataportabilitet gäller bara "
        "uppgifter som du själv har lämnat och som behandlas med stöd av samtycke eller avtal. "
        "Uppgifter som {org} behandlar med stöd av intresseavvägning (berättigat intresse) "
        "eller för att lagen kräver det, och uppgifter som {org} själv har lagt till, som "
        "interna id-nummer och tidpunkter, ingår därför inte. Alla uppgifter som {org} har om "
        "dig, och varför de behandlas, får du i ett registerutdrag (artikel 15).",
        "excluded": "Hittades men ingår inte:",
        "excluded_row": "{system}, {collection}: {rows} poster ({bases})",
        "not_provided": "inte uppgifter som du själv har lämnat",
        "binary": "Binära värden (filer, bilder) är base64-kodade.",
        "contact": "Frågor? Kontakta {org}: {email}",
    },
    "en": {
        "title": "Your personal data from {org} (data portability)",
        "case": "Case number: {request}",
        "created": "Created: {generated}",
        "intro": "This package holds the personal data you have provided to {org} and that "
        "{org} processes on the basis of your consent or a contract with you (Article 20 of "
        "the General Data Protection Regulation). It is in a structured, machine-readable "
        "format so that you can move it to another service.",
        "files": "Contents:",
        "data_json": "data.json: all the data in one file (JSON, UTF-8).",
        "csv": "{file}: {system}, {collection} ({rows} records; CSV, UTF-8, header row).",
        "activities": "The data comes from the following processing activities:",
        "none": "We found no personal data about you that falls under the right to data "
        "portability.",
        "why": "What is not included, and why: the right to data portability covers only data "
        "you have provided yourself that is processed on the basis of consent or a contract. "
        "Data that {org} processes on the basis of legitimate interest or because the law "
        "requires it, and data {org} has added itself, such as internal id numbers and "
        "timestamps, is therefore not included. All the data {org} holds about you, and why it "
        "is processed, is in a register extract (Article 15).",
        "excluded": "Found but not included:",
        "excluded_row": "{system}, {collection}: {rows} records ({bases})",
        "not_provided": "not data you provided yourself",
        "binary": "Binary values (files, images) are base64 encoded.",
        "contact": "Questions? Contact {org}: {email}",
    },
}


def row_categories(row: FoundRow) -> set[str]:
    """The categories of the row's columns."""
    return {row.categories[column] for column in row.values if column in row.categories}


def portable_activities(register: Register, row: FoundRow) -> list[Activity]:
    """The automated consent or contract activities of the row's system covering its categories."""
    categories = row_categories(row)
    if not categories:
        return []
    return [
        activity
        for activity in system_activities(register, row.system_id)
        if activity.legal_basis in PORTABLE_BASES
        and activity.automated
        and categories <= set(activity.categories)
    ]


def is_portable(register: Register, row: FoundRow) -> bool:
    """Whether Art. 20 covers the row (see the module's docstring)."""
    return bool(portable_activities(register, row))


@dataclass(frozen=True)
class _Part:
    group: RowGroup
    file: str
    columns: tuple[str, ...]
    activities: tuple[Activity, ...]


def build_portability_zip(data: ExtractInput) -> bytes:
    """A zip of ``data.json``, one ``system-collection.csv`` per collection and ``README.txt``.

    Only portable rows, and of them only the columns with a category, are included;
    the README (in the person's language) says what is included and why the rest is
    not. The same input gives the same bytes: every entry carries ``generated_at``.
    """
    register = data.register
    portable = [row for row in data.rows if is_portable(register, row)]
    excluded = [row for row in data.rows if not is_portable(register, row)]
    parts = _parts(register, portable)
    files: list[tuple[str, bytes]] = [
        ("README.txt", _readme(data, parts, group_rows(register, excluded)).encode("utf-8")),
        ("data.json", _json(data, parts)),
    ]
    files.extend((part.file, _csv(part)) for part in parts)
    stamp = data.generated_at.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def _parts(register: Register, rows: Sequence[FoundRow]) -> list[_Part]:
    parts: list[_Part] = []
    used: set[str] = set()
    for group in group_rows(register, rows):
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{group.system_id}-{group.collection}")
        name, n = f"{stem}.csv", 1
        while name in used:
            n += 1
            name = f"{stem}-{n}.csv"
        used.add(name)
        columns = dict.fromkeys(c for row in group.rows for c in row.values if c in row.categories)
        activities = {
            a.id: a for row in group.rows for a in portable_activities(register, row)
        }.values()
        parts.append(_Part(group, name, tuple(columns), tuple(activities)))
    return parts


def _provided(row: FoundRow) -> dict[str, object]:
    return {c: v for c, v in row.values.items() if c in row.categories}


def _json(data: ExtractInput, parts: Sequence[_Part]) -> bytes:
    register = data.register
    controller = next(
        (c for c in register.organisation.controllers if c.id == data.controller_id), None
    )
    document = {
        "request": {
            "id": data.request_id,
            "type": "portability",
            "received_at": data.received_at.isoformat(),
            "generated_at": data.generated_at.isoformat(),
            "language": language(data),
            "register_version": data.register_version,
        },
        "controller": {
            "id": data.controller_id,
            "name": controller.name if controller is not None else register.organisation.name,
        },
        "data": [
            {
                "system": part.group.system_id,
                "collection": part.group.collection,
                "file": part.file,
                "activities": [
                    {"id": a.id, "legal_basis": a.legal_basis.value} for a in part.activities
                ],
                "columns": [
                    {
                        "name": column,
                        "category": next(
                            r.categories[column] for r in part.group.rows if column in r.categories
                        ),
                        "binary": any(
                            json_value(r.values.get(column))[1] is not None for r in part.group.rows
                        ),
                    }
                    for column in part.columns
                ],
                "rows": [
                    {c: json_value(v)[0] for c, v in _provided(row).items()}
                    for row in part.group.rows
                ],
            }
            for part in parts
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def _csv(part: _Part) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(part.columns)
    for row in part.group.rows:
        provided = _provided(row)
        writer.writerow(_cell(provided.get(c)) for c in part.columns)
    return out.getvalue().encode("utf-8")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    encoded = json_value(value)[0]
    if isinstance(encoded, str):
        return encoded
    if isinstance(encoded, dict | list):
        return json.dumps(plain(value), ensure_ascii=False)
    return str(encoded)


def _readme(data: ExtractInput, parts: Sequence[_Part], excluded: Sequence[RowGroup]) -> str:
    register = data.register
    lang = language(data)
    values = placeholders(register, lang)
    words = {k: labels.fill(v, values) for k, v in README[labels.builtin(lang)].items()}

    def fill(key: str, **more: str) -> str:
        return labels.fill(words[key], more)

    def system_name(system_id: str) -> str:
        system = find_system(register, system_id)
        return system.name if system is not None else system_id

    title = words["title"]
    lines = [title, "=" * len(title), ""]
    lines += [
        fill("case", request=data.request_id),
        fill("created", generated=display_value(data.generated_at, lang)),
        "",
    ]
    lines += [words["intro"], ""]
    if parts:
        lines += [words["files"], f"- {words['data_json']}"]
        lines += [
            "- "
            + fill(
                "csv",
                file=p.file,
                system=system_name(p.group.system_id),
                collection=p.group.collection,
                rows=str(len(p.group.rows)),
            )
            for p in parts
        ]
        activities = {a.id: a for p in parts for a in p.activities}.values()
        lines += ["", words["activities"]]
        for activity in activities:
            basis = labels.legal_basis(lang, activity.legal_basis)[0]
            lines.append(f"- {activity.name.get(lang, register.language)} ({basis})")
        if any(json_value(v)[1] for p in parts for r in p.group.rows for v in r.values.values()):
            lines += ["", words["binary"]]
    else:
        lines.append(words["none"])
    lines += ["", words["why"]]
    if excluded:
        lines += ["", words["excluded"]]
        for group in excluded:
            # the reason: the other legal bases of the system, else that the person did not
            # provide the data (a category no consent or contract activity covers)
            bases = dict.fromkeys(
                labels.legal_basis(lang, a.legal_basis)[0]
                for a in system_activities(register, group.system_id)
                if a.legal_basis not in PORTABLE_BASES
            )
            lines.append(
                "- "
                + fill(
                    "excluded_row",
                    system=system_name(group.system_id),
                    collection=group.collection,
                    rows=str(len(group.rows)),
                    bases=", ".join(bases) or words["not_provided"],
                )
            )
    dpo = register.organisation.dpo
    if dpo is not None and dpo.email:
        lines += ["", fill("contact", email=dpo.email)]
    return "\n".join(lines) + "\n"
