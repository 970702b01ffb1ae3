"""`/api/v1/requests`: public creation with e-mail verification, keys for more."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from ombud import store
from ombud.audit import AuditEntry
from ombud.rights.models import DataRequest
from ombud.store.apikeys import Scope, create_key

Inbox = Any  # conftest.Inbox: the messages the ``smtp`` fixture's server accepted

PATH = "/api/v1/requests"
PERSONNUMMER = "19811218-9876"  # valid
BAD_PERSONNUMMER = "19811218-9875"  # wrong check digit


def engine_of(client: TestClient) -> Engine:
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    return engine


def new_key(client: TestClient, *scopes: Scope) -> tuple[int, str]:
    with store.transaction(engine_of(client)) as session:
        made = create_key(
            session, name="crm", scopes=list(scopes), actor="test", now=dt.datetime.now(dt.UTC)
        )
        return made.row.id, made.key


def count_requests(client: TestClient) -> int:
    with store.transaction(engine_of(client)) as session:
        return int(session.scalar(select(func.count()).select_from(DataRequest)) or 0)


def test_public_request_is_accepted_and_mailed(mail_client: TestClient, smtp: Inbox) -> None:
    response = mail_client.post(
        PATH,
        json={
            "type": "objection",
            "identifiers": {"email": "Anna@Example.se", "personnummer": PERSONNUMMER},
            "language": "en",
            "activities": ["telemarketing"],
            "details": "Please stop calling.",
        },
    )
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"id", "state", "due", "verification"}
    assert body["state"] == "received"
    assert body["verification"] == "email"
    assert dt.date.fromisoformat(body["due"]) > dt.datetime.now(dt.UTC).date()
    assert response.headers["location"] == f"{PATH}/{body['id']}"

    (mail,) = smtp.messages
    assert mail["To"] == "anna@example.se"
    assert body["id"] in mail["Subject"]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://[^/\s]+(/privacy/request/verify/\S+)", text)
    assert link is not None
    assert re.search(r"\b\d{6}\b", text)

    with store.transaction(engine_of(mail_client)) as session:
        stored = session.get(DataRequest, body["id"])
        assert stored is not None
        assert (stored.channel, stored.type, stored.activities) == (
            "api",
            "objection",
            ["telemarketing"],
        )
        actors = session.scalars(
            select(AuditEntry.actor).where(AuditEntry.object_id == f"request:{body['id']}")
        ).all()
        assert actors == ["subject"]

    # The link from the mail verifies the request, as the portal's does.
    assert mail_client.get(link.group(1)).status_code == 200
    with store.transaction(engine_of(mail_client)) as session:
        stored = session.get(DataRequest, body["id"])
        assert stored is not None
        assert stored.state == "verified"


@pytest.mark.parametrize(
    ("payload", "where", "says"),
    [
        (
            {
                "type": "access",
                "identifiers": {"email": "a@example.se", "personnummer": BAD_PERSONNUMMER},
            },
            ["body"],
            "not a valid personnummer",
        ),
        (
            {"type": "access", "identifiers": {"email": "not-an-address@"}},
            ["body"],
            "not a valid email",
        ),
        (
            {"type": "access", "identifiers": {"phone": "070-123 45 67"}},
            ["body", "identifiers", "email"],
            "an e-mail address is required",
        ),
        (
            {"type": "forget-me", "identifiers": {"email": "secret.person@example.se"}},
            ["body", "type"],
            "Input should be",
        ),
        (
            {"type": "access", "identifiers": {"email": 46701234567}},
            ["body", "identifiers", "email"],
            "valid string",
        ),
        (
            {"type": "access", "identifiers": {"email": "x@example.se"}, "shoe_size": 44},
            ["body", "shoe_size"],
            "Extra inputs",
        ),
        (
            {"type": "objection", "identifiers": {"email": "a@example.se"}, "activities": ["x"]},
            ["body"],
            "unknown activity 'x'",
        ),
        (
            {"type": "access", "identifiers": {"email": "a@example.se"}, "language": "de"},
            ["body"],
            "language 'de'",
        ),
    ],
)
def test_bad_input_is_422_without_echoing_identifiers(
    mail_client: TestClient, smtp: Inbox, payload: dict[str, Any], where: list[str], says: str
) -> None:
    response = mail_client.post(PATH, json=payload)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == where
    assert says in error["msg"]
    assert set(error) == {"loc", "msg", "type"}
    for value in payload["identifiers"].values():
        assert str(value) not in response.text
    assert count_requests(mail_client) == 0
    assert smtp.messages == []


def test_malformed_json_is_422(mail_client: TestClient) -> None:
    response = mail_client.post(
        PATH,
        content=b'{"type": "access", "identifiers": {"email": "leak@example.se"',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "leak@example.se" not in response.text


def test_public_requests_are_limited_per_client(mail_client: TestClient, smtp: Inbox) -> None:
    payload = {"type": "access", "identifiers": {"email": "a@example.se"}}
    for _ in range(5):
        assert mail_client.post(PATH, json=payload).status_code == 202
    limited = mail_client.post(PATH, json=payload)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    # The portal shares the budget: one address, one allowance.
    form = mail_client.get("/privacy/request?lang=en").text
    token = re.search(r'name="form_token" value="([^"]+)"', form)
    assert token is not None
    portal = mail_client.post(
        "/privacy/request?lang=en",
        data={"form_token": token.group(1), "type": "access", "email": "a@example.se"},
    )
    assert portal.status_code == 429
    assert len(smtp.messages) == 5


def test_reading_needs_a_key_with_requests_read(mail_client: TestClient, smtp: Inbox) -> None:
    created = mail_client.post(
        PATH, json={"type": "access", "identifiers": {"email": "a@example.se"}}
    ).json()
    url = f"{PATH}/{created['id']}"

    anonymous = mail_client.get(url)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert mail_client.get(url, headers={"X-API-Key": "omb_nonsense"}).status_code == 401

    _, writer = new_key(mail_client, Scope.REQUESTS_WRITE)
    assert mail_client.get(url, headers={"X-API-Key": writer}).status_code == 403

    _, reader = new_key(mail_client, Scope.REQUESTS_READ)
    response = mail_client.get(url, headers={"Authorization": f"Bearer {reader}"})
    assert response.status_code == 200
    summary = response.json()
    assert summary["id"] == created["id"]
    assert summary["state"] == "received"
    assert summary["identifier_kinds"] == ["email"]
    assert summary["due"] == created["due"]
    assert "a@example.se" not in response.text
    assert isinstance(summary["days_left"], int)

    missing = mail_client.get(f"{PATH}/RXXXXXXXXX", headers={"X-API-Key": reader})
    assert missing.status_code == 404


def test_a_key_holder_may_vouch_for_identity(mail_client: TestClient, smtp: Inbox) -> None:
    key_id, writer = new_key(mail_client, Scope.REQUESTS_WRITE)
    response = mail_client.post(
        PATH,
        json={
            "type": "erasure",
            "identifiers": {"customer_id": "K-1042"},
            "verified": {"note": "logged in to the customer portal with BankID"},
        },
        headers={"Authorization": f"Bearer {writer}"},
    )
    assert response.status_code == 202
    body = response.json()
    assert (body["state"], body["verification"]) == ("verified", "handler")
    assert smtp.messages == []  # nothing to verify by mail
    with store.transaction(engine_of(mail_client)) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.object_id == f"request:{body['id']}")
        ).all()
        assert [(e.actor, e.action) for e in entries] == [
            (f"apikey:{key_id}", "request.received"),
            (f"apikey:{key_id}", "request.verified"),
        ]
        stored = session.get(DataRequest, body["id"])
        assert stored is not None
        assert stored.verification_note is not None
        assert b"BankID" not in stored.verification_note  # encrypted


def test_vouching_needs_a_key_with_requests_write(mail_client: TestClient, smtp: Inbox) -> None:
    payload = {
        "type": "access",
        "identifiers": {"email": "a@example.se"},
        "verified": {"note": "trust me"},
    }
    assert mail_client.post(PATH, json=payload).status_code == 401
    _, reader = new_key(mail_client, Scope.REQUESTS_READ)
    assert mail_client.post(PATH, json=payload, headers={"X-API-Key": reader}).status_code == 403
    assert mail_client.post(PATH, json=payload, headers={"X-API-Key": "omb_x"}).status_code == 401
    assert count_requests(mail_client) == 0
    assert smtp.messages == []


def test_openapi_documents_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"post"} <= set(paths[PATH])
    assert {"get"} <= set(paths[f"{PATH}/{{request_id}}"])
    assert {"get", "post"} <= set(paths["/privacy/request"])
