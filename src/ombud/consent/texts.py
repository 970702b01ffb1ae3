"""What a person is shown when asked for consent, built from the register and stored once.

Proof of consent means keeping "what was shown" (EDPB 05/2020; DOMAIN.md),
not a reference to a configuration. The banner's texts for one register
version and language (:func:`banner_text`) and a sign-up form's
(:func:`form_text`) are plain JSON; their :func:`digest` (SHA-256 of the
canonical JSON) identifies them, and :func:`store_text` keeps each distinct
text once in ``consent_texts``. Every event names the digest of the text it
answered, so a receipt can show the exact words.

The register holds the category, activity, recipient and form texts; the
banner's own wording (title, buttons, the withdrawal statement PTS requires on
the first layer) is Ombud's, in Swedish and English, with English for any
other register language.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ombud.consent.errors import InvalidChoiceError, UnknownTextError
from ombud.consent.models import ConsentText
from ombud.register.model import Activity, Register
from ombud.register.text import Text

__all__ = [
    "TEXT_FORMAT",
    "WORDING",
    "banner_text",
    "canonical_json",
    "digest",
    "form_text",
    "get_text",
    "store_text",
]

#: Changes when the shape of the content changes, so old texts stay readable.
TEXT_FORMAT = 1

#: The banner's own wording. ``{org}`` is the organisation, ``{categories}`` the
#: optional categories named on the first layer (PTS: "statistik", "marknadsföring").
WORDING: dict[str, dict[str, str]] = {
    "sv": {
        "title": "{org} använder cookies",
        "intro": "Nödvändiga cookies behövs för att webbplatsen ska fungera. Med ditt samtycke "
        "använder {org} även cookies för {categories}. Du väljer själv: webbplatsen fungerar "
        "lika bra om du nekar.",
        "accept_all": "Acceptera alla",
        "reject_all": "Neka alla",
        "settings": "Inställningar",
        "save": "Spara mina val",
        "always_on": "Alltid på",
        "recipients": "Uppgifterna delas med",
        "third_country": "överföring till land utanför EU/EES",
        "withdrawal": "Du kan när som helst ändra eller återkalla ditt samtycke, lika enkelt som "
        "du gav det, via länken Cookieinställningar på varje sida. Återkallelsen påverkar inte "
        "behandlingen innan du återkallade samtycket.",
        "policy_link": "Läs mer om hur {org} behandlar dina personuppgifter",
        "gpc": "Din webbläsare skickar signalen Global Privacy Control. {org} tolkar den som "
        "ett nej till marknadsföring.",
        "and": "och",
    },
    "en": {
        "title": "{org} uses cookies",
        "intro": "Necessary cookies are needed for the website to work. With your consent "
        "{org} also uses cookies for {categories}. It is your choice: the website works just "
        "as well if you decline.",
        "accept_all": "Accept all",
        "reject_all": "Reject all",
        "settings": "Settings",
        "save": "Save my choices",
        "always_on": "Always on",
        "recipients": "The data is shared with",
        "third_country": "transfer to a country outside the EU/EEA",
        "withdrawal": "You can change or withdraw your consent at any time, as easily as you "
        "gave it, through the Cookie settings link on every page. Withdrawing does not affect "
        "processing before you withdrew.",
        "policy_link": "Read more about how {org} processes your personal data",
        "gpc": "Your browser sends the Global Privacy Control signal. {org} treats it as a no "
        "to marketing.",
        "and": "and",
    },
}
_FALLBACK = "en"

#: The withdrawal statement of a form without its own (Art. 7(3)).
FORM_WITHDRAWAL: dict[str, str] = {
    "sv": "Du kan när som helst återkalla ditt samtycke, lika enkelt som du gav det. "
    "Återkallelsen påverkar inte behandlingen innan du återkallade samtycket.",
    "en": "You can withdraw your consent at any time, as easily as you gave it. Withdrawing "
    "does not affect processing before you withdrew.",
}


def canonical_json(content: Mapping[str, Any]) -> str:
    """``content`` as canonical JSON: keys sorted, no spaces, UTF-8 as is."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(content: Mapping[str, Any]) -> str:
    """SHA-256 hex of :func:`canonical_json`: the identity of a text shown."""
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def _say(value: Text | None, lang: str, register: Register) -> str | None:
    return None if value is None else value.get(lang, register.language)


def _check_language(register: Register, lang: str) -> None:
    if lang not in register.languages:
        raise InvalidChoiceError(
            f"the register has no language {lang!r}; use one of: {', '.join(register.languages)}",
            field="language",
        )


def _controllers(register: Register) -> list[str]:
    return [c.name for c in register.organisation.controllers]


