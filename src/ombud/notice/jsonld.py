"""The notice as JSON-LD with W3C Data Privacy Vocabulary (DPV) terms.

Keys that have a DPV property carry its name (``hasLegalBasis``, ``hasPurpose``,
``hasPersonalData`` ...) and are mapped in the ``@context``; the remaining keys
are plain JSON for programs that read the notice without an RDF toolchain. All
texts are in the requested language, the same wording as the HTML page.
"""

from __future__ import annotations

import json
from typing import Any

from ombud.notice import dpv
from ombud.notice.content import ActivityView, ContactView, NoticeContent, may_transfer
from ombud.register.model import Activity, Register

JSON = dict[str, Any]

_ID = {"@type": "@id"}
_IDS = {"@type": "@id", "@container": "@set"}


def context(lang: str) -> JSON:
    """The JSON-LD ``@context``: prefixes, and the keys that are DPV properties."""
    return {
        **dpv.NAMESPACES,
        "@language": lang,
        "title": "dct:title",
        "description": "dct:description",
        "updated": {"@id": "dct:modified", "@type": "xsd:date"},
        "published": {"@id": "dct:issued", "@type": "xsd:date"},
        "version": "dct:hasVersion",
        "name": "schema:name",
        "email": "schema:email",
        "postal": "schema:address",
        "phone": "schema:telephone",
        "url": {"@id": "schema:url", "@type": "@id"},
        "hasDataController": {"@id": "dpv:hasDataController", "@container": "@set"},
        "hasJointDataControllers": "dpv:hasJointDataControllers",
        "hasDataProtectionOfficer": "dpv:hasDataProtectionOfficer",
        "hasAuthority": "dpv:hasAuthority",
        "hasPersonalDataHandling": {"@id": "dpv:hasPersonalDataHandling", "@container": "@set"},
        "hasPurpose": "dpv:hasPurpose",
        "hasLegalBasis": {"@id": "dpv:hasLegalBasis", **_IDS},
        "hasPersonalData": {"@id": "dpv:hasPersonalData", "@container": "@set"},
        "hasDataSubject": {"@id": "dpv:hasDataSubject", "@container": "@set"},
        "hasDataSource": {"@id": "dpv:hasDataSource", **_IDS},
        "hasRecipient": {"@id": "dpv:hasRecipient", "@container": "@set"},
        "hasProcessing": {"@id": "dpv:hasProcessing", **_IDS},
        "hasStorageCondition": "dpv:hasStorageCondition",
        "hasDuration": "dpv:hasDuration",
        "hasCountry": "dpv:hasCountry",
        "hasThirdCountry": "dpv:hasThirdCountry",
        "hasRight": {"@id": "dpv:hasRight", "@container": "@set"},
        "hasApplicableLaw": {"@id": "dpv:hasApplicableLaw", **_ID},
    }


def render_json(register: Register, n: NoticeContent) -> bytes:
    """The notice as JSON-LD bytes (UTF-8, indented)."""
    return json.dumps(document(register, n), ensure_ascii=False, indent=2).encode("utf-8")


def document(register: Register, n: NoticeContent) -> JSON:
    """The notice as a JSON-LD object."""
    org = register.organisation
    views = {a.id: a for a in n.activities}
    controllers = [
        _clean(
            {
                "@id": f"#controller-{c.id}",
                "@type": "dpv:DataController",
                "id": c.id,
                "name": c.name,
                "lead": c.lead,
                "orgnr": c.orgnr,
                "email": c.email,
                "url": c.website,
            }
        )
        for c in org.controllers
    ]
    doc: JSON = {
        "@context": context(n.lang),
        "@type": "dpv:PrivacyNotice",
        "hasApplicableLaw": "legal-eu:law-GDPR",
        "language": n.lang,
        "availableLanguages": list(register.languages),
        "title": n.title,
        "intro": list(n.intro),
        "version": n.version,
        "updated": n.updated,
        "published": n.published or None,
        "organisation": org.name,
        "controllersStatement": n.controllers,
        "hasDataController": controllers,
    }
    if len(org.controllers) > 1:
        doc["hasJointDataControllers"] = {
            "@type": "dpv:JointDataControllers",
            "hasDataController": [{"@id": c["@id"]} for c in controllers],
            "description": n.controllers,
        }
    if n.dpo is not None:
        doc["hasDataProtectionOfficer"] = _contact("dpv:DataProtectionOfficer", n.dpo)
    if n.authority is not None:
        doc["hasAuthority"] = _contact("dpv:DataProtectionAuthority", n.authority)
    doc["categories"] = [
        {
            "@id": f"#{c.anchor}",
            "@type": "dpv:PersonalData",
            "id": c.id,
            "name": c.name,
            "examples": c.examples,
            "special": c.special,
        }
        for c in n.categories
    ]
    doc["hasPersonalDataHandling"] = [
        _activity(register, activity, views[activity.id]) for activity in register.activities
    ]
    doc["hasRecipient"] = [_recipient(register, rid, n) for rid in register.recipients]
    doc["transfers"] = n.transfers or None
    doc["retention"] = n.retention
    doc["disclosure"] = list(n.disclosure)
    doc["security"] = n.security
    doc["hasRight"] = [
        {
            "@id": f"#{r.anchor}",
            "@type": ["dpv:DataSubjectRight", dpv.RIGHTS[r.id]],
            "id": r.id.value,
            "title": r.title,
            "description": r.text,
            "conditions": list(r.conditions),
            "after": r.after or None,
            "url": r.action.href,
        }
        for r in n.rights
    ]
    doc["contact"] = n.contact
    doc["history"] = [{"date": h.date, "description": h.text} for h in n.history]
    doc["otherNotices"] = [
        _clean({"area": o.area, "where": o.where, "url": o.url}) for o in n.other_notices
    ]
    doc["links"] = {
        "history": n.history_link.href,
        "request": n.request_link.href,
        "consent": n.consent_link.href,
    }
    return doc


