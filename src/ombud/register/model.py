"""The privacy register: the pydantic model of DESIGN §3.

The model checks shape and types only. Whether the parts fit together
(references, translations, legal requirements) is the linter's job
(:mod:`ombud.register.lint`), so that one run reports every problem with its
line instead of stopping at the first.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ombud.register.text import Text

ISO_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?$"
)
IDENTIFIER = r"^[a-z0-9][a-z0-9_-]*$"

#: Identifier types Ombud knows how to normalise; custom types are allowed too.
IDENTIFIER_TYPES = ("email", "phone", "personnummer", "orgnr", "customer_id", "visitor_id", "ip")

#: ISO 3166 alpha-2 codes of the EU/EEA: a recipient elsewhere means a transfer.
EEA_COUNTRIES = frozenset(
    (
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    )
)


def _iso_duration(value: str) -> str:
    if not ISO_DURATION.match(value):
        raise ValueError(
            f"{value!r} is not an ISO 8601 duration in years, months, weeks or days "
            "(e.g. P24M, P7Y, P30D)"
        )
    return value


def _country(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code (e.g. SE, US)")
    return value


Duration = Annotated[str, AfterValidator(_iso_duration)]
Country = Annotated[str, AfterValidator(_country)]
Id = Annotated[str, Field(pattern=IDENTIFIER)]
#: A value that may be ``env:NAME``; resolved only when used (see :mod:`ombud.register.env`).
EnvValue = str


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class LegalBasis(StrEnum):
    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTEREST = "vital_interest"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTEREST = "legitimate_interest"


class Source(StrEnum):
    DATA_SUBJECT = "data_subject"
    SUPPLIERS = "suppliers"
    PUBLIC_SOURCES = "public_sources"


class RecipientRole(StrEnum):
    PROCESSOR = "processor"
    INDEPENDENT_CONTROLLER = "independent_controller"
    JOINT_CONTROLLER = "joint_controller"
    AUTHORITY = "authority"


class TransferMechanism(StrEnum):
    ADEQUACY = "adequacy"
    SCCS = "sccs"
    BCRS = "bcrs"
    DEROGATION = "derogation"


class RetentionStart(StrEnum):
    COLLECTED = "collected"
    LAST_ACTIVITY = "last_activity"
    CASE_CLOSED = "case_closed"
    CONSENT_WITHDRAWN = "consent_withdrawn"


class Connector(StrEnum):
    SQL = "sql"
    FILES = "files"
    HTTP = "http"
    MANUAL = "manual"


class Right(StrEnum):
    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    PORTABILITY = "portability"
    WITHDRAW_CONSENT = "withdraw_consent"


class Art9Condition(StrEnum):
    """Art. 9(2)(a)-(j): the conditions that lift the ban on special categories."""

    EXPLICIT_CONSENT = "a"
    EMPLOYMENT = "b"
    VITAL_INTERESTS = "c"
    NOT_FOR_PROFIT = "d"
    MADE_PUBLIC = "e"
    LEGAL_CLAIMS = "f"
    SUBSTANTIAL_PUBLIC_INTEREST = "g"
    HEALTH_CARE = "h"
    PUBLIC_HEALTH = "i"
    ARCHIVING_RESEARCH = "j"


# --- organisation -----------------------------------------------------------------------------


class Controller(Model):
    id: Id
    name: str
    lead: bool = False
    orgnr: str | None = None
    email: str | None = None
    website: str | None = None


class Contact(Model):
    """The data protection officer's contact details."""

    name: Text | None = None
    email: str | None = None
    postal: str | None = None
    phone: str | None = None


class Authority(Model):
    """The supervisory authority people may complain to (Art. 13(2)(d))."""

    name: Text | None = None
    email: str | None = None
    postal: str | None = None
    phone: str | None = None
    website: str | None = None


class Organisation(Model):
    name: str
    controllers: list[Controller] = Field(min_length=1)
    joint_controllership: Text | None = None
    dpo: Contact | None = None
    authority: Authority | None = None

    @property
    def lead(self) -> Controller | None:
        return next((c for c in self.controllers if c.lead), None)


