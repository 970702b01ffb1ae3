"""The machine-readable notice: JSON-LD with W3C DPV terms."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from ombud.notice import dpv, render_notice
from ombud.register import Register, loads
from ombud.register.model import LegalBasis

DPV_BASES = {
    "consent": "dpv:Consent",
    "contract": "dpv:Contract",
    "legal_obligation": "dpv:LegalObligation",
    "legitimate_interest": "dpv:LegitimateInterest",
    "public_task": "dpv:PublicInterest",  # DPV has no dpv:PublicTask; see ombud.notice.dpv
    "vital_interest": "dpv:VitalInterest",
}


def document(register: Register, lang: str, **options: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(render_notice(register, lang=lang, fmt="json", **options))
    return parsed


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "@context":
                yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_almi_json_has_context_and_a_dpv_legal_basis_per_activity(
    almi: Register, lang: str
) -> None:
    doc = document(almi, lang, version="abc")
    assert doc["@context"]["dpv"] == "https://w3id.org/dpv#"
    assert doc["@type"] == "dpv:PrivacyNotice"
    assert doc["language"] == lang
    assert doc["version"] == "abc"
    assert (doc["updated"], doc["published"]) == ("2024-07-02", "2024-07-05")
    handled = doc["hasPersonalDataHandling"]
    assert [a["id"] for a in handled] == [a.id for a in almi.activities]
    for item, activity in zip(handled, almi.activities, strict=True):
        assert DPV_BASES[activity.legal_basis.value] in item["hasLegalBasis"]
        assert item["name"] == activity.name.get(lang)
        assert item["hasPurpose"]["description"] == " ".join(activity.purpose.get(lang).split())
        assert all(p.startswith("dpv:") for p in item["hasPurpose"]["@type"])
    names = " ".join(r["name"] for r in doc["hasRecipient"])
    assert all(name in names for name in ("Google", "Meta", "Bing", "LinkedIn"))
    assert doc["hasDataProtectionOfficer"]["email"] == "dataskyddsombud@almi.se"
    assert doc["hasAuthority"]["email"] == "imy@imy.se"
    assert doc["hasAuthority"]["postal"] == (
        "Integritetsskyddsmyndigheten, Box 8114, 104 20 Stockholm"
    )
    assert len(doc["hasRight"]) == 7
    assert doc["history"][0]["date"] == "2024-07-02"
    assert len(doc["hasJointDataControllers"]["hasDataController"]) == len(
        almi.organisation.controllers
    )


def test_every_legal_basis_maps_to_dpv_and_the_gdpr_article(acme: Register) -> None:
    doc = document(acme, "en")
    bases = {a["legalBasis"]: a["hasLegalBasis"] for a in doc["hasPersonalDataHandling"]}
    assert set(bases) == {b.value for b in LegalBasis}
    for basis, terms in bases.items():
        assert terms[0] == DPV_BASES[basis]
        assert re.fullmatch(r"eu-gdpr:A6-1-[a-f]", terms[1])
    assert bases["legitimate_interest"][1] == "eu-gdpr:A6-1-f"


def test_every_prefixed_term_has_its_prefix_in_the_context(acme: Register) -> None:
    doc = document(acme, "sv")
    context = doc["@context"]
    prefixes = {
        s.split(":", 1)[0] for s in strings(doc) if re.fullmatch(r"[a-z][a-z-]*:[A-Za-z0-9-]+", s)
    }
    assert prefixes
    assert prefixes <= set(context), prefixes - set(context)
    for prefix in prefixes:
        assert context[prefix].startswith("https://w3id.org/dpv")


def test_transfers_retention_and_texts(acme: Register) -> None:
    doc = document(acme, "sv", base_path="/portal")
    mailer = next(r for r in doc["hasRecipient"] if r["id"] == "mailer")
    assert mailer["thirdCountry"] is True
    assert mailer["hasThirdCountry"] == "US"
    assert mailer["transfer"]["hasLegalBasis"] == ["eu-gdpr:A46-2-c"]
    assert mailer["@type"] == ["dpv:Recipient", "dpv:DataProcessor"]
    tax = next(r for r in doc["hasRecipient"] if r["id"] == "tax")
    assert tax["thirdCountry"] is False
    assert "transfer" not in tax

    by_id = {a["id"]: a for a in doc["hasPersonalDataHandling"]}
    assert by_id["order-handling"]["hasStorageCondition"]["hasDuration"] == "P3Y"
    # an example period is never published, in any format
    assert "hasDuration" not in by_id["bookkeeping"]["hasStorageCondition"]
    assert by_id["newsletter"]["hasStorageCondition"]["until"] == "consent_withdrawn"
    assert by_id["newsletter"]["name"] == "Nyhetsbrev"
    assert by_id["direct-marketing"]["howToStop"]["url"] == (
        "/portal/privacy/request?type=objection&activity=direct-marketing&lang=sv"
    )
    assert by_id["first-aid"]["hasPersonalData"][0]["special"] is True
    assert doc["links"]["consent"] == "/portal/privacy/consent?lang=sv"
    rights = {r["id"]: r for r in doc["hasRight"]}
    assert rights["access"]["title"] == "Få en kopia av dina uppgifter"
    assert "eu-gdpr:A15" in rights["access"]["@type"]
    assert rights["withdraw_consent"]["@type"][1] == "eu-gdpr:A7-3"


ACTIVITY = """\
version: 1
languages: [sv, en]
organisation: {{name: X, controllers: [{{id: x, name: X AB, lead: true}}]}}
activities:
  - id: {id}
    name: {{sv: "{sv}", en: "{en}"}}
    purpose: {{sv: "-", en: "-"}}
    legal_basis: {basis}
    direct_marketing: {dm}
    profiling: {profiling}
