"""The W3C Data Privacy Vocabulary (DPV 2.x) terms Ombud maps the register to.

Checked against the DPV 2.1-2.3 releases (https://w3id.org/dpv). DPV has no
``dpv:PublicTask``: Art. 6(1)(e) is ``dpv:PublicInterest`` (with
``dpv:OfficialAuthorityOfController`` beside it), so Ombud emits
``dpv:PublicInterest`` together with the GDPR-specific ``eu-gdpr:A6-1-e``.
Nor has it ``dpv:CustomerSatisfaction``; satisfaction surveys map to
``dpv:CustomerCare`` and ``dpv:ImproveInternalCRMProcesses``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ombud.register.model import (
    Activity,
    LegalBasis,
    RecipientRole,
    Right,
    Source,
    TransferMechanism,
)

NAMESPACES = {
    "dpv": "https://w3id.org/dpv#",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    "legal-eu": "https://w3id.org/dpv/legal/eu#",
    "dct": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

#: Legal basis -> (DPV concept, GDPR article concept)
LEGAL_BASES: dict[LegalBasis, tuple[str, str]] = {
    LegalBasis.CONSENT: ("dpv:Consent", "eu-gdpr:A6-1-a"),
    LegalBasis.CONTRACT: ("dpv:Contract", "eu-gdpr:A6-1-b"),
    LegalBasis.LEGAL_OBLIGATION: ("dpv:LegalObligation", "eu-gdpr:A6-1-c"),
    LegalBasis.VITAL_INTEREST: ("dpv:VitalInterest", "eu-gdpr:A6-1-d"),
    LegalBasis.PUBLIC_TASK: ("dpv:PublicInterest", "eu-gdpr:A6-1-e"),
    LegalBasis.LEGITIMATE_INTEREST: ("dpv:LegitimateInterest", "eu-gdpr:A6-1-f"),
}

SOURCES: dict[Source, str] = {
    Source.DATA_SUBJECT: "dpv:DataSubjectDataSource",
    Source.SUPPLIERS: "dpv:ThirdPartyDataSource",
    Source.PUBLIC_SOURCES: "dpv:PublicDataSource",
}

ROLES: dict[RecipientRole, tuple[str, ...]] = {
    RecipientRole.PROCESSOR: ("dpv:Recipient", "dpv:DataProcessor"),
    RecipientRole.INDEPENDENT_CONTROLLER: ("dpv:Recipient", "dpv:DataController"),
    RecipientRole.JOINT_CONTROLLER: ("dpv:Recipient", "dpv:DataController"),
    RecipientRole.AUTHORITY: ("dpv:Recipient", "dpv:Authority"),
}

#: Transfer mechanism -> the GDPR article (or concept) it rests on
MECHANISMS: dict[TransferMechanism, str] = {
    TransferMechanism.ADEQUACY: "eu-gdpr:A45-3",
    TransferMechanism.SCCS: "eu-gdpr:A46-2-c",
    TransferMechanism.BCRS: "eu-gdpr:A46-2-b",
    TransferMechanism.DEROGATION: "eu-gdpr:A49-1-a",
}

RIGHTS: dict[Right, str] = {
    Right.ACCESS: "eu-gdpr:A15",
    Right.RECTIFICATION: "eu-gdpr:A16",
    Right.ERASURE: "eu-gdpr:A17",
    Right.RESTRICTION: "eu-gdpr:A18",
    Right.OBJECTION: "eu-gdpr:A21",
    Right.PORTABILITY: "eu-gdpr:A20",
    Right.WITHDRAW_CONSENT: "eu-gdpr:A7-3",
}

#: Word beginnings in an activity's id or names (any language, lower case) -> DPV purposes.
#: Every matching row contributes, in table order.
PURPOSES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("satisfaction", "kundnöjd", "nöjdhet", "survey", "enkät"),
        ("dpv:CustomerCare", "dpv:ImproveInternalCRMProcesses"),
    ),
    (
        (
            "customer-service",
            "customer service",
            "customer care",
            "kundtjänst",
            "kundservice",
            "support",
            "service vid kontakt",
        ),
        ("dpv:CustomerCare", "dpv:CommunicationForCustomerCare"),
    ),
    (("statistic", "statistik"), ("dpv:OptimisationForController",)),
    (("newsletter", "nyhetsbrev"), ("dpv:CommunicationManagement", "dpv:Marketing")),
    (
        (
            "direct-marketing",
            "direct marketing",
            "direktmarknadsföring",
            "direkt marknadsföring",
            "telemarketing",
        ),
        ("dpv:DirectMarketing",),
    ),
    (("marketing", "marknadsföring", "advertis", "annons", "retarget"), ("dpv:Marketing",)),
    (("analytics", "analys", "web-statistics"), ("dpv:ServiceUsageAnalytics",)),
    (
        ("booking", "book-", "boka", "appointment", "meeting", "möte"),
        ("dpv:RequestedServiceProvision",),
    ),
    (
        ("network", "nätverk", "community", "membership", "medlem"),
        ("dpv:CommunicationManagement", "dpv:MemberPartnerManagement"),
    ),
    (
        ("recruit", "rekryter", "job-application", "ansökan om anställning"),
        ("dpv:RecruitmentManagement",),
    ),
    (("employ", "anställ", "personnel", "payroll", "lön"), ("dpv:HumanResourceManagement",)),
    (
        ("accounting", "bookkeeping", "bokföring", "invoic", "faktur"),
        ("dpv:LegalCompliance", "dpv:PaymentManagement"),
    ),
    (("security", "säkerhet"), ("dpv:EnforceSecurity",)),
    (
        ("fraud", "bedrägeri", "money-laundering", "penningtvätt"),
        ("dpv:FraudPreventionAndDetection",),
    ),
    (("whistleblow", "visselbl"), ("dpv:LegalCompliance",)),
    (
        ("credit", "kredit", "loan", "lån"),
        ("dpv:CustomerSolvencyMonitoring", "dpv:ServiceProvision"),
    ),
    (("supplier", "vendor", "leverantör"), ("dpv:VendorManagement",)),
    (("crm", "customer-relationship", "kundrelation"), ("dpv:CustomerRelationshipManagement",)),
    (("event", "evenemang"), ("dpv:ServiceRegistration",)),
)

MARKETING_PURPOSES = frozenset(
    {
        "dpv:Marketing",
        "dpv:DirectMarketing",
        "dpv:PersonalisedAdvertising",
    }
)


def legal_basis(basis: LegalBasis) -> tuple[str, str]:
    """(DPV concept, GDPR article concept) of a legal basis."""
    return LEGAL_BASES[basis]


def purposes(activity: Activity) -> list[str]:
    """The DPV purposes an activity's id, names and flags suggest; ``dpv:Purpose`` if none."""
    haystack = " ".join(_words(activity)).lower()
    found: list[str] = []
    for keywords, concepts in PURPOSES:
        if any(re.search(rf"(?<!\w){re.escape(keyword)}", haystack) for keyword in keywords):
            found.extend(c for c in concepts if c not in found)
    if activity.direct_marketing and "dpv:DirectMarketing" not in found:
        found.append("dpv:DirectMarketing")
    if activity.profiling and found and set(found) & MARKETING_PURPOSES:
        found.append("dpv:PersonalisedAdvertising")
    return found or ["dpv:Purpose"]


def is_marketing(activity: Activity) -> bool:
    """Whether the activity is marketing a visitor would want to stop."""
    return activity.direct_marketing or bool(set(purposes(activity)) & MARKETING_PURPOSES)


def _words(activity: Activity) -> Iterable[str]:
    yield activity.id
    yield from activity.name.root.values()
    if activity.consent is not None:
        yield activity.consent.purpose