def _activity(register: Register, activity: Activity, view: ActivityView) -> JSON:
    basis, article = dpv.legal_basis(activity.legal_basis)
    categories = register.categories
    retention = activity.retention
    storage: JSON = {"@type": "dpv:StorageDuration", "description": view.retention}
    if retention is not None and retention.period and not retention.example:
        # An example period is not published: the notice states only the wording.
        storage["hasDuration"] = retention.period
        storage["from"] = retention.from_.value
    if retention is not None and retention.until:
        storage["until"] = retention.until
    return _clean(
        {
            "@id": f"#{view.anchor}",
            "@type": "dpv:PersonalDataHandling",
            "id": activity.id,
            "name": view.name,
            "hasPurpose": {"@type": dpv.purposes(activity), "description": view.purpose},
            "hasLegalBasis": [basis, article],
            "legalBasis": activity.legal_basis.value,
            "legalBasisText": view.basis_plain,
            "legitimateInterest": view.legitimate_interest or None,
            "hasPersonalData": [
                {"@id": f"#category-{cid}", "name": name, "special": categories[cid].special}
                if cid in categories
                else {"@id": f"#category-{cid}", "name": name}
                for cid, name in zip(activity.categories, view.categories, strict=True)
            ],
            "hasDataSubject": [
                {"@type": "dpv:DataSubject", "id": sid, "name": name}
                for sid, name in zip(activity.subjects, view.subjects, strict=True)
            ],
            "hasDataSource": [dpv.SOURCES[s] for s in activity.sources],
            "sources": list(view.sources),
            "hasRecipient": [
                {"@id": f"#recipient-{rid}", "name": name}
                for rid, name in zip(activity.recipients, view.recipients, strict=True)
            ],
            "hasStorageCondition": storage,
            "hasProcessing": ["dpv:Profiling"] if activity.profiling else [],
            "profiling": activity.profiling,
            "profilingLogic": view.profiling_logic or None,
            "directMarketing": activity.direct_marketing,
            "consentPurpose": activity.consent.purpose if activity.consent else None,
            "howToStop": _clean({"label": view.action.label, "url": view.action.href}),
        }
    )


def _recipient(register: Register, recipient_id: str, n: NoticeContent) -> JSON:
    recipient = register.recipients[recipient_id]
    view = next(r for r in n.recipients if r.id == recipient_id)
    transfer: JSON | None = None
    if may_transfer(recipient) and recipient.transfer is not None:
        transfer = _clean(
            {
                "mechanisms": [m.value for m in recipient.transfer.mechanisms],
                "hasLegalBasis": [dpv.MECHANISMS[m] for m in recipient.transfer.mechanisms],
                "reference": recipient.transfer.reference,
                "description": view.safeguard,
            }
        )
    return _clean(
        {
            "@id": f"#{view.anchor}",
            "@type": list(dpv.ROLES[recipient.role]),
            "id": recipient_id,
            "name": view.name,
            "role": recipient.role.value,
            "roleText": view.role,
            "description": view.description or None,
            "hasCountry": recipient.country,
            "hasThirdCountry": recipient.country if recipient.third_country else None,
            "thirdCountry": recipient.third_country,
            "transfer": transfer,
            "url": recipient.privacy_url,
            "activities": [a.id for a in register.activities if recipient_id in a.recipients],
        }
    )


def _contact(kind: str, card: ContactView) -> JSON:
    return _clean(
        {
            "@type": kind,
            "name": card.name or card.heading,
            "email": card.email,
            "postal": card.postal,
            "phone": card.phone,
            "url": card.website,
        }
    )


def _clean(value: JSON) -> JSON:
    """Drop keys without a value (None or empty string); keep False, 0 and empty lists."""
    return {k: v for k, v in value.items() if v is not None and v != ""}