notice: {{updated: 2025-01-01}}
"""


@pytest.mark.parametrize(
    ("activity_id", "sv", "en", "basis", "flags", "expected"),
    [
        (
            "customer-satisfaction",
            "Mäta kundnöjdhet",
            "Measuring customer satisfaction",
            "legitimate_interest",
            "",
            {"dpv:CustomerCare", "dpv:ImproveInternalCRMProcesses"},
        ),
        (
            "customer-service",
            "Service vid kontakt",
            "Service when you contact us",
            "legitimate_interest",
            "",
            {"dpv:CustomerCare", "dpv:CommunicationForCustomerCare"},
        ),
        (
            "direct-marketing",
            "Direkt marknadsföring",
            "Direct marketing",
            "legitimate_interest",
            "dm",
            {"dpv:DirectMarketing"},
        ),
        (
            "telemarketing",
            "Telemarketing",
            "Telemarketing",
            "legitimate_interest",
            "dm",
            {"dpv:DirectMarketing"},
        ),
        (
            "newsletter",
            "Nyhetsbrev",
            "Newsletter",
            "consent",
            "",
            {"dpv:CommunicationManagement", "dpv:Marketing"},
        ),
        (
            "website-analytics",
            "Analys av hemsida",
            "Website analytics",
            "consent",
            "",
            {"dpv:ServiceUsageAnalytics"},
        ),
        (
            "marketing-profiling",
            "Marknadsföring",
            "Marketing",
            "consent",
            "profiling",
            {"dpv:Marketing", "dpv:PersonalisedAdvertising"},
        ),
        (
            "meeting-booking",
            "Bokar möte via webben",
            "Booking a meeting online",
            "contract",
            "",
            {"dpv:RequestedServiceProvision"},
        ),
        ("accounts", "Bokföring", "Bookkeeping", "legal_obligation", "", {"dpv:LegalCompliance"}),
        (
            "fraud-checks",
            "Kontroller",
            "Fraud prevention",
            "legitimate_interest",
            "",
            {"dpv:FraudPreventionAndDetection"},
        ),
        ("misc", "Övrigt", "Other", "legitimate_interest", "", {"dpv:Purpose"}),
    ],
)
def test_purposes_map_to_dpv(
    activity_id: str, sv: str, en: str, basis: str, flags: str, expected: set[str]
) -> None:
    text = ACTIVITY.format(
        id=activity_id,
        sv=sv,
        en=en,
        basis=basis,
        dm=str(flags == "dm").lower(),
        profiling=str(flags == "profiling").lower(),
    )
    activity = loads(text).register.activities[0]
    found = dpv.purposes(activity)
    assert expected <= set(found)
    if expected == {"dpv:Purpose"}:
        assert found == ["dpv:Purpose"]
    # "prevention" must not read as "event"
    assert "dpv:ServiceRegistration" not in found