# --- vocabulary -------------------------------------------------------------------------------


class Category(Model):
    name: Text
    examples: Text | None = None
    special: bool = False
    #: Art. 9(2) condition for special categories.
    art9_condition: Art9Condition | None = None
    #: The category contains Swedish personal identity numbers (personnummer).
    personnummer: bool = False


class Subject(Model):
    name: Text
    description: Text | None = None


class Transfer(Model):
    mechanism: TransferMechanism | list[TransferMechanism]
    reference: str | None = None
    description: Text | None = None

    @property
    def mechanisms(self) -> list[TransferMechanism]:
        return self.mechanism if isinstance(self.mechanism, list) else [self.mechanism]


class Recipient(Model):
    name: Text
    role: RecipientRole
    #: Where the recipient processes the data; outside the EU/EEA means a transfer.
    country: Country | None = None
    transfer: Transfer | None = None
    description: Text | None = None
    privacy_url: str | None = None

    @property
    def third_country(self) -> bool:
        return self.country is not None and self.country not in EEA_COUNTRIES


class Retention(Model):
    period: Duration | None = None
    from_: RetentionStart = Field(RetentionStart.COLLECTED, alias="from")
    until: Literal["consent_withdrawn"] | None = None
    #: The published wording, shown in the notice.
    notice: Text | None = None
    #: The period is an illustrative value the published notice does not state; the
    #: controller must decide the real one. The linter warns until it is removed.
    example: bool = False

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ActivityConsent(Model):
    purpose: Id
    text: Text | None = None


class ErasureException(StrEnum):
    """Art. 17(3): when erasure does not apply; the data is restricted instead."""

    FREEDOM_OF_EXPRESSION = "a"
    LEGAL_OBLIGATION = "b"
    PUBLIC_HEALTH = "c"
    ARCHIVING_RESEARCH = "d"
    LEGAL_CLAIMS = "e"


class ActivityErasure(Model):
    """An activity whose data is kept despite an erasure request, and why (told to the person)."""

    exception: ErasureException
    reason: Text


class Activity(Model):
    id: Id
    name: Text
    purpose: Text
    legal_basis: LegalBasis
    #: The legitimate interest pursued (Art. 13(1)(d)), for legal_basis legitimate_interest.
    legitimate_interest: Text | None = None
    categories: list[str] = Field(default_factory=list)
    subjects: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)
    #: The controller responsible; joint controllers all, when omitted.
    controller: str | None = None
    profiling: bool = False
    direct_marketing: bool = False
    retention: Retention | None = None
    consent: ActivityConsent | None = None
    #: Whether personnummer is processed: None infers it from the categories; false states
    #: that this activity does not use the personnummer its categories can hold.
    personnummer: bool | None = None
    #: Why personnummer is needed here (IMY: only with consent or when "klart motiverat").
    personnummer_justification: Text | None = None
    #: Meaningful information about the logic of automated decisions and profiling.
    profiling_logic: Text | None = None
    #: Art. 17(3): the data of this activity is restricted, not erased, on request.
    erasure: ActivityErasure | None = None
    #: Art. 20 also needs automated processing; false for paper-based activities.
    automated: bool = True


class Cookie(Model):
    name: str
    provider: str | None = None
    duration: str | None = None
    purpose: Text | None = None


class CookieCategory(Model):
    name: Text
    description: Text | None = None
    required: bool = False
    activities: list[str] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)
    cookies: list[Cookie] = Field(default_factory=list)


class ConsentForm(Model):
    """A form outside the banner that collects consent (newsletter, network sign-up)."""

    name: Text
    purposes: list[str] = Field(min_length=1)
    text: Text | None = None


class ConsentSection(Model):
    renew_after: Duration | None = None
    cookie_categories: dict[Id, CookieCategory] = Field(default_factory=dict)
    forms: dict[Id, ConsentForm] = Field(default_factory=dict)


# --- systems ----------------------------------------------------------------------------------


class ColumnStrategy(StrEnum):
    NULL = "null"
    REDACT = "redact"
    HASH = "hash"
    TRUNCATE_IP = "truncate_ip"


