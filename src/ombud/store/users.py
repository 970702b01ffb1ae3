"""Console users, their sessions and login throttling: passwords hashed with Argon2id.

A user has an e-mail (stored lower-cased; staff data, kept in this table and
never written to the audit log or the logs, which say ``user:<id>``), a role,
optionally the controller it is limited to, and an Argon2id password hash.

A session is found by the SHA-256 of the random token its cookie holds, so a
database leak yields no usable session. It ends after ``SessionPolicy.idle``
without use and in any case ``SessionPolicy.lifetime`` after login; logging in
always makes a new one (the one the browser had is dropped: no fixation).

Login throttling lives in the database (table ``login_failures``), so every
server process and restart sees the same counts: a failure is recorded under
an HMAC of the e-mail and one of the client address (keys from
OMBUD_SECRET_KEY), and while ``LoginPolicy.per_email`` failures for an e-mail
or ``LoginPolicy.per_address`` for an address lie within ``LoginPolicy.window``
further attempts are refused unchecked. Rows older than the window are deleted
as new failures come in; a successful login clears its e-mail's failures.

Errors::

    UserError
    ├── UnknownRoleError      a role that does not exist
    ├── InvalidEmailError     not an e-mail address
    ├── WeakPasswordError     too short or too long
    ├── UserExistsError       the e-mail already has a user
    └── UserNotFoundError     no user with that e-mail or id
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import ForeignKey, Index, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ombud import audit
from ombud.store.crypto import Keys, token_digest
from ombud.store.models import HEX_DIGEST_LENGTH, Base

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "InvalidEmailError",
    "LoginFailure",
    "LoginOutcome",
    "LoginPolicy",
    "Role",
    "SessionPolicy",
    "UnknownRoleError",
    "User",
    "UserError",
    "UserExistsError",
    "UserNotFoundError",
    "UserSession",
    "WeakPasswordError",
    "create_user",
    "disable_user",
    "end_session",
    "list_users",
    "log_in",
    "normalise_email",
    "parse_role",
    "resolve_session",
]

MIN_PASSWORD_LENGTH = 12
#: Argon2 takes any length; the cap bounds the work an anonymous login can cause.
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TOKEN_BYTES = 32
#: Throttling keys are HMACs with these kinds, so they never equal a subject's digest.
_EMAIL_KIND = "login-email"
_ADDRESS_KIND = "login-address"


class Role(enum.StrEnum):
    """What a console user may do, ordered ``viewer < handler < dpo < admin``."""

    VIEWER = "viewer"
    HANDLER = "handler"
    DPO = "dpo"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """0 for viewer up to 3 for admin."""
        return _RANKS[self]

    def __lt__(self, other: str) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: str) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: str) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: str) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank >= other.rank


_RANKS = {role: rank for rank, role in enumerate(Role)}


class UserError(Exception):
    """Base of the user errors; the message says what and how to fix it."""


class UnknownRoleError(UserError, ValueError):
    """A role that Ombud does not have."""


class InvalidEmailError(UserError, ValueError):
    """Not an e-mail address."""


class WeakPasswordError(UserError, ValueError):
    """A password too short (or absurdly long)."""


class UserExistsError(UserError):
    """The e-mail already belongs to a user."""


class UserNotFoundError(UserError, LookupError):
    """No user has that e-mail or id."""


class User(Base):
    """A person who logs in to the console."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-cased. Never logged or audited: those say ``user:<id>``.
    email: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    #: The one controller (register ``organisation.controllers[].id``) whose requests
    #: this user sees; None: all of them.
    controller_id: Mapped[str | None] = mapped_column(String(100))
    #: Argon2id, in the PHC string format (parameters and salt included).
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    disabled_at: Mapped[dt.datetime | None]

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def __repr__(self) -> str:
        # No e-mail: reprs end up in logs and tracebacks.
        return f"User({self.id}, {self.role}, {'active' if self.active else 'disabled'})"


