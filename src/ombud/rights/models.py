"""The tables of data subject requests.

What identifies a person is never stored in plaintext: identifiers are kept as
keyed HMACs for lookup and as AES-GCM ciphertext for the time the request needs
them (DESIGN §5). A request's timeline is its audit entries
(``object_id = "request:<id>"``), so it cannot be rewritten.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ombud.store.models import HEX_DIGEST_LENGTH, Base


class RequestType(StrEnum):
    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    PORTABILITY = "portability"
    WITHDRAW_CONSENT = "withdraw-consent"


class RequestState(StrEnum):
    """Where a request stands; see :data:`ombud.rights.states.TRANSITIONS`."""

    RECEIVED = "received"  # waiting for identity verification
    VERIFIED = "verified"  # ready to run
    RUNNING = "running"  # automated steps in progress
    AWAITING = "awaiting"  # a person must act: a decision, a manual task, an ambiguity
    COMPLETED = "completed"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class Channel(StrEnum):
    PORTAL = "portal"
    API = "api"
    HANDLER = "handler"


class StepState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    WAITING = "waiting"  # a manual task or a decision


class DataRequest(Base):
    """A data subject request (Art. 15-21, 7(3))."""

    __tablename__ = "requests"
    __table_args__ = (Index("ix_requests_state_due_on", "state", "due_on"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    #: The joint controller whose processing the request concerns (the lead by default).
    controller_id: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    received_at: Mapped[dt.datetime]
    due_on: Mapped[dt.date]
    extended_due_on: Mapped[dt.date | None]
    extension_reason: Mapped[str | None] = mapped_column(Text)
    #: The register version in force at receipt: which notice text applied.
    register_version: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH))
    verified_at: Mapped[dt.datetime | None]
    #: email_link | email_code | handler
    verification: Mapped[str | None] = mapped_column(String(32))
    #: The handler's note on how identity was verified, encrypted.
    verification_note: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: What the person wrote (grounds of an objection, what is wrong), encrypted.
    details: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Activities the request is limited to (objection, withdrawal), or none for all.
    activities: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    #: Decisions taken by the DPO or a handler, e.g. an objection's outcome per activity.
    decisions: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: Art. 12(4): the reasons given to the person when refusing.
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[dt.datetime | None]

    identifiers: Mapped[list[RequestIdentifier]] = relationship(
        back_populates="request", cascade="all, delete-orphan", lazy="selectin"
    )
    steps: Mapped[list[RequestStep]] = relationship(
        back_populates="request",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="RequestStep.id",
    )

    @property
    def due(self) -> dt.date:
        """The date the answer is due, extended or not."""
        return self.extended_due_on or self.due_on

    def __repr__(self) -> str:
        return f"DataRequest({self.id}, {self.type}, {self.state}, due {self.due})"


class RequestIdentifier(Base):
    """One identifier of the person: an HMAC to look up, a ciphertext to use."""

    __tablename__ = "request_identifiers"
    __table_args__ = (UniqueConstraint("request_id", "kind", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), index=True)
    #: The normalised value, encrypted; None once the case's retention has ended.
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)

    request: Mapped[DataRequest] = relationship(back_populates="identifiers")


class RequestStep(Base):
    """One idempotent step of a request in one system; its state lets any worker resume it."""

    __tablename__ = "request_steps"
    __table_args__ = (UniqueConstraint("request_id", "system_id", "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    system_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    #: Counts per collection, never personal data.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: What the step found, encrypted, until the answer is packaged.
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime]

    request: Mapped[DataRequest] = relationship(back_populates="steps")


class Verification(Base):
    """A single-use, expiring e-mail link and code proving the person holds the address."""

    __tablename__ = "request_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    token_digest: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), unique=True)
    code_digest: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH))
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    failed_attempts: Mapped[int] = mapped_column(default=0)


class Suppression(Base):
    """An identifier that must not be processed again (erased, or objected to marketing).

    Holds only the HMAC: it answers "is this person suppressed?" without holding who.
    """

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("digest", "reason", "activity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    #: erasure | objection
    reason: Mapped[str] = mapped_column(String(32))
    #: The activity it applies to; empty string for every activity.
    activity: Mapped[str] = mapped_column(String(100), default="")
    request_id: Mapped[str | None] = mapped_column(ForeignKey("requests.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]


class Restriction(Base):
    """Processing restricted for a person (Art. 18, or while an objection is decided)."""

    __tablename__ = "restrictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), index=True)
    #: The activity restricted; empty string for all processing.
    activity: Mapped[str] = mapped_column(String(100), default="")
    #: restriction | objection_pending | legal_hold
    reason: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str | None] = mapped_column(ForeignKey("requests.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]
    lifted_at: Mapped[dt.datetime | None]


class ManualTask(Base):
    """Work for a named person in a system Ombud cannot reach (DESIGN: `manual` connector)."""

    __tablename__ = "manual_tasks"
    __table_args__ = (UniqueConstraint("request_id", "system_id", "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    system_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class Extract(Base):
    """A packaged answer (register extract, portability zip), encrypted, behind a one-time link."""

    __tablename__ = "extracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    token_digest: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), unique=True)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    downloaded_at: Mapped[dt.datetime | None]
