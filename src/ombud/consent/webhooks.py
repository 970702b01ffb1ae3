"""Telling the systems that hold a list when someone joins or leaves it: signed webhooks.

When a newsletter or network consent changes (a confirmed sign-up, an
unsubscribe, a withdrawal on the consent page), :func:`queue_events` stores
one delivery per system that holds the list: a system of the register with
``connector: http`` whose ``activities`` include an activity resting on the
consent purpose. The delivery is written in the same transaction as the
ledger event, so no change is recorded without its webhooks.

:func:`deliver_due` sends what is due: ``POST {url}/ombud/consent`` with

.. code-block:: json

    {"event": "withdrawn", "purpose": "newsletter", "subject": "anna@example.se",
     "event_id": "<the ledger event (receipt) id>", "time": "2025-04-03T10:15:00+00:00"}

signed like the http connector's requests (``X-Ombud-Timestamp``,
``X-Ombud-Signature: sha256=<HMAC-SHA256 of "<timestamp>.<body>">``, verified
with :func:`ombud.connectors.http.verify_signature`). A 2xx answer delivers;
anything else is retried with exponential backoff (:func:`backoff`) up to
:data:`MAX_ATTEMPTS` times, then given up with an audit entry. The address is
stored only as AES-GCM ciphertext and is dropped once delivered. Receivers
should treat ``event_id`` as an idempotency key: a delivery whose answer was
lost is sent again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import httpx2
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ombud import audit
from ombud.connectors.http import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from ombud.consent.models import ConsentWebhook
from ombud.register.env import MissingEnvironmentError, resolve
from ombud.register.model import Connector, Register, System
from ombud.store.crypto import Keys, SecretKeyError

__all__ = [
    "BASE_DELAY",
    "MAX_ATTEMPTS",
    "MAX_DELAY",
    "ConsentChange",
    "Delivery",
    "backoff",
    "deliver_due",
    "list_systems",
    "queue_events",
]

log = logging.getLogger(__name__)

#: The path appended to a system's ``url``, beside the http connector's /ombud/check etc.
PATH = "/ombud/consent"
#: The first retry waits this long; each further one twice as long as the one before.
BASE_DELAY = dt.timedelta(seconds=30)
#: No wait between attempts is longer than this.
MAX_DELAY = dt.timedelta(hours=6)
#: Attempts before a delivery is given up: about two days with the delays above.
MAX_ATTEMPTS = 17
#: A claimed delivery is not claimed again for this long (a worker that died mid-send).
LEASE = dt.timedelta(minutes=5)
#: Deliveries claimed per round.
BATCH = 100
#: The longest error text kept.
_ERROR_LENGTH = 500


@dataclass(frozen=True)
class ConsentChange:
    """One ledger event a list-holding system must hear about."""

    purpose: str
    event: str
    event_id: str
    time: dt.datetime


@dataclass(frozen=True)
class Delivery:
    """What one :func:`deliver_due` round did."""

    delivered: int = 0
    failed: int = 0
    given_up: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.failed + self.given_up


def list_systems(register: Register, purpose: str) -> list[System]:
    """The http systems holding the list of ``purpose``: an activity of theirs rests on it."""
    activities = {
        a.id for a in register.activities if a.consent is not None and a.consent.purpose == purpose
    }
    return [
        s
        for s in register.systems
        if s.connector == Connector.HTTP and activities.intersection(s.activities)
    ]


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min, ... at most 6 h."""
    seconds = BASE_DELAY.total_seconds() * 2 ** max(0, min(attempts - 1, 30))
    return min(dt.timedelta(seconds=seconds), MAX_DELAY)


def queue_events(
    session: Session,
    *,
    register: Register,
    keys: Keys,
    subject_digest: str,
    email: str,
    events: Sequence[ConsentChange],
    now: dt.datetime,
) -> int:
    """Store a delivery of each of ``events`` to each system holding its purpose's list.

    Only ``given``, ``withdrawn`` and ``expired`` events change a list;
    ``refused`` ones (nobody was on it) are not sent. Returns how many were queued.
    """
    queued = 0
    for change in events:
        if change.event not in {"given", "withdrawn", "expired"}:
            continue
        for system in list_systems(register, change.purpose):
            session.add(
                ConsentWebhook(
                    system_id=system.id,
                    purpose=change.purpose,
                    subject_digest=subject_digest,
                    event_id=change.event_id,
                    payload={
                        "event": change.event,
                        "purpose": change.purpose,
                        "event_id": change.event_id,
                        "time": change.time.astimezone(dt.UTC).isoformat(),
                    },
                    email_ciphertext=keys.encrypt(
                        email, context=_context(change.event_id, system.id)
                    ),
                    attempts=0,
                    created_at=now,
                    next_attempt_at=now,
                    delivered_at=None,
                    last_error=None,
                )
            )
            queued += 1
    if queued:
        session.flush()
    return queued


