"""The register extract as a JSON object, with W3C DPV terms (see :mod:`ombud.rights.extract`).

Built from the same :class:`ExtractContent` as the HTML and PDF, so the formats
say the same things.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ombud.notice import dpv, labels
from ombud.notice.content import (
    ActivityView,
    ContactView,
    RecipientView,
    may_transfer,
    placeholders,
)
from ombud.register.model import Activity, Register
from ombud.rights.extract import (
    ExtractContent,
    ExtractInput,
    RowGroup,
    find_collection,
    find_system,
    group_rows,
    json_value,
    system_activities,
)


def extract_document(data: ExtractInput, content: ExtractContent) -> dict[str, Any]:
    """The extract as a JSON object, with W3C DPV terms for legal bases, purposes and roles."""
    register = data.register
    org = register.organisation
    lang = content.lang
    by_id = {a.id: a for a in register.activities}
    views = {a.id: a for a in content.activities}
    groups = group_rows(register, data.rows)
    controller = content.controller
    return {
        "request": {
            "id": data.request_id,
            "type": "access",
            "received_at": data.received_at.isoformat(),
            "due": data.due.isoformat(),
            "language": lang,
            "generated_at": data.generated_at.isoformat(),
            "register_version": data.register_version,
        },
        "found": content.found,
        "controller": {
            "id": controller.id,
            "name": controller.name,
            "orgnr": controller.orgnr,
            "email": controller.email,
            "website": controller.website,
            "joint_controllers": [{"id": c.id, "name": c.name} for c in org.controllers]
            if len(org.controllers) > 1
            else [],
            "statement": content.controllers_statement or None,
            "dpo": _contact(content.dpo),
        },
        "data": [_group(register, group, content) for group in groups],
        "categories": [
            {"id": c.id, "name": c.name, "examples": c.examples or None, "special": c.special}
            for c in content.categories
        ],
        "processing": [
            _activity(by_id[view.id], view, lang, groups, register) for view in views.values()
        ],
        "recipients": [_recipient(register, view) for view in content.recipients],
        "transfers": content.transfers or None,
        "automated_decisions": {
            "profiling": [a.id for a in content.profiling],
            "text": content.labels["x_automated" if content.profiling else "x_no_automated"],
        },
        "other_controllers": [
            {
                "system": e.id,
                "name": e.system,
                "recipient": e.recipient or None,
                "independent_controller": e.independent,
                "privacy_url": e.privacy_url,
                "text": e.text,
            }
            for e in content.elsewhere
        ],
        "rights": [
            {
                "id": r.id.value,
                "gdpr": dpv.RIGHTS[r.id],
                "title": r.title,
                "text": r.text,
                "conditions": list(r.conditions),
                "after": r.after or None,
                "url": r.action.href if content.right_links else None,
            }
            for r in content.rights
        ],
        "complaint": _complaint(content, placeholders(register, lang)["authority"]),
    }


def _group(register: Register, group: RowGroup, content: ExtractContent) -> dict[str, Any]:
    spec = find_collection(register, group.system_id, group.collection)
    system = find_system(register, group.system_id)
    notes = {c.name: c for s in content.systems if s.id == group.system_id for c in s.collections}
    note = notes.get(group.collection)
    rows = []
    for row in group.rows:
        cells: dict[str, Any] = {}
        for column, value in row.values.items():
            encoded, encoding = json_value(value)
            cell: dict[str, Any] = {"value": encoded, "category": row.categories.get(column)}
            if encoding is not None:
                cell["encoding"] = encoding
            cells[column] = cell
        rows.append(cells)
    held = [i for i, row in enumerate(group.rows) if row.legal_hold]
    return {
        "system": group.system_id,
        "system_name": system.name if system is not None else group.system_id,
        "collection": group.collection,
        "activities": [a.id for a in system_activities(register, group.system_id)],
        "rows": rows,
        "legal_hold": {
            "activity": spec.legal_hold if spec is not None else None,
            "rows": held,
            "text": note.hold_note if note is not None else None,
        }
        if held
        else None,
        "restricted_rows": [i for i, row in enumerate(group.rows) if row.restricted],
    }


def _activity(
    activity: Activity,
    view: ActivityView,
    lang: str,
    groups: Sequence[RowGroup],
    register: Register,
) -> dict[str, Any]:
    basis, article = dpv.legal_basis(activity.legal_basis)
    return {
        "activity": activity.id,
        "name": view.name,
        "purpose": view.purpose,
        "dpv_purposes": dpv.purposes(activity),
        "legal_basis": {
            "id": activity.legal_basis.value,
            "dpv": basis,
            "gdpr": article,
            "name": view.basis_label,
            "text": view.basis_plain,
        },
        "legitimate_interest": view.legitimate_interest or None,
        "categories": [
            {"id": cid, "name": name}
            for cid, name in zip(activity.categories, view.categories, strict=True)
        ],
        "sources": [
            {"id": s.value, "dpv": dpv.SOURCES[s], "name": labels.source(lang, s)}
            for s in activity.sources
        ],
        "recipients": list(activity.recipients),
        "retention": view.retention,
        "profiling": activity.profiling,
        "profiling_logic": view.profiling_logic or None,
        "direct_marketing": activity.direct_marketing,
        "systems": sorted(
            {
                g.system_id
                for g in groups
                if activity.id in {a.id for a in system_activities(register, g.system_id)}
            }
        ),
    }


def _recipient(register: Register, view: RecipientView) -> dict[str, Any]:
    recipient = register.recipients[view.id]
    transfer = None
    if may_transfer(recipient) and recipient.transfer is not None:
        transfer = {
            "mechanisms": [m.value for m in recipient.transfer.mechanisms],
            "gdpr": [dpv.MECHANISMS[m] for m in recipient.transfer.mechanisms],
            "reference": recipient.transfer.reference,
            "safeguard": view.safeguard,
        }
    return {
        "id": view.id,
        "name": view.name,
        "role": recipient.role.value,
        "role_text": view.role,
        "dpv": list(dpv.ROLES[recipient.role]),
        "country": recipient.country,
        "third_country": recipient.third_country,
        "transfer": transfer,
        "description": view.description or None,
        "privacy_url": recipient.privacy_url,
    }


def _complaint(content: ExtractContent, authority: str) -> dict[str, Any]:
    card = content.authority
    return {
        "authority": authority,
        "email": card.email or None if card else None,
        "postal": card.postal or None if card else None,
        "phone": card.phone or None if card else None,
        "website": card.website or None if card else None,
        "text": content.complaint,
    }


def _contact(card: ContactView | None) -> dict[str, Any] | None:
    if card is None:
        return None
    return {
        "name": card.name or card.heading,
        "email": card.email or None,
        "postal": card.postal or None,
        "phone": card.phone or None,
    }
