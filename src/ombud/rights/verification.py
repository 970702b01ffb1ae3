"""Identity verification by a single-use, expiring e-mail link or code (Art. 12(6)).

A request from the e-mail address on file leaves no reasonable doubt, so a
mail to that address with a link and a six-digit code is the default proof.
What Ombud stores of both is a SHA-256 digest; the mail is the only copy.
Nothing here reveals whether the address is known to any system: verifying
proves control of the address, not that data exists.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud.mail import Mail, MailTransport
from ombud.rights.errors import VerificationError
from ombud.rights.intake import get_request, plaintext_identifiers
from ombud.rights.models import DataRequest, RequestState, Verification
from ombud.rights.states import move
from ombud.store.crypto import Keys, new_token, token_digest

#: How long a link and code stay valid.
VERIFICATION_TTL = dt.timedelta(hours=24)
#: Wrong codes allowed before the code stops working (a new one can be sent).
MAX_FAILED_CODES = 5


@dataclass(frozen=True)
class Challenge:
    """What the person receives: the link's token and the code. Never stored as such."""

    token: str
    code: str


def start(session: Session, request: DataRequest, *, now: dt.datetime) -> Challenge:
    """A new link and code for ``request``; earlier ones stop working."""
    if request.state != RequestState.RECEIVED:
        raise VerificationError(f"request {request.id} is already {request.state}")
    for earlier in session.scalars(
        select(Verification).where(
            Verification.request_id == request.id, Verification.used_at.is_(None)
        )
    ):
        earlier.used_at = now
    challenge = Challenge(new_token(), f"{secrets.randbelow(1_000_000):06d}")
    session.add(
        Verification(
            request_id=request.id,
            token_digest=token_digest(challenge.token),
            code_digest=token_digest(f"{request.id}:{challenge.code}"),
            expires_at=now + VERIFICATION_TTL,
        )
    )
    session.flush()
    return challenge


def send(
    transport: MailTransport,
    request: DataRequest,
    challenge: Challenge,
    *,
    keys: Keys,
    base_url: str,
) -> bool:
    """Mail the challenge to the request's e-mail address; False when it has none."""
    addresses = [v for kind, v in plaintext_identifiers(request, keys) if kind == "email"]
    if not addresses:
        return False
    link = f"{base_url.rstrip('/')}/privacy/request/verify/{challenge.token}"
    texts = _TEXTS.get(request.language, _TEXTS["en"])
    transport.send(
        Mail(
            to=addresses[0],
            subject=texts["subject"].format(id=request.id),
            text=texts["body"].format(id=request.id, link=link, code=challenge.code),
            language=request.language,
        )
    )
    return True


def verify_token(session: Session, token: str, *, now: dt.datetime) -> DataRequest:
    """Verify by the link; raises :class:`VerificationError` if it is unknown, used or expired."""
    verification = session.scalars(
        select(Verification).where(Verification.token_digest == token_digest(token))
    ).one_or_none()
    if verification is None:
        raise VerificationError("this link is not valid; ask for a new one")
    return _complete(session, verification, method="email_link", now=now)


def verify_code(session: Session, request_id: str, code: str, *, now: dt.datetime) -> DataRequest:
    """Verify by the code from the mail; wrong codes count against a small limit."""
    request = get_request(session, request_id)
    verification = session.scalars(
        select(Verification)
        .where(Verification.request_id == request.id, Verification.used_at.is_(None))
        .order_by(Verification.id.desc())
    ).first()
    if verification is None:
        raise VerificationError("no code is waiting for this request; ask for a new one")
    expected = verification.code_digest
    if not hmac.compare_digest(expected, token_digest(f"{request.id}:{code.strip()}")):
        verification.failed_attempts += 1
        if verification.failed_attempts >= MAX_FAILED_CODES:
            verification.used_at = now
        session.flush()
        raise VerificationError("the code is not right; check the mail and try again")
    return _complete(session, verification, method="email_code", now=now)


def _complete(
    session: Session, verification: Verification, *, method: str, now: dt.datetime
) -> DataRequest:
    if verification.used_at is not None:
        raise VerificationError("this link or code has been used; ask for a new one")
    if verification.expires_at <= now:
        raise VerificationError("this link or code has expired; ask for a new one")
    verification.used_at = now
    request = get_request(session, verification.request_id)
    request.verified_at = now
    request.verification = method
    move(session, request, RequestState.VERIFIED, actor="subject", now=now)
    return request


_TEXTS = {
    "sv": {
        "subject": "Bekräfta din begäran {id}",
        "body": (
            "Hej!\n\nVi har tagit emot en begäran om dina personuppgifter (ärende {id}). "
            "Bekräfta att det är du genom att öppna länken:\n\n{link}\n\n"
            "eller ange koden {code} på sidan där du skickade begäran. Länken och koden "
            "gäller i 24 timmar och kan användas en gång.\n\nHar du inte skickat någon "
            "begäran kan du bortse från det här mejlet.\n"
        ),
    },
    "en": {
        "subject": "Confirm your request {id}",
        "body": (
            "Hello,\n\nWe have received a request concerning your personal data (case {id}). "
            "Confirm that it is you by opening the link:\n\n{link}\n\n"
            "or enter the code {code} on the page where you made the request. The link and "
            "the code are valid for 24 hours and can be used once.\n\nIf you did not make "
            "a request, you can ignore this message.\n"
        ),
    },
}
