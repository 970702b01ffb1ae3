"""Lint rules: every id the register names is declared, once.

A misspelt id silently drops data from the notice, the record and the rights
requests, so each reference is checked where it is written.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Iterator

from ombud.register.loader import PathKey, format_path
from ombud.register.model import Register


def _hint(name: str, known: Collection[str], where: str) -> str:
    """How to fix an unknown ``name``: the nearest known id, or what is declared."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    if close:
        return f"did you mean `{close[0]}`? Otherwise declare it under `{where}`"
    declared = ", ".join(f"`{k}`" for k in sorted(known)) or "none"
    return f"declare it under `{where}` (declared: {declared})"


def unknown_categories(register: Register) -> Iterator[tuple[PathKey, str]]:
    known = register.categories.keys()
    for i, activity in enumerate(register.activities):
        for j, category in enumerate(activity.categories):
            if category not in known:
                yield (
                    ("activities", i, "categories", j),
                    (
                        f"activity `{activity.id}` processes unknown category `{category}`; "
                        f"{_hint(category, known, 'categories')}"
                    ),
                )
    for i, system in enumerate(register.systems):
        for name, collection in system.collections.items():
            for column, category in collection.fields.items():
                if category not in known:
                    yield (
                        ("systems", i, "collections", name, "fields", column),
                        (
                            f"column `{name}.{column}` of system `{system.id}` holds unknown "
                            f"category `{category}`; {_hint(category, known, 'categories')}"
                        ),
                    )


def unknown_recipients(register: Register) -> Iterator[tuple[PathKey, str]]:
    known = register.recipients.keys()
    for i, activity in enumerate(register.activities):
        for j, recipient in enumerate(activity.recipients):
            if recipient not in known:
                yield (
                    ("activities", i, "recipients", j),
                    (
                        f"activity `{activity.id}` discloses to unknown recipient `{recipient}`; "
                        f"{_hint(recipient, known, 'recipients')}"
                    ),
                )
    for key, category in register.consent.cookie_categories.items():
        for j, recipient in enumerate(category.recipients):
            if recipient not in known:
                yield (
                    ("consent", "cookie_categories", key, "recipients", j),
                    (
                        f"cookie category `{key}` names unknown recipient `{recipient}`; "
                        f"{_hint(recipient, known, 'recipients')}"
                    ),
                )
    for i, system in enumerate(register.systems):
        if system.recipient is not None and system.recipient not in known:
            yield (
                ("systems", i, "recipient"),
                (
                    f"system `{system.id}` is run by unknown recipient `{system.recipient}`; "
                    f"{_hint(system.recipient, known, 'recipients')}"
                ),
            )


def unknown_activities(register: Register) -> Iterator[tuple[PathKey, str]]:
    known = {activity.id for activity in register.activities}
    for key, category in register.consent.cookie_categories.items():
        for j, activity_id in enumerate(category.activities):
            if activity_id not in known:
                yield (
                    ("consent", "cookie_categories", key, "activities", j),
                    (
                        f"cookie category `{key}` names unknown activity `{activity_id}`; "
                        f"{_hint(activity_id, known, 'activities')}"
                    ),
                )
    for i, system in enumerate(register.systems):
        for j, activity_id in enumerate(system.activities):
            if activity_id not in known:
                yield (
                    ("systems", i, "activities", j),
                    (
                        f"system `{system.id}` names unknown activity `{activity_id}`; "
                        f"{_hint(activity_id, known, 'activities')}"
                    ),
                )
        for name, collection in system.collections.items():
            place = ("systems", i, "collections", name)
            if collection.retention is not None and collection.retention.activity not in known:
                activity_id = collection.retention.activity
                yield (
                    (*place, "retention", "activity"),
                    (
                        f"collection `{name}` of system `{system.id}` keeps rows for unknown "
                        f"activity `{activity_id}`; {_hint(activity_id, known, 'activities')}"
                    ),
                )
            if collection.legal_hold is not None and collection.legal_hold not in known:
                activity_id = collection.legal_hold
                yield (
                    (*place, "legal_hold"),
                    (
                        f"collection `{name}` of system `{system.id}` is held for unknown "
                        f"activity `{activity_id}`; {_hint(activity_id, known, 'activities')}"
                    ),
                )