def _activity(activity: Activity, lang: str, register: Register) -> dict[str, Any]:
    return {
        "id": activity.id,
        "name": _say(activity.name, lang, register),
        "purpose": _say(activity.purpose, lang, register),
        "consent_purpose": activity.consent.purpose if activity.consent else None,
        "text": _say(activity.consent.text, lang, register) if activity.consent else None,
        "profiling": activity.profiling,
        "direct_marketing": activity.direct_marketing,
    }


def _recipient(register: Register, recipient_id: str, lang: str) -> dict[str, Any]:
    recipient = register.recipients.get(recipient_id)
    if recipient is None:  # a dangling reference is a lint error; show the id rather than fail
        return {"id": recipient_id, "name": recipient_id}
    return {
        "id": recipient_id,
        "name": _say(recipient.name, lang, register),
        "role": recipient.role.value,
        "country": recipient.country,
        "third_country": recipient.third_country,
        "privacy_url": recipient.privacy_url,
    }


def _join(names: list[str], conjunction: str) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


def banner_text(register: Register, lang: str) -> dict[str, Any]:
    """Everything the cookie banner shows in ``lang``: its wording and every category.

    Raises :class:`InvalidChoiceError` (field ``language``) for a language the
    register does not have.
    """
    _check_language(register, lang)
    org = register.organisation.name
    by_id = {a.id: a for a in register.activities}
    categories: list[dict[str, Any]] = []
    for category_id, category in register.consent.cookie_categories.items():
        activities = [by_id[a] for a in category.activities if a in by_id]
        categories.append(
            {
                "id": category_id,
                "name": _say(category.name, lang, register),
                "description": _say(category.description, lang, register),
                "required": category.required,
                "purposes": []
                if category.required
                else list(
                    dict.fromkeys(a.consent.purpose for a in activities if a.consent is not None)
                ),
                "activities": [_activity(a, lang, register) for a in activities],
                "recipients": [_recipient(register, r, lang) for r in category.recipients],
                "cookies": [
                    {
                        "name": cookie.name,
                        "provider": cookie.provider,
                        "duration": cookie.duration,
                        "purpose": _say(cookie.purpose, lang, register),
                    }
                    for cookie in category.cookies
                ],
            }
        )
    wording = WORDING.get(lang, WORDING[_FALLBACK])
    optional = [str(c["name"]).lower() for c in categories if not c["required"]]
    filled = {
        key: value.format(org=org, categories=_join(optional, wording["and"]))
        for key, value in wording.items()
        if key != "and"
    }
    return {
        "format": TEXT_FORMAT,
        "kind": "banner",
        "language": lang,
        "organisation": org,
        "controllers": _controllers(register),
        "wording": filled,
        "categories": categories,
        "renew_after": register.consent.renew_after,
        "policy_path": f"/privacy?lang={lang}",
    }


def form_text(register: Register, form_id: str, lang: str) -> dict[str, Any]:
    """What sign-up form ``form_id`` shows in ``lang``: its consent text and purposes.

    Raises :class:`InvalidChoiceError` (field ``form`` or ``language``).
    """
    _check_language(register, lang)
    form = register.consent.forms.get(form_id)
    if form is None:
        raise InvalidChoiceError(
            f"the register has no consent form {form_id!r}; it has: "
            f"{', '.join(register.consent.forms) or 'none'}",
            field="form",
        )
    by_purpose = register.consent_purposes()
    return {
        "format": TEXT_FORMAT,
        "kind": "form",
        "form": form_id,
        "language": lang,
        "organisation": register.organisation.name,
        "controllers": _controllers(register),
        "name": _say(form.name, lang, register),
        "text": _say(form.text, lang, register),
        "purposes": list(form.purposes),
        "activities": [
            _activity(a, lang, register) for p in form.purposes for a in by_purpose.get(p, [])
        ],
        "withdrawal": FORM_WITHDRAWAL.get(lang, FORM_WITHDRAWAL[_FALLBACK]),
        "policy_path": f"/privacy?lang={lang}",
    }


def store_text(
    session: Session,
    content: Mapping[str, Any],
    *,
    register_version: str,
    language: str,
    now: dt.datetime,
) -> str:
    """Keep ``content`` in ``consent_texts`` unless it is there already; return its digest.

    One statement, safe against a concurrent store of the same text (ON CONFLICT
    DO NOTHING on both backends).
    """
    key = digest(content)
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(ConsentText)
        .values(
            digest=key,
            register_version=register_version,
            language=language,
            content=dict(content),
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=[ConsentText.digest])
    )
    return key


def get_text(session: Session, text_digest: str) -> ConsentText:
    """The stored text with this digest; raises :class:`UnknownTextError` when there is none."""
    row = session.scalars(select(ConsentText).where(ConsentText.digest == text_digest)).first()
    if row is None:
        raise UnknownTextError(
            "no consent text with this digest was ever served; send the text_digest that "
            "/consent/banner.json gave with the text shown",
            field="text_digest",
        )
    return row
