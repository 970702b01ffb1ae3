"""The consent ledger: record a choice, read the current state, lapse old consent, erase.

A choice is written set-based in the caller's transaction: one INSERT of all
its events, one upsert of the derived ``consent_state`` rows (ON CONFLICT on
both SQLite and PostgreSQL) and one audit entry (``consent.recorded``, object
``choice:<choice_id>``, counts per event type); on PostgreSQL the three are one
statement. Reading the subject's current state first (one SELECT) decides
``refused`` or ``withdrawn``.

Many choices can be written together (:func:`record_batch`, what the group
commit of :mod:`ombud.consent.writer` uses): :func:`prepare_choice` checks
each one without the database, and the batch is then the same few statements
for all of them, with one audit entry (object ``batch:<uuid>``).

Transitions, per purpose of a choice:

=============  ==================================  ===========
answer         state before                        event
=============  ==================================  ===========
yes            anything                            ``given``
no             ``given`` and not yet expired       ``withdrawn``
no             anything else (none, refused, ...)  ``refused``
=============  ==================================  ===========

A ``given`` lapses ``consent.renew_after`` after it was recorded
(:func:`expiry`): it then reads as ``none`` and the banner asks again;
:func:`record_expired` may write the ``expired`` events for the lapsed ones.
A GPC signal turns the answer for the GPC purposes (:mod:`ombud.consent.purposes`)
into "no" whatever was sent, and every event of the choice carries ``gpc``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import Dialect, Table, bindparam, delete, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ombud import audit
from ombud.audit import log as audit_log
from ombud.consent.errors import InvalidChoiceError
from ombud.consent.models import (
    ConsentEvent,
    ConsentSignup,
    ConsentStateRow,
    ConsentWebhook,
    EventType,
    Method,
)
from ombud.consent.purposes import PurposeMap, purpose_map
from ombud.consent.texts import digest as text_digest_of
from ombud.consent.texts import store_text
from ombud.discovery import InvalidIdentifierError, normalise, truncate_ip
from ombud.gate.consent import ConsentValue
from ombud.register.model import ISO_DURATION, Register
from ombud.rights.deadlines import add_months, swedish_date
from ombud.store.crypto import Keys

__all__ = [
    "CHUNK_SIZE",
    "MAX_PURPOSES",
    "Choice",
    "PendingChoice",
    "RecordedEvent",
    "current",
    "erase_subject",
    "expiry",
    "prepare_choice",
    "record_batch",
    "record_choice",
    "record_expired",
    "subject_digest",
    "user_agent_family",
]

#: Digests per ``IN (...)``: under every backend's limit on bound parameters.
CHUNK_SIZE = 1_000
#: The most purposes one choice may answer; registers have a handful.
MAX_PURPOSES = 50
#: Methods whose purposes must be the banner's (its optional categories').
BANNER_METHODS = frozenset({Method.BANNER, Method.BANNER_SETTINGS})

_EVENTS = cast(Table, ConsentEvent.__table__)
_STATE = cast(Table, ConsentStateRow.__table__)
#: The state rows of some subjects and purposes; built once (every batch of the writer reads).
_STATE_ROWS = select(
    _STATE.c.subject_digest,
    _STATE.c.purpose,
    _STATE.c.state,
    _STATE.c.updated_at,
    _STATE.c.expires_at,
).where(
    _STATE.c.subject_digest.in_(bindparam("digests", expanding=True)),
    _STATE.c.purpose.in_(bindparam("purposes", expanding=True)),
)


@dataclass(frozen=True)
class RecordedEvent:
    """One event written: its purpose, type and receipt id (= the event id)."""

    purpose: str
    event: EventType
    receipt_id: str


@dataclass(frozen=True)
class Choice:
    """A recorded choice: its id, the events written (by purpose) and whether GPC applied."""

    choice_id: str
    subject_digest: str
    events: tuple[RecordedEvent, ...]
    gpc: bool


def expiry(given_at: dt.datetime, renew_after: str | None) -> dt.datetime | None:
    """When consent given at ``given_at`` lapses: ``renew_after`` later; None if it never does.

    Months and years are calendar months (31 January + P1M is the end of
    February), weeks and days exact.
    """
    if renew_after is None:
        return None
    months, exact = _duration(renew_after)
    moved = given_at
    if months:
        day = add_months(given_at.date(), months)
        moved = given_at.replace(year=day.year, month=day.month, day=day.day)
    return moved + exact


@cache
def _duration(text: str) -> tuple[int, dt.timedelta]:
    """An ISO 8601 duration as (calendar months, exact weeks and days); parsed once each."""
    match = ISO_DURATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 duration")
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    months = parts.get("years", 0) * 12 + parts.get("months", 0)
    return months, dt.timedelta(weeks=parts.get("weeks", 0), days=parts.get("days", 0))


#: Tokens of the User-Agent, tested in this order (Edge and Opera say "Chrome" too, Chrome
#: says "Safari"), and the family they mean.
_FAMILIES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Edg/", "Edge/", "EdgA/", "EdgiOS/"), "Edge"),
    (("OPR/", "Opera", "SamsungBrowser/", "YaBrowser/", "Vivaldi/"), "Other"),
    (("Firefox/", "FxiOS/"), "Firefox"),
    (("Chrome/", "CriOS/", "Chromium/"), "Chrome"),
)


def user_agent_family(user_agent: str | None) -> str | None:
    """The browser family of a User-Agent: Edge, Chrome, Firefox, Safari or Other.

    A few substring tests; the User-Agent itself is never kept.
    """
    if not user_agent:
        return None
    for tokens, family in _FAMILIES:
        if any(token in user_agent for token in tokens):
            return family
    if "Safari/" in user_agent and "Version/" in user_agent:
        return "Safari"
    return "Other"


def _ip(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        return truncate_ip(ip)
    except InvalidIdentifierError:
        return None  # not an address (a test client, a Unix socket): nothing to keep


def subject_digest(keys: Keys, kind: str, value: str, *, now: dt.datetime) -> str:
    """The HMAC a subject is stored under. A ``visitor_id`` must be a UUID (lower-cased).

    Raises :class:`InvalidChoiceError` (field ``visitor_id`` or ``subject``).
    """
    if kind == "visitor_id":
        try:
            normalised = str(uuid.UUID(value))
        except (ValueError, AttributeError, TypeError):
            raise InvalidChoiceError(
                "visitor_id must be a UUID such as crypto.randomUUID() makes, e.g. "
                "3f2b8c1e-5a4d-4c2b-9e1f-7a6b5c4d3e2f",
                field="visitor_id",
            ) from None
        if len(value) != 36:
            raise InvalidChoiceError(
                "visitor_id must be a UUID in its usual 36-character form", field="visitor_id"
            )
        return keys.identifier(kind, normalised)
    try:
        normalised = normalise(kind, value, today=swedish_date(now))
    except InvalidIdentifierError as exc:
        # The message never contains the value (ombud.discovery's promise).
        raise InvalidChoiceError(str(exc), field="subject") from None
    return keys.identifier(kind, normalised)


def _new_object_id(prefix: str) -> str:
    # The id goes into an audit entry, which refuses anything that looks like personal
    # data: a random UUID starting "19811218-9876-..." reads as a personnummer. Draw again.
    # The guard counts numbers only where no letter touches them, so an id with a letter
    # in every group needs no scan (a test checks it); about half of them have one.
    while True:
        object_id = str(uuid.uuid4())
        if not any(group.isdigit() for group in object_id.split("-")):
            return object_id
        if audit.find_personal_data(f"{prefix}:{object_id}") is None:
            return object_id


def _new_choice_id() -> str:
    return _new_object_id("choice")


def _check(
    purposes: PurposeMap, choices: Mapping[str, bool], method: Method, language: str
) -> None:
    if language not in purposes.languages:
        raise InvalidChoiceError(
            f"the register has no language {language!r}; use one of: "
            f"{', '.join(purposes.languages)}",
            field="language",
        )
    if not choices:
        raise InvalidChoiceError("give at least one purpose and the answer", field="choices")
    if len(choices) > MAX_PURPOSES:
        raise InvalidChoiceError(
            f"{len(choices)} purposes in one choice; at most {MAX_PURPOSES}", field="choices"
        )
    allowed: Collection[str] = purposes.banner if method in BANNER_METHODS else purposes.consent
    unknown = sorted(p for p in choices if p not in allowed)
    if unknown:
        where = "the banner asks about" if method in BANNER_METHODS else "the register has"
        raise InvalidChoiceError(
            f"unknown purpose {', '.join(map(repr, unknown))}; {where}: "
            f"{', '.join(sorted(allowed)) or 'none'}",
            field="choices",
        )
    if method is Method.BANNER:
        missing = sorted(p for p in purposes.banner if p not in choices)
        if missing:
            raise InvalidChoiceError(
                f"a banner choice answers every purpose it asks about; missing: "
                f"{', '.join(missing)}",
                field="choices",
            )
    for purpose, answer in choices.items():
        if not isinstance(answer, bool):
            raise InvalidChoiceError(
                f"the answer for {purpose!r} must be true or false", field="choices"
            )


def _method(method: Method | str) -> Method:
    try:
        return Method(method)
    except ValueError:
        raise InvalidChoiceError(
            f"unknown method {method!r}; use one of: {', '.join(m.value for m in Method)}",
            field="method",
        ) from None


@dataclass(frozen=True)
class PendingChoice:
    """A choice checked and ready to be written: writing it needs nothing but the database.

    Made by :func:`prepare_choice`; ``answers`` are (purpose, yes or no after
    GPC, banner category or None), sorted by purpose.
    """

    choice_id: str
    subject_digest: str
    subject_kind: str
    method: Method
    answers: tuple[tuple[str, bool, str | None], ...]
    register_version: str
    text_digest: str
    language: str
    gpc: bool
    ip_truncated: str | None
    user_agent_family: str | None
    now: dt.datetime
    #: When a ``given`` recorded now lapses (``renew_after``), or None.
    expires_at: dt.datetime | None


def prepare_choice(
    *,
    keys: Keys,
    register: Register,
    register_version: str,
    subject: tuple[str, str],
    choices: Mapping[str, bool],
    method: Method | str,
    language: str,
    text_digest: str,
    gpc: bool = False,
    ip: str | None = None,
    user_agent: str | None = None,
    now: dt.datetime,
) -> PendingChoice:
    """Check a choice of ``subject`` (kind, value) and make it ready to write; no database.

    The arguments are :func:`record_choice`'s; the text shown must be stored
    already (``text_digest``). Raises :class:`InvalidChoiceError` (its
    ``field`` names the input): a choice that passes cannot fail a batch by
    itself.
    """
    kind, value = subject
    chosen_method = _method(method)
    purposes = purpose_map(register, register_version)
    _check(purposes, choices, chosen_method, language)
    banner = chosen_method in BANNER_METHODS
    return PendingChoice(
        choice_id=_new_choice_id(),
        subject_digest=subject_digest(keys, kind, value, now=now),
        subject_kind=kind,
        method=chosen_method,
        answers=tuple(
            (
                purpose,
                answer and not (gpc and purpose in purposes.gpc),
                purposes.banner.get(purpose) if banner else None,
            )
            for purpose, answer in sorted(choices.items())
        ),
        register_version=register_version,
        text_digest=text_digest,
        language=language,
        gpc=gpc,
        ip_truncated=_ip(ip),
        user_agent_family=user_agent_family(user_agent),
        now=now,
        expires_at=expiry(now, purposes.renew_after),
    )


def record_choice(
    session: Session,
    *,
    keys: Keys,
    register: Register,
    register_version: str,
    subject: tuple[str, str],
    choices: Mapping[str, bool],
    method: Method | str,
    language: str,
    text: Mapping[str, Any] | None = None,
    text_digest: str | None = None,
    gpc: bool = False,
    ip: str | None = None,
    user_agent: str | None = None,
    now: dt.datetime,
    actor: str = "subject",
) -> Choice:
    """Record one choice of ``subject`` (kind, value) in the caller's transaction.

    ``register`` is the version ``register_version`` the person was shown;
    ``choices`` maps purposes to yes or no. The text shown is ``text`` (stored
    now unless it is already) or the ``text_digest`` of a stored one. ``ip``
    is kept truncated and ``user_agent`` as its family only.

    Writes one INSERT of every event, one upsert of the state rows and one
    audit entry. Raises :class:`InvalidChoiceError` (its ``field`` names the
    input) before writing anything.
    """
    if text is not None:
        text_digest = text_digest_of(text)
    pending = prepare_choice(
        keys=keys,
        register=register,
        register_version=register_version,
        subject=subject,
        choices=choices,
        method=method,
        language=language,
        text_digest=text_digest or "",
        gpc=gpc,
        ip=ip,
        user_agent=user_agent,
        now=now,
    )
    if text_digest is None:
        raise InvalidChoiceError("give the text shown, or its digest", field="text_digest")
    if text is not None:
        store_text(session, text, register_version=register_version, language=language, now=now)
    (choice,) = _write_choices(
        session, [pending], actor=actor, object_id=f"choice:{pending.choice_id}"
    )
    return choice


def record_batch(
    session: Session, pending: Sequence[PendingChoice], *, actor: str = "subject"
) -> list[Choice]:
    """Record many prepared choices in the caller's transaction, in order; return them.

    One SELECT of the subjects' states, one INSERT of every event, one upsert
    of the state rows (a subject's later choice in the batch decides its
    state, and sees the earlier one: "no" after a "yes" in the same batch is
    ``withdrawn``) and one audit entry (``consent.recorded``, object
    ``batch:<uuid>``, counts per event type plus ``choices`` and, when some
    came with a GPC signal, ``gpc``). On PostgreSQL everything written is one
    statement, so a batch is atomic even on a connection in autocommit.
    """
    if not pending:
        return []
    return _write_choices(
        session,
        pending,
        actor=actor,
        object_id=f"batch:{_new_object_id('batch')}",
        count_choices=True,
    )


def _write_choices(
    session: Session,
    pending: Sequence[PendingChoice],
    *,
    actor: str,
    object_id: str,
    count_choices: bool = False,
) -> list[Choice]:
    """Write the events, state rows and audit entry (``consent.recorded``) of ``pending``:
    a SELECT and one statement on PostgreSQL whatever the size; return the choices.

    The entry counts the events per type, the choices with a GPC signal (``gpc``,
    when some) and, with ``count_choices``, the choices.
    """
    known: dict[tuple[str, str], tuple[str, dt.datetime | None]] = {
        (subject, purpose): (state, expires_at)
        for subject, purpose, state, _updated, expires_at in state_rows(
            session,
            {p.subject_digest for p in pending},
            {purpose for p in pending for purpose, _answer, _category in p.answers},
        )
    }
    events: list[dict[str, Any]] = []
    # (subject, purpose) -> its state row: the last choice of the batch wins.
    states: dict[tuple[str, str], dict[str, Any]] = {}
    counts: dict[str, int] = {}
    choices: list[Choice] = []
    for choice in pending:
        recorded: list[RecordedEvent] = []
        for purpose, answer, category in choice.answers:
            key = (choice.subject_digest, purpose)
            if answer:
                kind_of_event = EventType.GIVEN
            else:
                previous = known.get(key)
                in_force = (
                    previous is not None
                    and previous[0] == EventType.GIVEN
                    and (previous[1] is None or previous[1] > choice.now)
                )
                kind_of_event = EventType.WITHDRAWN if in_force else EventType.REFUSED
            event_id = str(uuid.uuid4())
            expires_at = choice.expires_at if kind_of_event is EventType.GIVEN else None
            events.append(
                {
                    "id": event_id,
                    "choice_id": choice.choice_id,
                    "subject_digest": choice.subject_digest,
                    "subject_kind": choice.subject_kind,
                    "purpose": purpose,
                    "category": category,
                    "event": kind_of_event.value,
                    "method": choice.method.value,
                    "text_digest": choice.text_digest,
                    "register_version": choice.register_version,
                    "language": choice.language,
                    "gpc": choice.gpc,
                    "ip_truncated": choice.ip_truncated,
                    "user_agent_family": choice.user_agent_family,
                    "created_at": choice.now,
                }
            )
            states[key] = {
                "subject_digest": choice.subject_digest,
                "purpose": purpose,
                "state": kind_of_event.value,
                "event_id": event_id,
                "updated_at": choice.now,
                "expires_at": expires_at,
            }
            known[key] = (kind_of_event.value, expires_at)
            counts[kind_of_event.value] = counts.get(kind_of_event.value, 0) + 1
            recorded.append(RecordedEvent(purpose, kind_of_event, event_id))
        choices.append(Choice(choice.choice_id, choice.subject_digest, tuple(recorded), choice.gpc))
    if count_choices:
        counts["choices"] = len(choices)
    gpc = sum(1 for p in pending if p.gpc)
    if gpc:
        counts["gpc"] = gpc
    entry = audit_log.prepare_entry(
        actor=actor, action="consent.recorded", object_id=object_id, counts=counts
    )
    _write(session, events, list(states.values()), entry)
    return choices


#: What a new state row changes in the one it replaces.
_UPSERTED = ("state", "event_id", "updated_at", "expires_at")
_statements: dict[str, Any] = {}


def _from_json(table: Table, parameter: str) -> str:
    """INSERT INTO ``table`` of the rows of one JSON array parameter (objects by column)."""
    names = ", ".join(c.name for c in table.columns)
    # Names from Ombud's own table definitions; the rows are one bound parameter.
    into = f"INSERT INTO {table.name} ({names})"
    rows = f"json_populate_recordset(NULL::{table.name}, CAST(:{parameter} AS json))"
    return f"{into} SELECT {names} FROM {rows}"  # noqa: S608 - see above


def _statement(dialect: Dialect) -> Any:
    """The write of a batch: the events' INSERT, the state rows' upsert (and on
    PostgreSQL the audit append).

    PostgreSQL: one statement, whatever the number of rows, so the batch is
    atomic by itself (the writer runs it in autocommit: one round trip). Each
    table's rows travel as one JSON text that the server turns back into rows
    (``json_populate_recordset``): the SQL never changes, and the client encodes
    a batch with one ``json.dumps`` where array parameters cost a Python call per
    value (a fifth of the server's CPU under load, measured by
    bench/consent_ingest.py). The state rows are locked before the audit head, as
    in every other transaction that writes consent. SQLite: the upsert alone, run
    as executemany after the events' (in-process, so that costs no round trips).
    """
    found = _statements.get(dialect.name)
    if found is not None:
        return found
    if dialect.name == "postgresql":
        statement: Any = text(
            f"WITH written AS ({_from_json(_EVENTS, 'events')} RETURNING 1), "
            f"upserted AS ({_from_json(_STATE, 'states')} "
            "ON CONFLICT (subject_digest, purpose) DO UPDATE SET "
            + ", ".join(f"{name} = excluded.{name}" for name in _UPSERTED)
            + " RETURNING 1), "
            + audit_log.postgresql_append(after=("written", "upserted"))
        )
    else:
        statement = sqlite_insert(_STATE)
        statement = statement.on_conflict_do_update(
            index_elements=[_STATE.c.subject_digest, _STATE.c.purpose],
            set_={name: statement.excluded[name] for name in _UPSERTED},
        )
    _statements[dialect.name] = statement
    return statement


def _json_value(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a consent column's type")


def _write(
    session: Session,
    events: list[dict[str, Any]],
    states: list[dict[str, Any]],
    entry: audit_log.PreparedEntry,
) -> None:
    """Insert ``events``, upsert their ``states`` (each state row at most once) and append
    ``entry``: one statement on PostgreSQL; on SQLite an executemany per table and the
    append."""
    dialect = session.get_bind().dialect
    statement = _statement(dialect)
    if dialect.name == "postgresql":
        # State rows in key order: concurrent batches lock shared rows in one order
        # and wait for each other rather than deadlock.
        states = sorted(states, key=lambda row: (row["subject_digest"], row["purpose"]))
        audit_log.run_append(
            session,
            statement,
            {
                "events": json.dumps(events, default=_json_value, separators=(",", ":")),
                "states": json.dumps(states, default=_json_value, separators=(",", ":")),
                **entry.parameters(),
            },
        )
        return
    if events:
        session.execute(sqlite_insert(_EVENTS), events)
        session.execute(statement, states)
    audit_log.append_prepared(session, entry)


def _chunks(values: Set[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), CHUNK_SIZE):
        yield ordered[start : start + CHUNK_SIZE]


def read_value(state: str, expires_at: dt.datetime | None, now: dt.datetime) -> ConsentValue:
    """What a stored state means at ``now``: a lapsed ``given`` and ``expired`` read as none."""
    if state == EventType.GIVEN:
        return "given" if expires_at is None or expires_at > now else "none"
    if state == EventType.WITHDRAWN:
        return "withdrawn"
    if state == EventType.REFUSED:
        return "refused"
    return "none"


def state_rows(
    session: Session, digests: Set[str], purposes: Set[str]
) -> Iterator[tuple[str, str, str, dt.datetime, dt.datetime | None]]:
    """(digest, purpose, state, updated_at, expires_at) of every state row asked for.

    One statement per 1,000 digests.
    """
    if not digests or not purposes:
        return
    for chunk in _chunks(digests):
        rows = session.execute(_STATE_ROWS, {"digests": chunk, "purposes": sorted(purposes)})
        for row in rows:
            yield row.subject_digest, row.purpose, row.state, row.updated_at, row.expires_at


def current(
    session: Session, digests: Set[str], purposes: Set[str], *, now: dt.datetime
) -> dict[str, dict[str, ConsentValue]]:
    """The consent of each of ``digests`` to each of ``purposes`` at ``now``.

    Every digest and purpose asked for is in the answer: ``given``,
    ``refused``, ``withdrawn`` or ``none`` (nothing recorded, or a ``given``
    past its ``expires_at``: the banner asks again).
    """
    found: dict[str, dict[str, ConsentValue]] = {
        d: dict.fromkeys(purposes, "none") for d in digests
    }
    for digest, purpose, state, _updated, expires_at in state_rows(session, digests, purposes):
        found[digest][purpose] = read_value(state, expires_at, now)
    return found


def record_expired(
    session: Session, *, now: dt.datetime, actor: str = "system", limit: int = 10_000
) -> int:
    """Write an ``expired`` event for up to ``limit`` consents lapsed by ``now``; return how many.

    Set-based: one SELECT, one INSERT, one upsert and one audit entry
    (``consent.expired`` with the count). The event keeps the text, version
    and language of the ``given`` it ends. Reading does not need this sweep:
    a lapsed ``given`` reads as ``none`` already.
    """
    lapsed = session.execute(
        select(
            _STATE.c.subject_digest,
            _STATE.c.purpose,
            ConsentEvent.subject_kind,
            ConsentEvent.category,
            ConsentEvent.text_digest,
            ConsentEvent.register_version,
            ConsentEvent.language,
        )
        .join(ConsentEvent, ConsentEvent.id == _STATE.c.event_id)
        .where(_STATE.c.state == EventType.GIVEN.value, _STATE.c.expires_at <= now)
        .order_by(_STATE.c.expires_at)
        .limit(limit)
    ).all()
    if not lapsed:
        return 0
    choice_id = _new_choice_id()
    events: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    for row in lapsed:
        event_id = str(uuid.uuid4())
        events.append(
            {
                "id": event_id,
                "choice_id": choice_id,
                "subject_digest": row.subject_digest,
                "subject_kind": row.subject_kind,
                "purpose": row.purpose,
                "category": row.category,
                "event": EventType.EXPIRED.value,
                "method": Method.API.value,
                "text_digest": row.text_digest,
                "register_version": row.register_version,
                "language": row.language,
                "gpc": False,
                "ip_truncated": None,
                "user_agent_family": None,
                "created_at": now,
            }
        )
        states.append(
            {
                "subject_digest": row.subject_digest,
                "purpose": row.purpose,
                "state": EventType.EXPIRED.value,
                "event_id": event_id,
                "updated_at": now,
                "expires_at": None,
            }
        )
    entry = audit_log.prepare_entry(
        actor=actor,
        action="consent.expired",
        object_id=f"choice:{choice_id}",
        counts={"expired": len(events)},
    )
    _write(session, events, states, entry)
    return len(events)


def erase_subject(session: Session, digests: Set[str], *, actor: str) -> int:
    """Delete everything the ledger holds on the subject known by ``digests``; return the
    number of events deleted.

    The one way events leave the ledger (the subject's own erasure, Art. 17):
    their state rows, events, webhook deliveries and sign-ups in progress go,
    in the caller's transaction, with one audit entry (``consent.erased``,
    counts per table, never the digests). Other subjects are not touched.
    """
    counts = {"subjects": len(digests), "states": 0, "events": 0, "webhooks": 0, "signups": 0}
    for chunk in _chunks(digests):
        counts["webhooks"] += _deleted(
            session, delete(ConsentWebhook).where(ConsentWebhook.subject_digest.in_(chunk))
        )
        counts["states"] += _deleted(
            session, delete(ConsentStateRow).where(ConsentStateRow.subject_digest.in_(chunk))
        )
        counts["events"] += _deleted(
            session, delete(ConsentEvent).where(ConsentEvent.subject_digest.in_(chunk))
        )
        counts["signups"] += _deleted(
            session, delete(ConsentSignup).where(ConsentSignup.email_digest.in_(chunk))
        )
    audit.append(session, actor=actor, action="consent.erased", counts=counts)
    return counts["events"]


def _deleted(session: Session, statement: Any) -> int:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
