"""Limits on public submissions per client address, shared by every server process.

The public forms and APIs (data subject requests, sign-ups, manage links)
admit at most ``limit`` submissions per client address in ``window``. The
counts live in the database (table ``submission_hits``), so every process of
``ombud serve --workers N`` and every restart sees the same ones, as login
throttling does (:mod:`ombud.store.users`).

A hit is taken *before* the submission is handled, in one transaction that
counts and records (serialised per address: an advisory lock on PostgreSQL,
the write lock on SQLite), so a burst of simultaneous posts cannot all pass
before the first is counted. A submission refused for its content gives its
hit back (:func:`give_back`); one that was handled keeps it.

The address is stored only as an HMAC under a key from OMBUD_SECRET_KEY
(kind ``submission-<scope>``), never in the clear, and every row older than
the window is deleted whenever a hit is taken.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Index, String, delete, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from ombud.store.crypto import Keys
from ombud.store.models import HEX_DIGEST_LENGTH, Base

__all__ = ["Admission", "SubmissionHit", "SubmissionLimit", "give_back", "take"]


class SubmissionHit(Base):
    """One submission admitted, under the HMAC of its scope and client address."""

    __tablename__ = "submission_hits"
    __table_args__ = (Index("ix_submission_hits_key_submitted_at", "key", "submitted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH))
    submitted_at: Mapped[dt.datetime]


@dataclass(frozen=True)
class SubmissionLimit:
    """At most ``limit`` submissions per client address in ``window``, per ``scope``."""

    scope: str
    limit: int = 5
    window: dt.timedelta = dt.timedelta(minutes=10)

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError("a submission limit must admit at least 1")
        if self.window <= dt.timedelta(0):
            raise ValueError("a submission limit's window must be longer than 0")


@dataclass(frozen=True)
class Admission:
    """What :func:`take` decided: ``wait`` is 0 when admitted (``hit`` is then its row
    id), else the whole seconds until the client may submit again."""

    wait: int
    hit: int | None = None


def take(
    session: Session, keys: Keys, limit: SubmissionLimit, client: str | None, *, now: dt.datetime
) -> Admission:
    """Admit a submission of ``client`` and count it, or say how long it must wait.

    Call in its own short transaction: it locks the client's count until commit.
    """
    key = keys.identifier(f"submission-{limit.scope}", client or "")
    if session.get_bind().dialect.name == "postgresql":
        # Two processes taking for the same client at once take turns here.
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    horizon = now - limit.window
    # Every client's old rows go; rows another transaction holds are left for the next.
    stale = (
        select(SubmissionHit.id)
        .where(SubmissionHit.submitted_at <= horizon)
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(SubmissionHit).where(SubmissionHit.id.in_(stale)))
    count, oldest = session.execute(
        select(func.count(), func.min(SubmissionHit.submitted_at)).where(
            SubmissionHit.key == key, SubmissionHit.submitted_at > horizon
        )
    ).one()
    if count >= limit.limit:
        left = (oldest + limit.window - now).total_seconds()
        return Admission(wait=max(1, int(left) + 1))
    hit = SubmissionHit(key=key, submitted_at=now)
    session.add(hit)
    session.flush()
    return Admission(wait=0, hit=hit.id)


def give_back(session: Session, admission: Admission) -> None:
    """Uncount an admitted submission that was refused for its content (no-op otherwise)."""
    if admission.hit is not None:
        session.execute(delete(SubmissionHit).where(SubmissionHit.id == admission.hit))