class UserSession(Base):
    """A logged-in browser: the SHA-256 of its cookie's token, never the token."""

    __tablename__ = "user_sessions"

    #: SHA-256 hex of the token in the ``ombud_session`` cookie.
    id: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    #: The absolute end, ``created_at`` plus the lifetime; idleness may end it sooner.
    expires_at: Mapped[dt.datetime]
    #: Random; forms carry an HMAC of it (see ``ombud.web.admin.auth.csrf_token``).
    csrf_secret: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH))

    def __repr__(self) -> str:
        return f"UserSession(user={self.user_id}, expires={self.expires_at.isoformat()})"


class LoginFailure(Base):
    """One failed login, under the HMAC of the e-mail or of the client address."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_failed_at", "key", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH))
    failed_at: Mapped[dt.datetime]


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lasts."""

    #: Without a request for this long, the session ends.
    idle: dt.timedelta = dt.timedelta(minutes=30)
    #: After this long since login the session ends, however busy.
    lifetime: dt.timedelta = dt.timedelta(hours=12)
    #: ``last_seen_at`` is written at most this often, so page views do not all write.
    touch_every: dt.timedelta = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class LoginPolicy:
    """When logins are refused unchecked."""

    per_email: int = 5
    per_address: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class LoginOutcome:
    """A login attempt's result: ``token`` and ``user`` on success, else why not."""

    user: User | None = None
    #: The new session's token for the cookie; shown nowhere else.
    token: str | None = None
    #: True when the attempt was refused unchecked because of earlier failures.
    throttled: bool = False

    @property
    def ok(self) -> bool:
        return self.token is not None


@cache
def _hasher() -> PasswordHasher:
    # argon2-cffi's defaults are RFC 9106's second recommendation: Argon2id, 64 MiB, t=3.
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    # Verified against when the e-mail is unknown, so such a login takes as long as a
    # wrong password does and timing does not tell whether the e-mail has a user.
    return _hasher().hash(secrets.token_urlsafe(16))


def normalise_email(email: str) -> str:
    """``email`` stripped and lower-cased; raises :class:`InvalidEmailError` if it is none."""
    value = email.strip().lower()
    if len(value) > MAX_EMAIL_LENGTH or not _EMAIL.match(value):
        raise InvalidEmailError(f"{email.strip()!r} is not an e-mail address")
    return value


