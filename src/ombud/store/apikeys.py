"""API keys for integrators: created, verified, listed and revoked; only their SHA-256 is kept.

A key is shown once, when it is created (``omb_`` and 43 random URL-safe
characters, 256 bits). The table holds its SHA-256 digest, so a database leak
yields no usable key; a key is found by its digest, which is also the
constant-time comparison (no stored secret is compared byte by byte). Every
creation and revocation writes an audit entry (``apikey.created``,
``apikey.revoked``, object ``apikey:<id>``) in the same transaction.

Errors::

    ApiKeyError
    ├── UnknownScopeError     a scope that does not exist
    └── ApiKeyNotFoundError   no key with that id
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ombud import audit
from ombud.store.crypto import token_digest
from ombud.store.models import HEX_DIGEST_LENGTH, Base

__all__ = [
    "KEY_PREFIX",
    "ApiKey",
    "ApiKeyError",
    "ApiKeyNotFoundError",
    "NewApiKey",
    "Scope",
    "UnknownScopeError",
    "create_key",
    "list_keys",
    "parse_scopes",
    "revoke_key",
    "verify_key",
]

#: Every key starts so, which lets secret scanners (and people) recognise a leaked one.
KEY_PREFIX = "omb_"
_KEY_BYTES = 32
#: Longer than any key Ombud issues; longer input is refused before hashing.
_MAX_KEY_LENGTH = 200
MAX_NAME_LENGTH = 100
#: ``last_used_at`` is written at most this often per key, so checks do not all write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class Scope(StrEnum):
    """What a key may do."""

    PROCESSING_CHECK = "processing:check"
    CONSENT_READ = "consent:read"
    REQUESTS_WRITE = "requests:write"
    REQUESTS_READ = "requests:read"


class ApiKeyError(Exception):
    """Base of the API key errors; the message says what and how to fix it."""


class UnknownScopeError(ApiKeyError, ValueError):
    """A scope that Ombud does not have."""


class ApiKeyNotFoundError(ApiKeyError, LookupError):
    """No API key has that id."""


class ApiKey(Base):
    """An integrator's API key: its digest, never the key."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who or what uses the key, e.g. "crm-export"; shown in listings.
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH))
    #: SHA-256 hex of the key.
    digest: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), unique=True)
    #: Scope values, sorted.
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: Scope) -> bool:
        """Whether the key is active and has ``scope``."""
        return self.active and scope.value in self.scopes

    def __repr__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"ApiKey({self.id}, {self.name!r}, {state})"


@dataclass(frozen=True)
class NewApiKey:
    """A key just created: the row, and the key itself, which is never available again."""

    row: ApiKey
    key: str


def parse_scopes(values: list[str]) -> list[Scope]:
    """The scopes named in ``values``, sorted and without repeats; at least one.

    Raises :class:`UnknownScopeError` naming the first unknown one and the known ones.
    """
    known = ", ".join(s.value for s in Scope)
    if not values:
        raise UnknownScopeError(f"give at least one scope: {known}")
    scopes: set[Scope] = set()
    for value in values:
        try:
            scopes.add(Scope(value.strip()))
        except ValueError:
            raise UnknownScopeError(f"unknown scope {value!r}; use one of: {known}") from None
    return sorted(scopes)


def create_key(
    session: Session, *, name: str, scopes: list[Scope], actor: str, now: dt.datetime
) -> NewApiKey:
    """Create a key with ``scopes``, audited as ``apikey.created``; the key is in the result only.

    Raises :class:`ApiKeyError` for a blank or overlong name or no scopes.
    """
    name = name.strip()
    if not name:
        raise ApiKeyError("give the key a name saying who uses it, e.g. crm-export")
    if len(name) > MAX_NAME_LENGTH:
        raise ApiKeyError(
            f"the key's name is {len(name)} characters; keep it under {MAX_NAME_LENGTH}"
        )
    if not scopes:
        raise UnknownScopeError(f"give at least one scope: {', '.join(s.value for s in Scope)}")
    key = KEY_PREFIX + secrets.token_urlsafe(_KEY_BYTES)
    row = ApiKey(
        name=name,
        digest=token_digest(key),
        scopes=sorted({s.value for s in scopes}),
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.append(session, actor=actor, action="apikey.created", object_id=f"apikey:{row.id}")
    return NewApiKey(row, key)


def verify_key(session: Session, key: str, *, now: dt.datetime) -> ApiKey | None:
    """The active key ``key`` is, with its use recorded; None for an unknown or revoked key.

    The key is looked up by its SHA-256, so no stored secret is compared with
    the input; ``last_used_at`` is updated at most once per minute.
    """
    if not key.startswith(KEY_PREFIX) or len(key) > _MAX_KEY_LENGTH:
        return None
    digest = token_digest(key)
    row = session.scalars(select(ApiKey).where(ApiKey.digest == digest)).one_or_none()
    if row is None or not hmac.compare_digest(row.digest, digest) or not row.active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return row


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, revoked ones included, oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, key_id: int, *, actor: str, now: dt.datetime) -> ApiKey:
    """Revoke key ``key_id`` at ``now``, audited as ``apikey.revoked``.

    Revoking a revoked key changes nothing and writes no entry. Raises
    :class:`ApiKeyNotFoundError` for an unknown id.
    """
    row = session.get(ApiKey, key_id)
    if row is None:
        raise ApiKeyNotFoundError(f"no API key {key_id}; `ombud apikey list` shows the ids")
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
        audit.append(session, actor=actor, action="apikey.revoked", object_id=f"apikey:{row.id}")
    return row
