"""Lint rules: what the systems really hold matches what the activities declare.

A column whose category no activity of its system processes is personal data
kept without a purpose (Art. 5(1)(b)); the notice would not mention it and a
rights request would miss why it is there. Secrets stay out of the register.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

from ombud.register.env import is_reference
from ombud.register.loader import PathKey
from ombud.register.model import Register, System

#: Query parameters that carry a credential in a connection URL.
_SECRET_PARAMETERS = frozenset({"password", "passwd", "pwd", "secret", "token", "api_key"})


def _processed(register: Register, system: System) -> set[str]:
    """The categories the system's declared activities process."""
    by_id = {activity.id: activity for activity in register.activities}
    return {
        category
        for activity_id in system.activities
        if (activity := by_id.get(activity_id)) is not None
        for category in activity.categories
    }


def columns_without_purpose(register: Register) -> Iterator[tuple[PathKey, str]]:
    for i, system in enumerate(register.systems):
        processed = _processed(register, system)
        for name, collection in system.collections.items():
            for column, category in collection.fields.items():
                # An unknown category is REF001's finding; one problem per mistake.
                if category in register.categories and category not in processed:
                    yield (
                        ("systems", i, "collections", name, "fields", column),
                        (
                            f"column `{name}.{column}` of system `{system.id}` holds "
                            f"`{category}` but no activity of the system processes it; add the "
                            f"category to one of its activities or an activity to "
                            f"`systems[{system.id}].activities`, or stop keeping the column"
                        ),
                    )


def activities_without_data(register: Register) -> Iterator[tuple[PathKey, str]]:
    by_id = {activity.id: activity for activity in register.activities}
    for i, system in enumerate(register.systems):
        if not system.collections:
            continue  # a manual system: nothing to compare with
        held = {
            category
            for collection in system.collections.values()
            for category in collection.fields.values()
        }
        for j, activity_id in enumerate(system.activities):
            activity = by_id.get(activity_id)
            if activity is None or not activity.categories or held & set(activity.categories):
                continue
            yield (
                ("systems", i, "activities", j),
                (
                    f"system `{system.id}` lists activity `{activity_id}`, but none of its "
                    f"collections holds {', '.join(f'`{c}`' for c in activity.categories)}; "
                    "annotate the columns under `fields:` or remove the activity from the system"
                ),
            )


def retention_activity_outside_system(register: Register) -> Iterator[tuple[PathKey, str]]:
    known = {activity.id for activity in register.activities}
    for i, system in enumerate(register.systems):
        for name, collection in system.collections.items():
            retention = collection.retention
            if (
                retention is not None
                and retention.activity in known
                and retention.activity not in system.activities
            ):
                yield (
                    ("systems", i, "collections", name, "retention", "activity"),
                    (
                        f"collection `{name}` of system `{system.id}` keeps rows for activity "
                        f"`{retention.activity}`, which the system does not list; add it to "
                        f"`systems[{system.id}].activities` or follow one that it lists"
                    ),
                )


def literal_secrets(register: Register) -> Iterator[tuple[PathKey, str]]:
    for i, system in enumerate(register.systems):
        if system.url is not None and not is_reference(system.url) and _has_password(system.url):
            yield (
                ("systems", i, "url"),
                (
                    f"the url of system `{system.id}` contains a password; write "
                    f"`url: env:{_env_name(system.id)}_URL` and set that variable where Ombud "
                    "runs"
                ),
            )
        if system.secret is not None and not is_reference(system.secret):
            yield (
                ("systems", i, "secret"),
                (
                    f"the secret of system `{system.id}` is written in the register; write "
                    f"`secret: env:{_env_name(system.id)}_SECRET` and set that variable where "
                    "Ombud runs"
                ),
            )


def _has_password(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False  # not a URL at all, so no password in the usual place
    if parts.password:
        return True
    return any(key.lower() in _SECRET_PARAMETERS for key, _ in parse_qsl(parts.query))


def _env_name(system_id: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in system_id).upper()
