"""The processing gate: may these activities touch these subjects now?

:func:`check` answers for every pair of an activity and a subject, with the
reasons for a refusal, from the suppression list, the restrictions and the
consent ledger. A subject is named by one or more identifiers; each is
normalised and HMAC'd, and a row under any of the digests applies to the
person. The batch is answered set-based: one statement per table and 1,000
digests, never one per subject.

Reasons (a subject is allowed when there are none):

====================== ==================================================================
``suppressed``         erased (a ``Suppression`` with reason ``erasure``: the activity
                       named, or every one), or objected: an objection to direct
                       marketing (activity ``""`` or any direct-marketing activity) stops
                       every activity of :func:`direct_marketing_scope` (Art. 21(2)-(3));
                       an upheld objection to another activity stops that activity
``objected``           an objection is being decided (``Restriction`` ``objection_pending``
                       for the activity, or ``""`` for all): Art. 18(1)(d)
``restricted``         processing restricted (``Restriction`` ``restriction`` for the
                       activity, or ``""`` for all): only storage is allowed (Art. 18(2))
``protected_identity`` skyddade personuppgifter (``Restriction`` ``protected_identity``):
                       never in marketing selections, so refused for
                       :func:`direct_marketing_scope`
``no_consent``         the activity rests on consent and none is in force
``withdrawn``          the activity rests on consent and it was withdrawn
====================== ==================================================================

A restriction counts until its ``lifted_at``. ``legal_hold`` restrictions are
not read: they keep records (invoices) for a legal obligation instead of
erasing them, which says nothing about processing the person; the erasure that
led to one writes its own suppression.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ombud.discovery import InvalidIdentifierError, also_known_as, normalise
from ombud.gate.consent import NO_CONSENT_LEDGER, ConsentSource, ConsentState
from ombud.gate.errors import (
    BatchTooLargeError,
    InvalidSubjectError,
    SubjectProblem,
    UnknownActivityError,
)
from ombud.register.model import Activity, LegalBasis, Register
from ombud.rights.deadlines import swedish_date
from ombud.rights.intake import identifier_kinds
from ombud.rights.models import Restriction, Suppression
from ombud.store.crypto import Keys

__all__ = [
    "CHUNK_SIZE",
    "MAX_SUBJECTS",
    "Decision",
    "Reason",
    "check",
    "direct_marketing_scope",
]

#: The most subjects one call may check.
MAX_SUBJECTS = 10_000
#: Digests per ``IN (...)``: under every backend's limit on bound parameters.
CHUNK_SIZE = 1_000
#: Problems reported at most, so that a wholly broken batch gives a readable answer.
MAX_PROBLEMS = 100
#: Legal bases direct marketing, and profiling for it, can rest on (lint rule ACT002).
_MARKETING_BASES = (LegalBasis.CONSENT, LegalBasis.LEGITIMATE_INTEREST)


class Reason(StrEnum):
    """Why an activity may not touch a subject; see the module's table."""

    SUPPRESSED = "suppressed"
    OBJECTED = "objected"
    RESTRICTED = "restricted"
    PROTECTED_IDENTITY = "protected_identity"
    NO_CONSENT = "no_consent"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Decision:
    """Whether ``activity`` may process subject number ``subject`` of the batch, and why not."""

    subject: int
    activity: str
    allowed: bool
    #: Empty when allowed; otherwise in the order of :class:`Reason`.
    reasons: tuple[Reason, ...]


def direct_marketing_scope(register: Register) -> frozenset[str]:
    """The activities an objection to direct marketing stops (Art. 21(2)-(3)).

    Every ``direct_marketing`` activity, and the profiling related to it (21(2):
    "which includes profiling to the extent that it is related to such direct
    marketing"): a ``profiling`` activity on a marketing basis (consent or
    legitimate interest) that runs in a system together with a direct-marketing
    activity. Mark marketing profiling ``direct_marketing: true`` to say so outright.
    """
    marketing = {a.id for a in register.activities if a.direct_marketing}
    related: set[str] = set()
    profiling = {
        a.id
        for a in register.activities
        if a.profiling and a.legal_basis in _MARKETING_BASES and a.id not in marketing
    }
    for system in register.systems:
        if marketing.intersection(system.activities):
            related.update(profiling.intersection(system.activities))
    return frozenset(marketing | related)


