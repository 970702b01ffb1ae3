"""Extension and refusal (Art. 12(3)-(4)): only with reasons, in time, and the person told."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from ombud import store
from ombud.audit import AuditEntry
from ombud.mail import transport_from_url
from ombud.register.model import Register
from ombud.rights import decisions
from ombud.rights.errors import InvalidRequestError, RequestStateError
from ombud.rights.intake import NewRequest, create_request, get_request
from ombud.rights.models import Channel, RequestState
from ombud.store.crypto import Keys
from smtp_server import Inbox

RECEIVED = dt.datetime(2025, 11, 6, 9, tzinfo=dt.UTC)  # due Monday 2025-12-08


@pytest.fixture
def request_id(engine: Engine, almi: Register, keys: Keys) -> str:
    with store.transaction(engine) as session:
        return create_request(
            session,
            NewRequest(
                type="access",
                identifiers=[("email", "karin@example.se")],
                channel=Channel.PORTAL,
                language="sv",
            ),
            register=almi,
            register_version="e" * 64,
            keys=keys,
            actor="subject",
            now=RECEIVED,
        ).id


def _body(inbox: Inbox) -> str:
    (message,) = inbox.messages
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_extension_within_the_first_month_tells_the_person(
    engine: Engine, request_id: str, keys: Keys, smtp: Inbox
) -> None:
    mail = transport_from_url(smtp.url, default_sender="dpo@almi.example")
    with store.transaction(engine) as session:
        request = get_request(session, request_id)
        due = decisions.extend(
            session,
            request,
            reason="Ärendet omfattar många system",
            actor="user:dpo",
            now=dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
            keys=keys,
            mail=mail,
        )
    # Three months from receipt: 2026-02-06 is a Friday.
    assert due == dt.date(2026, 2, 6)
    with store.transaction(engine) as session:
        request = get_request(session, request_id)
        assert request.due == due
        assert request.due_on == dt.date(2025, 12, 8)
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "request.extended" in actions
    body = _body(smtp)
    assert "Ärendet omfattar många system" in body
    assert "2026-02-06" in body
    assert smtp.messages[0]["To"] == "karin@example.se"


@pytest.mark.parametrize(
    ("reason", "now", "error", "message"),
    [
        ("", dt.datetime(2025, 11, 10, tzinfo=dt.UTC), InvalidRequestError, "needs a reason"),
        (
            "Complex",
            dt.datetime(2025, 12, 9, tzinfo=dt.UTC),
            RequestStateError,
            "before the original due date",
        ),
    ],
)
def test_extension_needs_a_reason_and_time(
    engine: Engine,
    request_id: str,
    keys: Keys,
    reason: str,
    now: dt.datetime,
    error: type[Exception],
    message: str,
) -> None:
    with store.transaction(engine) as session, pytest.raises(error, match=message):
        decisions.extend(
            session,
            get_request(session, request_id),
            reason=reason,
            actor="user:dpo",
            now=now,
            keys=keys,
            mail=None,
        )
    with store.transaction(engine) as session:
        assert get_request(session, request_id).extended_due_on is None


def test_only_one_extension(engine: Engine, request_id: str, keys: Keys) -> None:
    now = dt.datetime(2025, 11, 20, tzinfo=dt.UTC)
    with store.transaction(engine) as session:
        decisions.extend(
            session,
            get_request(session, request_id),
            reason="Many requests",
            actor="user:dpo",
            now=now,
            keys=keys,
            mail=None,
        )
    with store.transaction(engine) as session, pytest.raises(RequestStateError, match="already"):
        decisions.extend(
            session,
            get_request(session, request_id),
            reason="Again",
            actor="user:dpo",
            now=now,
            keys=keys,
            mail=None,
        )


def test_refusal_gives_reasons_and_the_right_to_complain(
    engine: Engine, request_id: str, keys: Keys, almi: Register, smtp: Inbox
) -> None:
    with store.transaction(engine) as session:
        decisions.refuse(
            session,
            get_request(session, request_id),
            reason="Begäran är uppenbart ogrundad",
            register=almi,
            actor="user:dpo",
            now=dt.datetime(2025, 11, 20, tzinfo=dt.UTC),
            keys=keys,
            mail=transport_from_url(smtp.url, default_sender="dpo@almi.example"),
        )
    with store.transaction(engine) as session:
        request = get_request(session, request_id)
        assert request.state == RequestState.REFUSED
        assert request.refusal_reason == "Begäran är uppenbart ogrundad"
    body = _body(smtp)
    assert "uppenbart ogrundad" in body
    assert "Integritetsskyddsmyndigheten" in body
    assert "imy@imy.se" in body
    assert "domstol" in body


def test_refusal_without_reasons_is_refused(
    engine: Engine, request_id: str, keys: Keys, almi: Register
) -> None:
    with store.transaction(engine) as session, pytest.raises(InvalidRequestError):
        decisions.refuse(
            session,
            get_request(session, request_id),
            reason=" ",
            register=almi,
            actor="user:dpo",
            now=RECEIVED,
            keys=keys,
            mail=None,
        )