def deliver_due(
    session_factory: sessionmaker[Session],
    now: dt.datetime,
    *,
    register: Register,
    keys: Keys,
    environ: Mapping[str, str] | None = None,
    transport: httpx2.BaseTransport | None = None,
    timeout: float = 10.0,
    clock: Callable[[], float] = time.time,
    limit: int = BATCH,
) -> Delivery:
    """Send every delivery due at ``now`` (up to ``limit``) and record how each went.

    Deliveries are claimed in one short transaction (leased for :data:`LEASE`,
    so a second worker skips them), sent with no transaction open, and their
    outcome recorded in another. ``register`` gives each system's ``url`` and
    ``secret`` (``env:`` names resolved from ``environ``, default the
    process's); ``transport`` is the seam for tests and proxies.
    """
    env = os.environ if environ is None else environ
    claimed = _claim(session_factory, now, keys, limit)
    if not claimed:
        return Delivery()
    systems = {s.id: s for s in register.systems}
    with httpx2.Client(
        transport=transport, timeout=timeout, headers={"User-Agent": "ombud"}
    ) as client:
        outcomes = [
            (item.id, _send(client, item, systems.get(item.system_id), env, clock))
            for item in claimed
        ]
    return _record(session_factory, outcomes, now)


# --- internals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    id: int
    system_id: str
    body: bytes | None
    #: Why the body could not be built (the ciphertext no longer decrypts).
    problem: str | None


def _claim(
    session_factory: sessionmaker[Session], now: dt.datetime, keys: Keys, limit: int
) -> list[_Claimed]:
    with session_factory.begin() as session:
        rows = session.scalars(
            select(ConsentWebhook)
            .where(
                ConsentWebhook.delivered_at.is_(None),
                ConsentWebhook.next_attempt_at.is_not(None),
                ConsentWebhook.next_attempt_at <= now,
            )
            .order_by(ConsentWebhook.next_attempt_at, ConsentWebhook.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed: list[_Claimed] = []
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = now + LEASE
            claimed.append(_build(row, keys))
        return claimed


def _build(row: ConsentWebhook, keys: Keys) -> _Claimed:
    if row.email_ciphertext is None:
        return _Claimed(row.id, row.system_id, None, "the address is no longer stored")
    try:
        email = keys.decrypt(row.email_ciphertext, context=_context(row.event_id, row.system_id))
    except SecretKeyError as exc:
        return _Claimed(row.id, row.system_id, None, str(exc))
    payload = {**row.payload, "subject": email}
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _Claimed(row.id, row.system_id, body.encode("utf-8"), None)


def _send(
    client: httpx2.Client,
    item: _Claimed,
    system: System | None,
    environ: Mapping[str, str],
    clock: Callable[[], float],
) -> str | None:
    """None when delivered, else why not (never containing the address)."""
    if item.body is None:
        return item.problem or "nothing to send"
    try:
        url, secret = _endpoint(item.system_id, system, environ)
    except _Unusable as exc:
        return str(exc)
    timestamp = str(int(clock()))
    try:
        response = client.post(
            url.rstrip("/") + PATH,
            content=item.body,
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(secret, timestamp, item.body),
                "X-Ombud-System": item.system_id,
            },
        )
    except httpx2.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"


class _Unusable(Exception):  # noqa: N818 - internal: why a system cannot be sent to now
    pass


def _endpoint(system_id: str, system: System | None, environ: Mapping[str, str]) -> tuple[str, str]:
    """The system's URL and secret, ``env:`` resolved; raises :class:`_Unusable`."""
    if system is None:
        raise _Unusable(f"system {system_id!r} is no longer in the register")
    if system.connector != Connector.HTTP or not system.url or not system.secret:
        raise _Unusable(f"system {system.id!r} is not an http system with url and secret")
    try:
        url = resolve(system.url, environ, where=f"systems[{system.id}].url")
        secret = resolve(system.secret, environ, where=f"systems[{system.id}].secret")
    except MissingEnvironmentError as exc:
        raise _Unusable(str(exc)) from None
    return url, secret


def _record(
    session_factory: sessionmaker[Session], outcomes: list[tuple[int, str | None]], now: dt.datetime
) -> Delivery:
    delivered = failed = given_up = 0
    with session_factory.begin() as session:
        rows = {
            row.id: row
            for row in session.scalars(
                select(ConsentWebhook).where(ConsentWebhook.id.in_([i for i, _ in outcomes]))
            )
        }
        for webhook_id, error in outcomes:
            row = rows.get(webhook_id)
            if row is None:  # erased meanwhile (the subject's erasure cascades)
                continue
            if error is None:
                row.delivered_at = now
                row.next_attempt_at = None
                row.last_error = None
                # Delivered: the address is not needed any more.
                row.email_ciphertext = None
                delivered += 1
                continue
            row.last_error = error[:_ERROR_LENGTH]
            if row.attempts >= MAX_ATTEMPTS:
                row.next_attempt_at = None
                row.email_ciphertext = None
                given_up += 1
                log.warning(
                    "consent webhook %s to %s given up after %d attempts: %s",
                    row.id,
                    row.system_id,
                    row.attempts,
                    row.last_error,
                )
                audit.append(
                    session,
                    actor="system",
                    action="consent.webhook_given_up",
                    object_id=f"webhook:{row.id}",
                    counts={"attempts": row.attempts},
                )
            else:
                row.next_attempt_at = now + backoff(row.attempts)
                failed += 1
    return Delivery(delivered, failed, given_up)


def _context(event_id: str, system_id: str) -> str:
    return f"consent_webhook:{event_id}:{system_id}"
