"""The consent tables of docs/consent.md: texts shown, events, derived state, sign-ups, webhooks.

Who consented is never stored in plaintext: a subject is the HMAC of its
normalised identifier (:meth:`ombud.store.crypto.Keys.identifier`), and the
e-mail address a sign-up or a webhook needs is AES-GCM ciphertext. Events are
append-only: :func:`ombud.consent.ledger.erase_subject` is the only code that
deletes them, for the subject's own erasure.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ombud.store.models import HEX_DIGEST_LENGTH, Base

__all__ = [
    "ConsentEvent",
    "ConsentSignup",
    "ConsentStateRow",
    "ConsentText",
    "ConsentWebhook",
    "EventType",
    "Method",
]

#: A UUID in its canonical text form (36 characters with hyphens).
UUID_LENGTH = 36
#: The longest purpose, category, form or system id stored.
ID_LENGTH = 100


class EventType(StrEnum):
    """What an event says about one purpose; also the states of ``consent_state``."""

    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class Method(StrEnum):
    """How a choice was collected (the receipt's ``collectionMethod``)."""

    BANNER = "banner"
    BANNER_SETTINGS = "banner_settings"
    FORM = "form"
    API = "api"
    HANDLER = "handler"


class ConsentText(Base):
    """What a person was shown (a banner layer or a form), stored once per distinct text."""

    __tablename__ = "consent_texts"

    #: SHA-256 hex of the canonical JSON of ``content`` (:func:`ombud.consent.texts.digest`).
    digest: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), primary_key=True)
    #: The register version the text was first built from.
    register_version: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH))
    language: Mapped[str] = mapped_column(String(8))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime]

    def __repr__(self) -> str:
        return f"ConsentText({self.digest[:12]}, {self.language})"


class ConsentEvent(Base):
    """One consent event for one purpose; ``id`` is also the receipt id. Never updated."""

    __tablename__ = "consent_events"
    __table_args__ = (
        Index("ix_consent_events_subject_digest_purpose", "subject_digest", "purpose"),
        Index("ix_consent_events_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    #: Groups the events of one choice (one POST, one form confirmation).
    choice_id: Mapped[str] = mapped_column(String(UUID_LENGTH))
    subject_digest: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH))
    #: The identifier kind the digest was made from: visitor_id, email, ...
    subject_kind: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(ID_LENGTH))
    #: The banner category the purpose was asked under; None outside the banner.
    category: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    event: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))
    text_digest: Mapped[str] = mapped_column(
        String(HEX_DIGEST_LENGTH), ForeignKey("consent_texts.digest")
    )
    register_version: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH))
    language: Mapped[str] = mapped_column(String(8))
    #: A Global Privacy Control signal came with the choice.
    gpc: Mapped[bool] = mapped_column(Boolean)
    #: IPv4 /24 or IPv6 /48 network address; never the full address.
    ip_truncated: Mapped[str | None] = mapped_column(String(45))
    #: Edge, Chrome, Firefox, Safari or Other; never the User-Agent itself.
    user_agent_family: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]

    def __repr__(self) -> str:
        return f"ConsentEvent({self.id}, {self.purpose}: {self.event})"


class ConsentStateRow(Base):
    """The current state of one subject's consent to one purpose, written with its event."""

    __tablename__ = "consent_state"

    subject_digest: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(UUID_LENGTH), ForeignKey("consent_events.id"))
    updated_at: Mapped[dt.datetime]
    #: When a ``given`` lapses (given + ``consent.renew_after``); None for other states.
    expires_at: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        return f"ConsentStateRow({self.subject_digest[:12]}, {self.purpose}: {self.state})"


class ConsentSignup(Base):
    """A double opt-in in progress: recorded as ``given`` only when the mailed link is opened."""

    __tablename__ = "consent_signups"

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    #: ``consent.forms`` id.
    form: Mapped[str] = mapped_column(String(ID_LENGTH))
    email_digest: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), index=True)
    #: The normalised address, ``Keys.encrypt`` (AES-GCM); needed to send the confirmation.
    email_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    language: Mapped[str] = mapped_column(String(8))
    #: SHA-256 of the confirmation token (:func:`ombud.store.crypto.token_digest`).
    token_digest: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), unique=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    confirmed_at: Mapped[dt.datetime | None]
    #: The form text the person saw when signing up.
    text_digest: Mapped[str] = mapped_column(
        String(HEX_DIGEST_LENGTH), ForeignKey("consent_texts.digest")
    )

    def __repr__(self) -> str:
        state = "confirmed" if self.confirmed_at else "pending"
        return f"ConsentSignup({self.id}, {self.form}, {state})"


class ConsentWebhook(Base):
    """A consent change to deliver to a system that holds a list (a mailing tool, a CRM)."""

    __tablename__ = "consent_webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    purpose: Mapped[str] = mapped_column(String(ID_LENGTH))
    subject_digest: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), index=True)
    event_id: Mapped[str] = mapped_column(
        String(UUID_LENGTH), ForeignKey("consent_events.id", ondelete="CASCADE")
    )
    #: What is sent, without plaintext personal data.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The e-mail address, ``Keys.encrypt``, only when the receiving system needs it.
    email_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    delivered_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        state = "delivered" if self.delivered_at else f"{self.attempts} attempts"
        return f"ConsentWebhook({self.id}, {self.system_id}, {state})"