class Restrict(Model):
    column: str


class CollectionRetention(Model):
    activity: str
    timestamp: str


class Collection(Model):
    primary_key: str | list[str] | None = None
    #: For the files connector: the file, relative to the register.
    path: str | None = None
    format: Literal["csv", "jsonl", "log"] | None = None
    #: identifier type -> column
    identity: dict[str, str] = Field(default_factory=dict)
    #: column -> "collection.column"
    references: dict[str, str] = Field(default_factory=dict)
    #: column -> category id
    fields: dict[str, str] = Field(default_factory=dict)
    erasure: Literal["delete"] | dict[str, ColumnStrategy] = "delete"
    restrict: Restrict | None = None
    retention: CollectionRetention | None = None
    #: An activity with legal_basis legal_obligation: rows are restricted, never erased.
    legal_hold: str | None = None


class System(Model):
    id: Id
    name: str
    connector: Connector
    #: SQLAlchemy URL (sql) or base URL (http); usually ``env:NAME``.
    url: EnvValue | None = None
    #: Shared secret for signed requests (http); must be ``env:NAME``.
    secret: EnvValue | None = None
    controller: str | None = None
    activities: list[str] = Field(default_factory=list)
    collections: dict[str, Collection] = Field(default_factory=dict)
    owner: str | None = None
    instructions: Text | None = None
    recipient: str | None = None


# --- the published notice ---------------------------------------------------------------------


class HistoryEntry(Model):
    date: dt.date
    text: Text


class OtherNotice(Model):
    area: Text
    where: Text
    url: str | None = None


class RightText(Model):
    """How the notice words one right; Ombud has default wording for every right."""

    title: Text | None = None
    text: Text | None = None
    conditions: list[Text] = Field(default_factory=list)
    after: Text | None = None


class Notice(Model):
    title: Text | None = None
    intro: list[Text] = Field(default_factory=list)
    #: Statement introducing the legitimate-interest activities.
    legitimate_interest_intro: Text | None = None
    #: The general retention statement for activities without their own wording.
    retention: Text | None = None
    #: Statement introducing the consent activities.
    consent_intro: Text | None = None
    disclosure: list[Text] = Field(default_factory=list)
    transfers: Text | None = None
    security: Text | None = None
    rights_intro: Text | None = None
    rights: dict[Right, RightText] = Field(default_factory=dict)
    contact: Text | None = None
    other_notices_intro: Text | None = None
    other_notices: list[OtherNotice] = Field(default_factory=list)
    updated: dt.date
    published: dt.date | None = None
    #: The statement introducing the change history.
    history_intro: Text | None = None
    history: list[HistoryEntry] = Field(default_factory=list)


# --- the register -----------------------------------------------------------------------------


class Register(Model):
    """A whole privacy register."""

    version: Literal[1]
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2}$")]] = Field(min_length=1)
    organisation: Organisation
    categories: dict[Id, Category] = Field(default_factory=dict)
    subjects: dict[Id, Subject] = Field(default_factory=dict)
    recipients: dict[Id, Recipient] = Field(default_factory=dict)
    activities: list[Activity] = Field(default_factory=list)
    consent: ConsentSection = Field(default_factory=ConsentSection)
    systems: list[System] = Field(default_factory=list)
    notice: Notice

    @model_validator(mode="before")
    @classmethod
    def _nothing_empty(cls, data: Any) -> Any:
        # A YAML key with nothing after it is None; treat it as the empty default.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data

    @property
    def language(self) -> str:
        """The first, primary language."""
        return self.languages[0]

    def activity(self, activity_id: str) -> Activity | None:
        return next((a for a in self.activities if a.id == activity_id), None)

    def consent_purposes(self) -> dict[str, list[Activity]]:
        """Consent purpose id -> the activities that rest on it."""
        purposes: dict[str, list[Activity]] = {}
        for activity in self.activities:
            if activity.consent is not None:
                purposes.setdefault(activity.consent.purpose, []).append(activity)
        return purposes