def unknown_controllers(register: Register) -> Iterator[tuple[PathKey, str]]:
    known = {controller.id for controller in register.organisation.controllers}
    where = "organisation.controllers"
    for i, activity in enumerate(register.activities):
        if activity.controller is not None and activity.controller not in known:
            yield (
                ("activities", i, "controller"),
                (
                    f"activity `{activity.id}` names unknown controller `{activity.controller}`; "
                    f"{_hint(activity.controller, known, where)}"
                ),
            )
    for i, system in enumerate(register.systems):
        if system.controller is not None and system.controller not in known:
            yield (
                ("systems", i, "controller"),
                (
                    f"system `{system.id}` names unknown controller `{system.controller}`; "
                    f"{_hint(system.controller, known, where)}"
                ),
            )


def unknown_subjects(register: Register) -> Iterator[tuple[PathKey, str]]:
    known = register.subjects.keys()
    if not known:
        return  # subjects are free text until the register declares them
    for i, activity in enumerate(register.activities):
        for j, subject in enumerate(activity.subjects):
            if subject not in known:
                yield (
                    ("activities", i, "subjects", j),
                    (
                        f"activity `{activity.id}` names unknown data subjects `{subject}`; "
                        f"{_hint(subject, known, 'subjects')}"
                    ),
                )


def unknown_form_purposes(register: Register) -> Iterator[tuple[PathKey, str]]:
    known = register.consent_purposes().keys()
    for key, form in register.consent.forms.items():
        for j, purpose in enumerate(form.purposes):
            if purpose not in known:
                yield (
                    ("consent", "forms", key, "purposes", j),
                    (
                        f"form `{key}` asks consent for `{purpose}`, which no activity rests on; "
                        "give a consent activity `consent: {purpose: "
                        f"{purpose}}}` or remove it from the form (consent purposes: "
                        f"{', '.join(sorted(known)) or 'none'})"
                    ),
                )


def unresolved_collection_references(register: Register) -> Iterator[tuple[PathKey, str]]:
    for i, system in enumerate(register.systems):
        for name, collection in system.collections.items():
            for column, target in collection.references.items():
                path = ("systems", i, "collections", name, "references", column)
                other, dot, _ = target.partition(".")
                if not dot:
                    yield (
                        path,
                        (
                            f"reference `{name}.{column}: {target}` in system `{system.id}` "
                            "is not `collection.column`; write it as e.g. `persons.id`"
                        ),
                    )
                elif other not in system.collections:
                    yield (
                        path,
                        (
                            f"reference `{name}.{column}` in system `{system.id}` points to "
                            f"unknown collection `{other}`; "
                            f"{_hint(other, system.collections.keys(), 'collections')}"
                        ),
                    )


def duplicate_ids(register: Register) -> Iterator[tuple[PathKey, str]]:
    yield from _duplicates(
        "controller",
        ("organisation", "controllers"),
        (c.id for c in register.organisation.controllers),
    )
    yield from _duplicates("activity", ("activities",), (a.id for a in register.activities))
    yield from _duplicates("system", ("systems",), (s.id for s in register.systems))


def _duplicates(kind: str, place: PathKey, ids: Iterable[str]) -> Iterator[tuple[PathKey, str]]:
    first: dict[str, int] = {}
    for index, item_id in enumerate(ids):
        if item_id in first:
            yield (
                (*place, index, "id"),
                (
                    f"{kind} id `{item_id}` is already used by "
                    f"{format_path((*place, first[item_id]))}; give each {kind} a unique id"
                ),
            )
        else:
            first[item_id] = index