@dataclass
class _Rows:
    """What the suppression and restriction rows say about one person."""

    erased_all: bool = False
    erased: set[str] = field(default_factory=set)
    objected_marketing: bool = False
    objected: set[str] = field(default_factory=set)
    pending_all: bool = False
    pending: set[str] = field(default_factory=set)
    restricted_all: bool = False
    restricted: set[str] = field(default_factory=set)
    protected: bool = False

    def add_suppression(self, reason: str, activity: str, scope: frozenset[str]) -> None:
        if reason == "erasure":
            if activity:
                self.erased.add(activity)
            else:
                self.erased_all = True
        elif reason == "objection":
            # An objection to direct marketing covers all of it, and the profiling for it.
            if not activity or activity in scope:
                self.objected_marketing = True
            else:
                self.objected.add(activity)

    def add_restriction(self, reason: str, activity: str) -> None:
        if reason == "protected_identity":
            self.protected = True
        elif reason == "restriction":
            if activity:
                self.restricted.add(activity)
            else:
                self.restricted_all = True
        elif reason == "objection_pending":
            if activity:
                self.pending.add(activity)
            else:
                self.pending_all = True


def check(
    session: Session,
    keys: Keys,
    register: Register,
    *,
    activities: Sequence[str],
    subjects: Sequence[Mapping[str, str]],
    now: dt.datetime,
    consent: ConsentSource = NO_CONSENT_LEDGER,
) -> list[Decision]:
    """Decide every pair of ``activities`` and ``subjects`` at ``now``.

    A subject maps identifier kinds to values (``{"email": ..., "phone": ...}``)
    and matches the rows stored under any of them. Decisions come subject by
    subject, each with the activities in the order given (repeats dropped).
    Reads ``ceil(digests / 1000)`` statements per table, however many subjects.

    Raises :class:`BatchTooLargeError`, :class:`UnknownActivityError` or
    :class:`InvalidSubjectError` (every problem, with the subject's index and
    field, never the value); nothing is read then.
    """
    if len(subjects) > MAX_SUBJECTS:
        raise BatchTooLargeError(
            f"{len(subjects)} subjects in one check; at most {MAX_SUBJECTS}: split the batch"
        )
    wanted = _activities(register, activities)
    digests = _digests(keys, register, subjects, today=swedish_date(now))
    every: set[str] = set().union(*digests)
    scope = direct_marketing_scope(register)
    rows = _read_rows(session, every, now=now, scope=scope)
    purposes = {purpose for a in wanted if (purpose := _consent_purpose(a)) is not None}
    consents = consent.load(session, every, purposes, now=now) if purposes else None

    decisions: list[Decision] = []
    nobody = _Rows()
    for index, subject_digests in enumerate(digests):
        person = _merge(rows, subject_digests, nobody)
        for activity in wanted:
            reasons = _reasons(person, activity, scope, subject_digests, consents)
            decisions.append(Decision(index, activity.id, not reasons, reasons))
    return decisions


def _activities(register: Register, requested: Sequence[str]) -> list[Activity]:
    by_id = {a.id: a for a in register.activities}
    unknown = [a for a in dict.fromkeys(requested) if a not in by_id]
    if unknown:
        raise UnknownActivityError(unknown, sorted(by_id))
    return [by_id[a] for a in dict.fromkeys(requested)]


