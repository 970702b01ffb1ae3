import datetime as dt

import pytest
from sqlalchemy import Engine

from ombud import store
from ombud.mail import MemoryTransport
from ombud.register.model import Register
from ombud.rights import verification
from ombud.rights.errors import VerificationError
from ombud.rights.intake import NewRequest, create_request, get_request
from ombud.rights.models import Channel, RequestState
from ombud.store.crypto import Keys

NOW = dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC)


@pytest.fixture
def request_id(engine: Engine, almi: Register, keys: Keys) -> str:
    with store.transaction(engine) as session:
        return create_request(
            session,
            NewRequest(
                type="access",
                identifiers=[("email", "Lisa@Example.se")],
                channel=Channel.PORTAL,
                language="sv",
            ),
            register=almi,
            register_version="b" * 64,
            keys=keys,
            actor="subject",
            now=NOW,
        ).id


def _challenge(
    engine: Engine, request_id: str, keys: Keys
) -> tuple[verification.Challenge, MemoryTransport]:
    transport = MemoryTransport()
    with store.transaction(engine) as session:
        request = get_request(session, request_id)
        challenge = verification.start(session, request, now=NOW)
        assert verification.send(
            transport, request, challenge, keys=keys, base_url="https://almi.example/"
        )
    return challenge, transport


def test_link_verifies_once(engine: Engine, request_id: str, keys: Keys) -> None:
    challenge, transport = _challenge(engine, request_id, keys)
    (mail,) = transport.sent
    body = mail.get_content()
    assert mail["To"] == "lisa@example.se"
    assert request_id in mail["Subject"]
    assert f"https://almi.example/privacy/request/verify/{challenge.token}" in body
    assert challenge.code in body

    with store.transaction(engine) as session:
        request = verification.verify_token(session, challenge.token, now=NOW)
        assert (request.state, request.verification) == (RequestState.VERIFIED, "email_link")
    with store.transaction(engine) as session, pytest.raises(VerificationError, match="used"):
        verification.verify_token(session, challenge.token, now=NOW)


def test_code_verifies_and_wrong_codes_are_limited(
    engine: Engine, request_id: str, keys: Keys
) -> None:
    challenge, _ = _challenge(engine, request_id, keys)
    wrong = f"{(int(challenge.code) + 1) % 1_000_000:06d}"
    for _ in range(verification.MAX_FAILED_CODES):
        with store.transaction(engine) as session, pytest.raises(VerificationError):
            verification.verify_code(session, request_id, wrong, now=NOW)
    # The limit reached, even the right code no longer works: a new one must be sent.
    with store.transaction(engine) as session, pytest.raises(VerificationError, match="no code"):
        verification.verify_code(session, request_id, challenge.code, now=NOW)

    fresh, _ = _challenge(engine, request_id, keys)
    with store.transaction(engine) as session:
        request = verification.verify_code(session, request_id, f" {fresh.code} ", now=NOW)
        assert request.verification == "email_code"


def test_expired_and_unknown_links(engine: Engine, request_id: str, keys: Keys) -> None:
    challenge, _ = _challenge(engine, request_id, keys)
    later = NOW + verification.VERIFICATION_TTL + dt.timedelta(seconds=1)
    with store.transaction(engine) as session, pytest.raises(VerificationError, match="expired"):
        verification.verify_token(session, challenge.token, now=later)
    with store.transaction(engine) as session, pytest.raises(VerificationError, match="not valid"):
        verification.verify_token(session, "forged-token", now=NOW)
    with store.transaction(engine) as session:
        assert get_request(session, request_id).state == RequestState.RECEIVED


def test_new_challenge_voids_the_old_link(engine: Engine, request_id: str, keys: Keys) -> None:
    first, _ = _challenge(engine, request_id, keys)
    _challenge(engine, request_id, keys)
    with store.transaction(engine) as session, pytest.raises(VerificationError, match="used"):
        verification.verify_token(session, first.token, now=NOW)
