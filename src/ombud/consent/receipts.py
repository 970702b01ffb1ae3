"""Consent receipts: the proof of one event, as ISO/IEC TS 27560 and Kantara v1.1 JSON.

A receipt answers "what was the person shown, when, how, and what did they
choose" (Art. 7(1); EDPB 05/2020) from the ledger alone: the event, the exact
text shown (``consent_texts``) and the register version it was recorded
under (``register_versions``), never today's register. It carries the Kantara
Consent Receipt v1.1 fields (``version``, ``jurisdiction``,
``consentTimestamp``, ``collectionMethod``, ``consentReceiptID``,
``piiPrincipalId``, ``piiControllers``, ``policyUrl``, ``services``, ...)
and the ISO/IEC TS 27560 record fields as mapped by W3C DPV's consent-27560
guide (``recordId``, ``schemaVersion``, ``subjectId``, ``notice``,
``purposes``, ``data``, ``controllers``, ``retention``, ``jurisdiction``,
``recipients``, ``withdrawalMethod``, ``events``), plus ``event``,
``registerVersion`` and ``language``.

``piiPrincipalId`` is the subject's HMAC: the receipt names nobody.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud.consent.errors import ReceiptNotFoundError
from ombud.consent.ledger import expiry
from ombud.consent.models import ConsentEvent, ConsentText, EventType
from ombud.consent.purposes import stored_register
from ombud.notice.dpv import legal_basis
from ombud.notice.dpv import purposes as dpv_purposes
from ombud.register.model import Activity, Controller, RecipientRole, Register

__all__ = ["KANTARA_VERSION", "SCHEMA_VERSION", "receipt"]

KANTARA_VERSION = "KI-CR-v1.1.0"
SCHEMA_VERSION = "ISO/IEC TS 27560:2023 (W3C DPV consent-27560)"
#: The most earlier events of the same purpose a receipt lists.
MAX_HISTORY = 100

_METHODS = {
    "banner": "cookie banner, first layer",
    "banner_settings": "cookie settings (banner's second layer or the privacy page)",
    "form": "sign-up form with double opt-in (confirmed by e-mail)",
    "api": "recorded through Ombud's API",
    "handler": "recorded by a case handler",
}
_WITHDRAW = {
    "banner": "the cookie settings link on every page of the website, or /privacy/consent",
    "banner_settings": "the cookie settings link on every page of the website, or /privacy/consent",
    "form": "the unsubscribe link in every message, or /privacy/consent",
    "api": "/privacy/consent, or a withdraw-consent request at /privacy/request",
    "handler": "/privacy/consent, or a withdraw-consent request at /privacy/request",
}
_DPV_EVENTS = {
    EventType.GIVEN: "dpv:ConsentGiven",
    EventType.REFUSED: "dpv:ConsentRefused",
    EventType.WITHDRAWN: "dpv:ConsentWithdrawn",
    EventType.EXPIRED: "dpv:ConsentExpired",
}
_THIRD_PARTIES = (
    RecipientRole.INDEPENDENT_CONTROLLER,
    RecipientRole.JOINT_CONTROLLER,
    RecipientRole.AUTHORITY,
)


def _say(register: Register, value: Any, lang: str) -> str | None:
    return None if value is None else str(value.get(lang, register.language))


def _controllers(register: Register, activities: list[Activity]) -> list[Controller]:
    named = {a.controller for a in activities if a.controller}
    every = register.organisation.controllers
    # An activity without its own controller is the joint controllers' together.
    if not named or any(a.controller is None for a in activities):
        return list(every)
    return [c for c in every if c.id in named]


def _controller(register: Register, controller: Controller, lang: str) -> dict[str, Any]:
    dpo = register.organisation.dpo
    return {
        "piiController": controller.name,
        "id": controller.id,
        "lead": controller.lead,
        "orgnr": controller.orgnr,
        "onBehalf": False,
        "contact": _say(register, dpo.name, lang) if dpo and dpo.name else None,
        "email": controller.email or (dpo.email if dpo else None),
        "address": dpo.postal if dpo else None,
        "phone": dpo.phone if dpo else None,
        "piiControllerUrl": controller.website,
    }


def _recipients(register: Register, activities: list[Activity], lang: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for recipient_id in dict.fromkeys(r for a in activities for r in a.recipients):
        recipient = register.recipients.get(recipient_id)
        if recipient is None:
            continue
        found.append(
            {
                "id": recipient_id,
                "name": _say(register, recipient.name, lang),
                "role": recipient.role.value,
                "thirdParty": recipient.role in _THIRD_PARTIES,
                "country": recipient.country,
                "thirdCountry": recipient.third_country,
                "transfer": None
                if recipient.transfer is None
                else {
                    "mechanisms": [m.value for m in recipient.transfer.mechanisms],
                    "reference": recipient.transfer.reference,
                },
            }
        )
    return found


def _termination(register: Register, activity: Activity, lang: str) -> str:
    retention = activity.retention
    if retention is not None and retention.notice is not None:
        return str(_say(register, retention.notice, lang))
    if retention is not None and retention.period is not None:
        return f"{retention.period} from {retention.from_.value}, or until consent is withdrawn"
    return "until consent is withdrawn"


def _service(register: Register, activity: Activity, lang: str) -> dict[str, Any]:
    third = [
        str(_say(register, r.name, lang))
        for r_id in activity.recipients
        if (r := register.recipients.get(r_id)) is not None and r.role in _THIRD_PARTIES
    ]
    return {
        "service": _say(register, activity.name, lang),
        "purposes": [
            {
                "purpose": _say(register, activity.purpose, lang),
                "purposeId": activity.consent.purpose if activity.consent else activity.id,
                "purposeCategory": dpv_purposes(activity),
                "consentType": "EXPLICIT",
                "piiCategory": [
                    str(_say(register, register.categories[c].name, lang))
                    if c in register.categories
                    else c
                    for c in activity.categories
                ],
                "primaryPurpose": True,
                "termination": _termination(register, activity, lang),
                "thirdPartyDisclosure": bool(third),
                "thirdPartyName": ", ".join(third),
                "legalBasis": list(legal_basis(activity.legal_basis)),
            }
        ],
    }


def _moment(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


def receipt(
    session: Session,
    event_id: str,
    *,
    register: Register | None = None,
    base_url: str = "",
) -> dict[str, Any]:
    """The receipt of consent event ``event_id`` (also its receipt id).

    ``register`` is the version the event was recorded under; by default it is
    read from the stored versions, which is what a receipt should describe.
    ``base_url`` (``OMBUD_BASE_URL``) makes ``policyUrl`` absolute: it points at
    the notice exactly as that version read it. Raises :class:`ReceiptNotFoundError`.
    """
    try:
        key = str(uuid.UUID(event_id))
    except (ValueError, AttributeError, TypeError):
        raise ReceiptNotFoundError(
            "a receipt id is a UUID, as the consent API returned it", field="id"
        ) from None
    event = session.get(ConsentEvent, key)
    if event is None:
        raise ReceiptNotFoundError(
            f"no consent receipt {key}; it may have been erased at the person's request",
            field="id",
        )
    text = session.get(ConsentText, event.text_digest)
    shown = stored_register(session, event.register_version) if register is None else register
    lang = event.language
    activities = shown.consent_purposes().get(event.purpose, [])
    controllers = [_controller(shown, c, lang) for c in _controllers(shown, activities)]
    recipients = _recipients(shown, activities, lang)
    special = [
        str(_say(shown, shown.categories[c].name, lang))
        for a in activities
        for c in a.categories
        if c in shown.categories and shown.categories[c].special
    ]
    history = session.execute(
        select(ConsentEvent.id, ConsentEvent.event, ConsentEvent.created_at, ConsentEvent.method)
        .where(
            ConsentEvent.subject_digest == event.subject_digest,
            ConsentEvent.purpose == event.purpose,
            ConsentEvent.created_at <= event.created_at,
        )
        .order_by(ConsentEvent.created_at.desc(), ConsentEvent.id)
        .limit(MAX_HISTORY)
    ).all()
    expires = None
    if event.event == EventType.GIVEN:
        lapse = expiry(event.created_at, shown.consent.renew_after)
        expires = _moment(lapse) if lapse is not None else None
    policy = f"{base_url.rstrip('/')}/privacy/history/{event.register_version}?lang={lang}"
    notice = {
        "digest": event.text_digest,
        "language": text.language if text else lang,
        "url": policy,
        "content": text.content if text else None,
    }
    withdrawal = None
    if text is not None:
        wording = text.content.get("wording")
        withdrawal = (
            wording.get("withdrawal") if isinstance(wording, dict) else None
        ) or text.content.get("withdrawal")
    services = [_service(shown, a, lang) for a in activities]
    return {
        # Kantara Consent Receipt v1.1
        "version": KANTARA_VERSION,
        "jurisdiction": "EU (GDPR)",
        "consentTimestamp": int(event.created_at.timestamp()),
        "collectionMethod": _METHODS.get(event.method, event.method),
        "consentReceiptID": event.id,
        "language": lang,
        "piiPrincipalId": event.subject_digest,
        "piiPrincipalIdType": f"hmac-sha256:{event.subject_kind}",
        "piiControllers": controllers,
        "policyUrl": policy,
        "services": services,
        "sensitive": bool(special),
        "spiCat": sorted(set(special)),
        # ISO/IEC TS 27560 (DPV consent-27560 terms)
        "recordId": event.id,
        "schemaVersion": SCHEMA_VERSION,
        "subjectId": event.subject_digest,
        "notice": notice,
        "purposes": [p["purposes"][0] for p in services],
        "data": sorted(
            {
                str(_say(shown, shown.categories[c].name, lang))
                for a in activities
                for c in a.categories
                if c in shown.categories
            }
        ),
        "controllers": [c["piiController"] for c in controllers],
        "retention": [_termination(shown, a, lang) for a in activities],
        "recipients": recipients,
        "withdrawalMethod": {
            "statement": withdrawal,
            "how": _WITHDRAW.get(event.method, _WITHDRAW["banner"]),
        },
        "events": [
            {
                "id": row.id,
                "time": _moment(row.created_at),
                "type": _DPV_EVENTS.get(EventType(row.event), row.event),
                "state": row.event,
                "method": row.method,
                "validity": {
                    "from": _moment(row.created_at),
                    "until": expires if row.id == event.id else None,
                }
                if row.event == EventType.GIVEN
                else None,
            }
            for row in reversed(history)
        ],
        # Ombud's own
        "event": {
            "type": event.event,
            "purpose": event.purpose,
            "category": event.category,
            "time": _moment(event.created_at),
            "method": event.method,
            "gpc": event.gpc,
            "choiceId": event.choice_id,
            "expiresAt": expires,
            "ipTruncated": event.ip_truncated,
            "userAgentFamily": event.user_agent_family,
        },
        "registerVersion": event.register_version,
    }