def _digests(
    keys: Keys, register: Register, subjects: Sequence[Mapping[str, str]], *, today: dt.date
) -> list[frozenset[str]]:
    kinds = identifier_kinds(register)
    problems: list[SubjectProblem] = []
    digests: list[frozenset[str]] = []
    for index, subject in enumerate(subjects):
        if not subject:
            problems.append(SubjectProblem(index, None, "give at least one identifier, e.g. email"))
        mine: set[str] = set()
        for kind, value in subject.items():
            if kind not in kinds:
                problems.append(
                    SubjectProblem(
                        index,
                        kind,
                        f"unknown identifier type; use one of: {', '.join(sorted(kinds))}",
                    )
                )
                continue
            try:
                canonical = normalise(kind, value, today=today)
            except InvalidIdentifierError as exc:
                # The message never contains the value (ombud.discovery's promise).
                problems.append(SubjectProblem(index, kind, str(exc)))
                continue
            mine.add(keys.identifier(kind, canonical))
            # A sole trader's organisation number is their personnummer: either suppresses both.
            mine.update(
                keys.identifier(other, same) for other, same in also_known_as(kind, canonical)
            )
        if len(problems) >= MAX_PROBLEMS:
            break
        digests.append(frozenset(mine))
    if problems:
        raise InvalidSubjectError(problems[:MAX_PROBLEMS])
    return digests


def _chunks(digests: set[str]) -> Iterator[list[str]]:
    ordered = sorted(digests)
    for start in range(0, len(ordered), CHUNK_SIZE):
        yield ordered[start : start + CHUNK_SIZE]


def _read_rows(
    session: Session, digests: set[str], *, now: dt.datetime, scope: frozenset[str]
) -> dict[str, _Rows]:
    """Every suppression and restriction in force under ``digests``, by digest."""
    found: defaultdict[str, _Rows] = defaultdict(_Rows)
    for chunk in _chunks(digests):
        suppressions = select(Suppression.digest, Suppression.reason, Suppression.activity).where(
            Suppression.digest.in_(chunk)
        )
        for digest, reason, activity in session.execute(suppressions):
            found[digest].add_suppression(reason, activity, scope)
    for chunk in _chunks(digests):
        restrictions = select(Restriction.digest, Restriction.reason, Restriction.activity).where(
            Restriction.digest.in_(chunk),
            Restriction.reason.in_(("restriction", "objection_pending", "protected_identity")),
            or_(Restriction.lifted_at.is_(None), Restriction.lifted_at > now),
        )
        for digest, reason, activity in session.execute(restrictions):
            found[digest].add_restriction(reason, activity)
    return dict(found)


def _merge(rows: dict[str, _Rows], digests: frozenset[str], nobody: _Rows) -> _Rows:
    """What the rows under any of one person's digests say together."""
    parts = [rows[d] for d in digests if d in rows]
    if not parts:
        return nobody
    if len(parts) == 1:
        return parts[0]
    merged = _Rows()
    for part in parts:
        merged.erased_all |= part.erased_all
        merged.erased |= part.erased
        merged.objected_marketing |= part.objected_marketing
        merged.objected |= part.objected
        merged.pending_all |= part.pending_all
        merged.pending |= part.pending
        merged.restricted_all |= part.restricted_all
        merged.restricted |= part.restricted
        merged.protected |= part.protected
    return merged


def _consent_purpose(activity: Activity) -> str | None:
    if activity.legal_basis is not LegalBasis.CONSENT:
        return None
    # The register names the ledger's purpose; an activity without one is its own.
    return activity.consent.purpose if activity.consent is not None else activity.id


def _reasons(
    person: _Rows,
    activity: Activity,
    scope: frozenset[str],
    digests: frozenset[str],
    consents: ConsentState | None,
) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    marketing = activity.id in scope
    if (
        person.erased_all
        or activity.id in person.erased
        or activity.id in person.objected
        or (marketing and person.objected_marketing)
    ):
        reasons.append(Reason.SUPPRESSED)
    if person.pending_all or activity.id in person.pending:
        reasons.append(Reason.OBJECTED)
    if person.restricted_all or activity.id in person.restricted:
        reasons.append(Reason.RESTRICTED)
    if marketing and person.protected:
        reasons.append(Reason.PROTECTED_IDENTITY)
    purpose = _consent_purpose(activity)
    if purpose is not None and consents is not None:
        state = consents.state(set(digests), purpose)
        if state == "withdrawn":
            reasons.append(Reason.WITHDRAWN)
        elif state != "given":
            reasons.append(Reason.NO_CONSENT)
    return tuple(reasons)