def parse_role(value: str) -> Role:
    """The role named ``value``; raises :class:`UnknownRoleError` listing the roles."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise UnknownRoleError(f"unknown role {value!r}; use one of: {known}") from None


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    controller_id: str | None,
    actor: str,
    now: dt.datetime,
) -> User:
    """Add a user, audited as ``user.created`` (object ``user:<id>``, no e-mail).

    Raises :class:`InvalidEmailError`, :class:`WeakPasswordError` or
    :class:`UserExistsError`.
    """
    address = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(
            f"the password has {len(password)} characters; use at least {MIN_PASSWORD_LENGTH} "
            "(a passphrase of four or more words is easy to remember)"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPasswordError(f"the password is longer than {MAX_PASSWORD_LENGTH} characters")
    if session.scalars(select(User.id).where(User.email == address)).first() is not None:
        raise UserExistsError(f"{address} already has a user; `ombud user list` shows them")
    user = User(
        email=address,
        role=role.value,
        controller_id=controller_id or None,
        password_hash=_hasher().hash(password),
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.append(session, actor=actor, action="user.created", object_id=f"user:{user.id}")
    return user


def list_users(session: Session) -> list[User]:
    """Every user, disabled ones included, oldest first."""
    return list(session.scalars(select(User).order_by(User.id)))


def disable_user(session: Session, email: str, *, actor: str, now: dt.datetime) -> User:
    """Disable the user with ``email`` and end its sessions, audited as ``user.disabled``.

    Disabling a disabled user changes nothing. Raises :class:`UserNotFoundError`.
    """
    address = email.strip().lower()
    user = session.scalars(select(User).where(User.email == address)).one_or_none()
    if user is None:
        raise UserNotFoundError(f"no user {address}; `ombud user list` shows them")
    if user.disabled_at is None:
        user.disabled_at = now
        session.execute(delete(UserSession).where(UserSession.user_id == user.id))
        session.flush()
        audit.append(session, actor=actor, action="user.disabled", object_id=f"user:{user.id}")
    return user


def log_in(
    session: Session,
    *,
    email: str,
    password: str,
    address: str | None,
    previous_token: str | None,
    keys: Keys,
    now: dt.datetime,
    sessions: SessionPolicy,
    throttle: LoginPolicy,
) -> LoginOutcome:
    """Check a login and, if it is right, start a new session.

    The session named by ``previous_token`` (the cookie the browser sent) is
    deleted either way on success: the new session always has a new id.
    Refused unchecked (``throttled``) while the e-mail or ``address`` has too
    many recent failures; an unknown e-mail costs the same hash check as a
    wrong password. Audited as ``user.login`` or ``user.login_failed`` (object
    ``user:<id>`` when the e-mail has a user, and the failure counts), never
    with the e-mail.
    """
    email_key = keys.identifier(_EMAIL_KIND, email.strip().lower())
    address_key = keys.identifier(_ADDRESS_KIND, address or "")
    horizon = now - throttle.window
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= horizon))
    email_failures = _failures(session, email_key, horizon)
    address_failures = _failures(session, address_key, horizon)
    if email_failures >= throttle.per_email or address_failures >= throttle.per_address:
        # Same work as a real check, so the refusal is no faster than a wrong password.
        _verify(_dummy_hash(), password)
        return LoginOutcome(throttled=True)

    user = session.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()
    right = _verify(user.password_hash if user is not None else _dummy_hash(), password)
    if user is None or not right or not user.active:
        session.add_all(
            [
                LoginFailure(key=email_key, failed_at=now),
                LoginFailure(key=address_key, failed_at=now),
            ]
        )
        session.flush()
        audit.append(
            session,
            actor="anonymous",
            action="user.login_failed",
            object_id=f"user:{user.id}" if user is not None else None,
            counts={"email_failures": email_failures + 1, "address_failures": address_failures + 1},
        )
        return LoginOutcome()

    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    session.execute(delete(LoginFailure).where(LoginFailure.key == email_key))
    if previous_token:
        session.execute(delete(UserSession).where(UserSession.id == token_digest(previous_token)))
    # Sessions of this user that have ended are tidied away here, where it costs nothing.
    session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            (UserSession.expires_at <= now) | (UserSession.last_seen_at <= now - sessions.idle),
        )
    )
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    session.add(
        UserSession(
            id=token_digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + sessions.lifetime,
            csrf_secret=secrets.token_hex(32),
        )
    )
    session.flush()
    audit.append(session, actor=f"user:{user.id}", action="user.login", object_id=f"user:{user.id}")
    return LoginOutcome(user=user, token=token)


def resolve_session(
    session: Session, token: str, *, now: dt.datetime, policy: SessionPolicy
) -> tuple[UserSession, User] | None:
    """The live session with ``token`` and its (active) user, its use recorded; else None.

    A session past its lifetime or idle for ``policy.idle`` is deleted here.
    """
    if not token or len(token) > 2 * _TOKEN_BYTES:
        return None
    row = session.get(UserSession, token_digest(token))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if (
        user is None
        or not user.active
        or now >= row.expires_at
        or now - row.last_seen_at >= policy.idle
    ):
        session.delete(row)
        return None
    if now - row.last_seen_at >= policy.touch_every:
        row.last_seen_at = now
    return row, user


def end_session(session: Session, token: str) -> int | None:
    """Delete the session with ``token``, audited as ``user.logout``; its user's id, or None."""
    row = session.get(UserSession, token_digest(token)) if token else None
    if row is None:
        return None
    user_id = row.user_id
    session.delete(row)
    session.flush()
    audit.append(
        session, actor=f"user:{user_id}", action="user.logout", object_id=f"user:{user_id}"
    )
    return user_id


def _failures(session: Session, key: str, horizon: dt.datetime) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.key == key, LoginFailure.failed_at > horizon)
    )
    return int(count or 0)


def _verify(password_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
