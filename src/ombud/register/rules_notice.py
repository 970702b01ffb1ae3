"""Lint rules: the published notice can say what Art. 13-14 require, in every language.

Who is responsible, whom to contact, where to complain, when the notice changed,
and every text in each of the register's languages.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel

from ombud.register.loader import PathKey, format_path
from ombud.register.model import Register
from ombud.register.text import Text


def lead_controller(register: Register) -> Iterator[tuple[PathKey, str]]:
    controllers = register.organisation.controllers
    leads = [i for i, controller in enumerate(controllers) if controller.lead]
    if not leads:
        yield (
            ("organisation", "controllers"),
            (
                "no controller is the lead; mark exactly one with `lead: true` (Art. 26: the "
                "one that answers data subjects)"
            ),
        )
    for i in leads[1:]:
        yield (
            ("organisation", "controllers", i, "lead"),
            (
                f"controller `{controllers[i].id}` is marked lead, but so is "
                f"`{controllers[leads[0]].id}`; exactly one may be the lead"
            ),
        )


def dpo_contact(register: Register) -> Iterator[tuple[PathKey, str]]:
    dpo = register.organisation.dpo
    if dpo is None:
        yield (
            ("organisation",),
            (
                "no data protection officer contact (Art. 13(1)(b)); add `organisation.dpo` "
                "with `email` and `postal`"
            ),
        )
    elif not (dpo.email or dpo.postal):
        yield (
            ("organisation", "dpo"),
            "the data protection officer has neither `email` nor `postal`; add at least one",
        )


def authority_contact(register: Register) -> Iterator[tuple[PathKey, str]]:
    authority = register.organisation.authority
    if authority is None:
        yield (
            ("organisation",),
            (
                "no supervisory authority to complain to (Art. 13(2)(d)); add "
                "`organisation.authority` with `name` and `email`, `postal` or `website`"
            ),
        )
        return
    missing = []
    if authority.name is None:
        missing.append("`name`")
    if not (authority.email or authority.postal or authority.phone or authority.website):
        missing.append("a contact (`email`, `postal`, `phone` or `website`)")
    if missing:
        yield (
            ("organisation", "authority"),
            (
                f"the supervisory authority lacks {' and '.join(missing)}; add it so people know "
                "where to complain"
            ),
        )


def published_before_updated(register: Register) -> Iterator[tuple[PathKey, str]]:
    notice = register.notice
    if notice.published is not None and notice.published < notice.updated:
        yield (
            ("notice", "published"),
            (
                f"the notice is published {notice.published} but updated {notice.updated}; "
                "a notice is published on or after its last update: correct one of the dates"
            ),
        )


def history_after_update(register: Register) -> Iterator[tuple[PathKey, str]]:
    notice = register.notice
    for i, entry in enumerate(notice.history):
        if entry.date > notice.updated:
            yield (
                ("notice", "history", i, "date"),
                (
                    f"history entry {entry.date} is later than `notice.updated` "
                    f"({notice.updated}); move `updated` to the latest change"
                ),
            )


def missing_translations(register: Register) -> Iterator[tuple[PathKey, str]]:
    for path, text in _texts(register, ()):
        missing = [lang for lang in register.languages if lang not in text.root]
        if missing:
            yield (
                path,
                (
                    f"`{format_path(path)}` has no text in {', '.join(missing)}; write it as "
                    f"{{{', '.join(f'{lang}: ...' for lang in register.languages)}}}"
                ),
            )


def undeclared_languages(register: Register) -> Iterator[tuple[PathKey, str]]:
    for path, text in _texts(register, ()):
        extra = sorted(text.languages - set(register.languages))
        if extra:
            yield (
                path,
                (
                    f"`{format_path(path)}` has text in {', '.join(extra)}, which `languages` "
                    f"does not list ({', '.join(register.languages)}); fix the language code "
                    "or add it to `languages`"
                ),
            )


def _texts(value: object, path: PathKey) -> Iterator[tuple[PathKey, Text]]:
    """Every :class:`Text` under ``value``, with its key path in the YAML document."""
    if isinstance(value, Text):
        yield path, value
    elif isinstance(value, BaseModel):
        for name, field in type(value).model_fields.items():
            yield from _texts(getattr(value, name), (*path, field.alias or name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, (*path, index))
