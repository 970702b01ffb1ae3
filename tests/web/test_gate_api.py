"""`POST /api/v1/processing/check` as an integrator calls it: with a key, over HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Set

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ombud import store
from ombud.discovery import normalise
from ombud.gate import MAX_SUBJECTS, ConsentState, ConsentValue
from ombud.rights.models import Suppression
from ombud.store.apikeys import Scope, create_key, revoke_key
from ombud.store.crypto import Keys
from ombud.web.gate import consent_source

PATH = "/api/v1/processing/check"
NOW = dt.datetime.now(dt.UTC)
BODY = {
    "activities": ["direct-marketing", "customer-service"],
    "subjects": [
        {"email": "anna@example.se"},
        {"personnummer": "811218-9876", "phone": "070-123 45 67"},
    ],
}


def new_key(client: TestClient, *scopes: Scope) -> tuple[int, str]:
    with store.transaction(client.app.state.engine) as session:  # type: ignore[attr-defined]
        created = create_key(session, name="crm", scopes=list(scopes), actor="test", now=NOW)
    return created.row.id, created.key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def key(client: TestClient) -> str:
    return new_key(client, Scope.PROCESSING_CHECK)[1]


def test_without_a_key_it_is_401_with_a_challenge(client: TestClient) -> None:
    response = client.post(PATH, json=BODY)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="ombud"'
    assert "ombud apikey add" in response.json()["detail"]
    # The key is checked before the body: a stranger learns nothing from validation.
    assert client.post(PATH, json={"activities": ["cold-calling"]}).status_code == 401


@pytest.mark.parametrize("revoked", [False, True], ids=["unknown", "revoked"])
def test_an_unknown_or_revoked_key_is_401(client: TestClient, revoked: bool) -> None:
    key_id, key = new_key(client, Scope.PROCESSING_CHECK)
    if revoked:
        with store.transaction(client.app.state.engine) as session:  # type: ignore[attr-defined]
            revoke_key(session, key_id, actor="test", now=NOW)
    else:
        key = key[:-4] + "AAAA"
    response = client.post(PATH, json=BODY, headers=bearer(key))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_key_without_the_scope_is_403(client: TestClient) -> None:
    _, key = new_key(client, Scope.REQUESTS_READ, Scope.CONSENT_READ)
    response = client.post(PATH, json=BODY, headers=bearer(key))
    assert response.status_code == 403
    assert 'scope="processing:check"' in response.headers["www-authenticate"]
    assert "--scope processing:check" in response.json()["detail"]


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_the_right_scope_answers_by_index_without_echoing_subjects(
    client: TestClient, key: str, header: str
) -> None:
    headers = bearer(key) if header == "bearer" else {"X-API-Key": key}
    response = client.post(PATH, json=BODY, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    answer = response.json()
    assert answer["register_version"] == client.get("/healthz").json()["register_version"]
    assert answer["results"] == [
        {"subject": 0, "activity": "direct-marketing", "allowed": True, "reasons": []},
        {"subject": 0, "activity": "customer-service", "allowed": True, "reasons": []},
        {"subject": 1, "activity": "direct-marketing", "allowed": True, "reasons": []},
        {"subject": 1, "activity": "customer-service", "allowed": True, "reasons": []},
    ]
    for value in ("anna", "811218", "123 45 67", "email", "phone"):
        assert value not in response.text


def test_an_objection_refuses_direct_marketing_for_that_person(
    client: TestClient, key: str
) -> None:
    keys: Keys = client.app.state.keys  # type: ignore[attr-defined]
    phone = normalise("phone", "+46701234567", today=NOW.date())
    with store.transaction(client.app.state.engine) as session:  # type: ignore[attr-defined]
        session.add(
            Suppression(
                digest=keys.identifier("phone", phone),
                kind="phone",
                reason="objection",
                activity="",
                created_at=NOW,
            )
        )
    body = {**BODY, "activities": ["telemarketing", "customer-service"]}
    results = client.post(PATH, json=body, headers=bearer(key)).json()["results"]
    assert [(r["subject"], r["activity"], r["reasons"]) for r in results if not r["allowed"]] == [
        (1, "telemarketing", ["suppressed"])
    ]


def test_consent_activities_say_no_consent_until_the_ledger_says_given(
    client: TestClient, key: str
) -> None:
    body = {"activities": ["newsletter"], "subjects": BODY["subjects"]}
    results = client.post(PATH, json=body, headers=bearer(key)).json()["results"]
    assert [r["reasons"] for r in results] == [["no_consent"], ["no_consent"]]

    class EveryoneConsented:
        def load(
            self,
            session: Session,  # noqa: ARG002 - the ConsentSource signature
            digests: Set[str],  # noqa: ARG002
            purposes: Set[str],  # noqa: ARG002
            *,
            now: dt.datetime,  # noqa: ARG002
        ) -> ConsentState:
            return self

        def state(self, digests: set[str], purpose: str) -> ConsentValue:  # noqa: ARG002
            return "given"

    client.app.dependency_overrides[consent_source] = EveryoneConsented  # type: ignore[attr-defined]
    results = client.post(PATH, json=body, headers=bearer(key)).json()["results"]
    assert [r["allowed"] for r in results] == [True, True]


@pytest.mark.parametrize(
    ("subject", "field", "value"),
    [
        ({"email": "anna.example.se"}, "email", "anna.example"),
        ({"personnummer": "811218-9875"}, "personnummer", "9875"),
        ({"phone": "0701 SECRET"}, "phone", "SECRET"),
        ({"shoesize": "43-secret"}, "shoesize", "43-secret"),
    ],
)
def test_a_malformed_identifier_is_422_naming_index_and_field_not_the_value(
    client: TestClient, key: str, subject: dict[str, str], field: str, value: str
) -> None:
    body = {"activities": ["customer-service"], "subjects": [{"email": "a@example.se"}, subject]}
    response = client.post(PATH, json=body, headers=bearer(key))
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "subjects", 1, field]
    assert error["type"] == "invalid_identifier"
    assert value not in response.text
    assert "a@example.se" not in response.text


@pytest.mark.parametrize(
    "subjects",
    [
        [{"email": 46701234567}],
        [{"email": ["anna@example.se"]}],
        [{"E-mail": "anna@example.se"}],
        [{"anna@example.se": "email"}],
        [{"email": "anna@example.se" + "x" * 400}],
    ],
    ids=["number", "list", "bad-kind", "value-as-kind", "too-long"],
)
def test_a_body_of_the_wrong_shape_is_422_without_the_input(
    client: TestClient, key: str, subjects: list[dict[str, object]]
) -> None:
    body = {"activities": ["customer-service"], "subjects": subjects}
    response = client.post(PATH, json=body, headers=bearer(key))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:3] == ["body", "subjects", 0]
    for value in ("46701234567", "anna@example", "xxxx"):
        assert value not in response.text
    assert "input" not in response.json()["detail"][0]


def test_an_unknown_activity_is_422(client: TestClient, key: str) -> None:
    body = {"activities": ["customer-service", "cold-calling"], "subjects": BODY["subjects"]}
    response = client.post(PATH, json=body, headers=bearer(key))
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "activities", 1]
    assert error["type"] == "unknown_activity"
    assert "direct-marketing" in error["msg"]


def test_more_than_ten_thousand_subjects_is_422_with_a_clear_message(
    client: TestClient, key: str
) -> None:
    body = {
        "activities": ["customer-service"],
        "subjects": [{"customer_id": str(i)} for i in range(MAX_SUBJECTS + 1)],
    }
    response = client.post(PATH, json=body, headers=bearer(key))
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "subjects"]
    assert error["msg"] == "at most 10000 subjects per call; split the batch"


def test_ten_thousand_subjects_over_http(client: TestClient, key: str) -> None:
    # Its speed is measured in bench/gate_check.py, not asserted here (a loaded CI machine).
    body = {
        "activities": ["direct-marketing", "customer-service", "newsletter"],
        "subjects": [{"email": f"person{i}@example.se"} for i in range(MAX_SUBJECTS)],
    }
    response = client.post(PATH, json=body, headers=bearer(key))
    assert response.status_code == 200
    assert len(response.json()["results"]) == 30_000


def test_the_route_and_its_key_schemes_are_in_the_openapi_description(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert PATH in document["paths"]
    assert {"HTTPBearer", "APIKeyHeader"} <= set(document["components"]["securitySchemes"])
