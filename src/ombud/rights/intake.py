"""Receiving a request from the portal, the API or a case handler: checked, then stored."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ombud import audit
from ombud.discovery import InvalidIdentifierError, normalise
from ombud.register.model import IDENTIFIER_TYPES, Register
from ombud.rights.deadlines import due_date, swedish_date
from ombud.rights.errors import InvalidRequestError, RequestNotFoundError
from ombud.rights.models import (
    Channel,
    DataRequest,
    RequestIdentifier,
    RequestState,
    RequestType,
)
from ombud.rights.states import OPEN_STATES, move
from ombud.store.crypto import Keys

#: Request ids avoid letters and digits that are confused on the phone (0/O, 1/I/L, U/V).
_ID_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
_ID_LENGTH = 10
MAX_DETAILS = 10_000


@dataclass(frozen=True)
class NewRequest:
    """A request as received, before any check."""

    type: str
    identifiers: list[tuple[str, str]]
    channel: Channel
    language: str | None = None
    controller_id: str | None = None
    activities: list[str] = field(default_factory=list)
    details: str | None = None
    #: A handler who verified the person's identity says how, and the request starts verified.
    verified_note: str | None = None


def new_request_id() -> str:
    return "R" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH - 1))


def identifier_kinds(register: Register) -> set[str]:
    """The identifier types Ombud normalises plus the custom ones the register's systems declare."""
    kinds = set(IDENTIFIER_TYPES)
    for system in register.systems:
        for collection in system.collections.values():
            kinds.update(collection.identity)
    return kinds


def create_request(
    session: Session,
    new: NewRequest,
    *,
    register: Register,
    register_version: str,
    keys: Keys,
    actor: str,
    now: dt.datetime,
) -> DataRequest:
    """Check ``new`` against the register, store it with its deadline, and audit it.

    Raises :class:`InvalidRequestError` naming the first problem; nothing is stored then.
    """
    kind = _request_type(new.type)
    language = new.language or register.language
    if language not in register.languages:
        raise InvalidRequestError(
            f"language {language!r} is not one of the register's: {', '.join(register.languages)}"
        )
    controller_id = _controller(register, new.controller_id)
    activities = _activities(register, kind, new.activities)
    normalised = _identifiers(register, new.identifiers, today=swedish_date(now))
    if new.details is not None and len(new.details) > MAX_DETAILS:
        raise InvalidRequestError(
            f"the description is {len(new.details)} characters; keep it under {MAX_DETAILS}"
        )

    request_id = new_request_id()
    request = DataRequest(
        id=request_id,
        type=kind.value,
        state=RequestState.RECEIVED.value,
        controller_id=controller_id,
        channel=new.channel.value,
        language=language,
        received_at=now,
        due_on=due_date(now),
        register_version=register_version,
        activities=activities or None,
        details=(keys.encrypt(new.details, context=request_id) if new.details else None),
    )
    request.identifiers = [
        RequestIdentifier(
            kind=identifier_kind,
            digest=keys.identifier(identifier_kind, value),
            ciphertext=keys.encrypt(value, context=request_id),
        )
        for identifier_kind, value in sorted(normalised)
    ]
    session.add(request)
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="request.received",
        object_id=f"request:{request_id}",
        counts={"identifiers": len(normalised)},
    )
    if new.verified_note is not None:
        mark_verified(session, request, keys=keys, actor=actor, note=new.verified_note, now=now)
    return request


def mark_verified(
    session: Session,
    request: DataRequest,
    *,
    keys: Keys,
    actor: str,
    note: str,
    now: dt.datetime,
) -> None:
    """A handler vouches for the person's identity, saying how (kept encrypted)."""
    if not note.strip():
        raise InvalidRequestError(
            "say how the identity was verified (e.g. 'called back on the number in the CRM')"
        )
    request.verified_at = now
    request.verification = "handler"
    request.verification_note = keys.encrypt(note.strip(), context=request.id)
    move(session, request, RequestState.VERIFIED, actor=actor, now=now)


def get_request(session: Session, request_id: str) -> DataRequest:
    """The request with this id; raises :class:`RequestNotFoundError`."""
    request = session.get(DataRequest, request_id.strip().upper())
    if request is None:
        raise RequestNotFoundError(f"no request {request_id!r}; `ombud request list` shows the ids")
    return request


