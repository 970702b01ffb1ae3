"""A receipt proves one event: every ISO/IEC TS 27560 and Kantara field, and the exact text."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from consent_ledger import NOW, Ledger, visitor
from sqlalchemy import select

from ombud import consent, store
from ombud.consent import ConsentText, ReceiptNotFoundError

#: DOMAIN.md "Consent": Kantara Consent Receipt v1.1's core.
KANTARA = (
    "version",
    "jurisdiction",
    "consentTimestamp",
    "collectionMethod",
    "consentReceiptID",
    "piiPrincipalId",
    "piiControllers",
    "policyUrl",
    "services",
)
#: services[].purposes[] (docs/consent.md).
KANTARA_PURPOSE = (
    "purpose",
    "purposeCategory",
    "consentType",
    "piiCategory",
    "primaryPurpose",
    "termination",
    "thirdPartyDisclosure",
    "thirdPartyName",
)
#: DOMAIN.md: ISO/IEC TS 27560 as mapped in DPV's consent-27560 guide.
ISO_27560 = (
    "recordId",
    "schemaVersion",
    "subjectId",
    "notice",
    "language",
    "purposes",
    "data",
    "controllers",
    "retention",
    "jurisdiction",
    "recipients",
    "withdrawalMethod",
    "events",
)


def receipt_of(ledger: Ledger, receipt_id: str) -> dict[str, object]:
    with store.transaction(ledger.engine) as session:
        return consent.receipt(session, receipt_id, base_url="https://ombud.example/")


def test_a_receipt_has_every_field_and_the_exact_text_shown(ledger: Ledger) -> None:
    anna = visitor()
    choice = ledger.choose(anna, {"statistics": False, "marketing": True}, language="en")
    marketing = next(e for e in choice.events if e.purpose == "marketing")
    proof = receipt_of(ledger, marketing.receipt_id)

    for key in (*KANTARA, *ISO_27560, "event", "registerVersion"):
        assert proof.get(key) not in (None, "", []), key
    (service,) = proof["services"]  # type: ignore[misc]
    (purpose,) = service["purposes"]
    for key in KANTARA_PURPOSE:
        assert key in purpose, key

    assert proof["consentReceiptID"] == proof["recordId"] == marketing.receipt_id
    assert proof["piiPrincipalId"] == proof["subjectId"] == ledger.digest(anna)
    assert anna not in json.dumps(proof)
    assert proof["consentTimestamp"] == int(NOW.timestamp())
    assert proof["registerVersion"] == ledger.version
    assert proof["policyUrl"] == f"https://ombud.example/privacy/history/{ledger.version}?lang=en"
    assert proof["language"] == "en"
    assert proof["event"] == {
        "type": "given",
        "purpose": "marketing",
        "category": "marketing",
        "time": "2026-03-02T09:30:00+00:00",
        "method": "banner",
        "gpc": False,
        "choiceId": choice.choice_id,
        "expiresAt": "2027-03-02T09:30:00+00:00",
        "ipTruncated": None,
        "userAgentFamily": None,
    }
    # The text shown, exactly as stored, and the same as the banner's text for that version.
    notice = proof["notice"]
    assert isinstance(notice, dict)
    assert notice["digest"] == ledger.texts["en"]
    assert notice["content"] == consent.banner_text(ledger.register, "en")
    assert consent.digest(notice["content"]) == ledger.texts["en"]
    withdrawal = proof["withdrawalMethod"]
    assert isinstance(withdrawal, dict)
    assert withdrawal["statement"] == notice["content"]["wording"]["withdrawal"]
    # Almi's marketing: profiling shared with Google, Meta, Bing and LinkedIn.
    assert purpose["purposeId"] == "marketing"
    assert purpose["consentType"] == "EXPLICIT"
    assert purpose["thirdPartyDisclosure"] is True
    assert set(purpose["thirdPartyName"].split(", ")) == {
        "Google",
        "Meta",
        "Bing (Microsoft)",
        "LinkedIn",
    }
    assert "dpv:DirectMarketing" in purpose["purposeCategory"]
    assert {r["id"] for r in proof["recipients"]} >= {"google", "meta"}  # type: ignore[union-attr]
    controllers = proof["piiControllers"]
    assert isinstance(controllers, list)
    assert next(c for c in controllers if c["lead"])["piiController"] == "Almi AB"


def test_the_events_list_the_history_of_the_purpose_up_to_the_receipt(ledger: Ledger) -> None:
    anna = visitor()
    ledger.choose(anna, {"statistics": True, "marketing": True})
    second = ledger.choose(
        anna, {"statistics": True, "marketing": False}, at=NOW + dt.timedelta(days=3)
    )
    ledger.choose(anna, {"statistics": True, "marketing": True}, at=NOW + dt.timedelta(days=9))
    withdrawn = next(e for e in second.events if e.purpose == "marketing")
    proof = receipt_of(ledger, withdrawn.receipt_id)
    events = proof["events"]
    assert isinstance(events, list)
    assert [(e["state"], e["type"]) for e in events] == [
        ("given", "dpv:ConsentGiven"),
        ("withdrawn", "dpv:ConsentWithdrawn"),
    ]
    assert events[-1]["id"] == withdrawn.receipt_id
    assert events[-1]["validity"] is None


def test_the_receipt_describes_the_register_as_it_was_when_the_choice_was_made(
    ledger: Ledger,
) -> None:
    choice = ledger.choose(visitor(), {"statistics": True, "marketing": True})
    renamed = ledger.register.model_copy(
        update={"organisation": ledger.register.organisation.model_copy(update={"name": "Ny Almi"})}
    )
    with store.transaction(ledger.engine) as session:
        store.record_served(session, renamed)
    proof = receipt_of(ledger, choice.events[0].receipt_id)
    assert proof["registerVersion"] == ledger.version
    assert proof["notice"]["content"]["organisation"] == "Almi"  # type: ignore[index]


@pytest.mark.parametrize("receipt_id", ["3f2b8c1e-5a4d-4c2b-9e1f-7a6b5c4d3e2f", "nonsense"])
def test_an_unknown_receipt_is_not_found(ledger: Ledger, receipt_id: str) -> None:
    with pytest.raises(ReceiptNotFoundError):
        receipt_of(ledger, receipt_id)


def test_an_erased_subjects_receipt_is_gone(ledger: Ledger) -> None:
    anna = visitor()
    choice = ledger.choose(anna, {"statistics": True, "marketing": True})
    with store.transaction(ledger.engine) as session:
        consent.erase_subject(session, {ledger.digest(anna)}, actor="test")
    with pytest.raises(ReceiptNotFoundError, match="erased"):
        receipt_of(ledger, choice.events[0].receipt_id)
    # The text shown stays: it names nobody and other receipts need it.
    with store.transaction(ledger.engine) as session:
        assert session.scalar(
            select(ConsentText.digest).where(ConsentText.digest == ledger.texts["sv"])
        )