def list_requests(
    session: Session,
    *,
    open_only: bool = False,
    states: Collection[RequestState] | None = None,
    types: Collection[RequestType] | None = None,
    overdue_on: dt.date | None = None,
    due_between: tuple[dt.date, dt.date] | None = None,
    controller_ids: Collection[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[DataRequest]:
    """Requests by due date (extended or not), the most urgent first, narrowed by every
    filter given.

    ``open_only`` keeps requests not yet closed; ``states``, ``types`` and
    ``controller_ids`` keep requests with one of those values (an empty collection
    keeps none); ``overdue_on`` keeps open requests whose due date, extended or not,
    is before that day; ``due_between`` (first, last) those due on one of those days,
    both included. ``limit`` and ``offset`` take one page of the result; the
    order is total, so consecutive pages neither repeat nor skip a request.
    """
    query = (
        select(DataRequest)
        .where(
            *_conditions(
                open_only=open_only,
                states=states,
                types=types,
                overdue_on=overdue_on,
                due_between=due_between,
                controller_ids=controller_ids,
            )
        )
        .order_by(
            _due(),
            DataRequest.received_at,
            DataRequest.id,
        )
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query))


def count_requests(
    session: Session,
    *,
    open_only: bool = False,
    states: Collection[RequestState] | None = None,
    types: Collection[RequestType] | None = None,
    overdue_on: dt.date | None = None,
    due_between: tuple[dt.date, dt.date] | None = None,
    controller_ids: Collection[str] | None = None,
) -> int:
    """How many requests :func:`list_requests` finds with the same filters, unpaged."""
    query = (
        select(func.count())
        .select_from(DataRequest)
        .where(
            *_conditions(
                open_only=open_only,
                states=states,
                types=types,
                overdue_on=overdue_on,
                due_between=due_between,
                controller_ids=controller_ids,
            )
        )
    )
    return int(session.scalar(query) or 0)


def _conditions(
    *,
    open_only: bool,
    states: Collection[RequestState] | None,
    types: Collection[RequestType] | None,
    overdue_on: dt.date | None,
    due_between: tuple[dt.date, dt.date] | None,
    controller_ids: Collection[str] | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if open_only:
        conditions.append(DataRequest.closed_at.is_(None))
    if states is not None:
        conditions.append(DataRequest.state.in_(sorted(s.value for s in states)))
    if types is not None:
        conditions.append(DataRequest.type.in_(sorted(t.value for t in types)))
    if overdue_on is not None:
        # Overdue is a state of open requests only: a late answer once given is not "overdue".
        conditions.append(DataRequest.state.in_(sorted(s.value for s in OPEN_STATES)))
        conditions.append(_due() < overdue_on)
    if due_between is not None:
        conditions.append(_due().between(*due_between))
    if controller_ids is not None:
        conditions.append(DataRequest.controller_id.in_(sorted(controller_ids)))
    return conditions


def _due() -> ColumnElement[dt.date]:
    """A request's due date: the extended one where there is one."""
    return func.coalesce(DataRequest.extended_due_on, DataRequest.due_on)


def plaintext_identifiers(request: DataRequest, keys: Keys) -> list[tuple[str, str]]:
    """The request's identifiers decrypted, for querying systems and mailing the person."""
    return [
        (identifier.kind, keys.decrypt(identifier.ciphertext, context=request.id))
        for identifier in request.identifiers
        if identifier.ciphertext is not None
    ]


def _request_type(value: str) -> RequestType:
    try:
        return RequestType(value)
    except ValueError:
        known = ", ".join(t.value for t in RequestType)
        raise InvalidRequestError(f"unknown request type {value!r}; use one of: {known}") from None


def _controller(register: Register, controller_id: str | None) -> str:
    controllers = {c.id for c in register.organisation.controllers}
    if controller_id is None:
        lead = register.organisation.lead
        return lead.id if lead is not None else register.organisation.controllers[0].id
    if controller_id not in controllers:
        raise InvalidRequestError(
            f"unknown controller {controller_id!r}; the register has: "
            f"{', '.join(sorted(controllers))}"
        )
    return controller_id


def _activities(register: Register, kind: RequestType, requested: list[str]) -> list[str]:
    known = {a.id for a in register.activities}
    unknown = [a for a in requested if a not in known]
    if unknown:
        raise InvalidRequestError(
            f"unknown activity {unknown[0]!r}; the register has: {', '.join(sorted(known))}"
        )
    if kind is RequestType.OBJECTION and not requested:
        # An objection naming nothing is one to direct marketing (Art. 21(2)), which
        # covers the profiling related to it.
        return [a.id for a in register.activities if a.direct_marketing]
    if kind is RequestType.WITHDRAW_CONSENT and not requested:
        return [a.id for a in register.activities if a.consent is not None]
    return list(dict.fromkeys(requested))


def _identifiers(
    register: Register, given: list[tuple[str, str]], *, today: dt.date
) -> set[tuple[str, str]]:
    if not given:
        raise InvalidRequestError(
            "give at least one identifier: an e-mail address, phone number, personnummer, ..."
        )
    kinds = identifier_kinds(register)
    normalised: set[tuple[str, str]] = set()
    for kind, value in given:
        if kind not in kinds:
            raise InvalidRequestError(
                f"unknown identifier type {kind!r}; use one of: {', '.join(sorted(kinds))}"
            )
        try:
            normalised.add((kind, normalise(kind, value, today=today)))
        except InvalidIdentifierError as exc:
            raise InvalidRequestError(str(exc)) from None
    return normalised
