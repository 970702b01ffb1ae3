"""The consent routes as the banner and integrators call them, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ombud import consent, store
from ombud.consent import ConsentEvent, ConsentStateRow, ConsentText
from ombud.settings import Settings
from ombud.store.apikeys import Scope, create_key
from ombud.store.models import AuditEntry
from ombud.web import create_app
from ombud.web.consent_api import BANNER_EXTRA, MAX_BODY

EVENTS = "/api/v1/consent/events"
SITE = "https://www.almi.se"
OTHER_SITE = "https://evil.example"
OMBUD = "https://ombud.example"


@pytest.fixture
def app_settings(database_url: str, register_file: Path, tmp_path: Path) -> Settings:
    return Settings(
        register_path=register_file,
        database_url=database_url,
        secret_key="test-secret-key-of-enough-length",
        base_url=OMBUD,
        mail_url=f"file:{tmp_path / 'outbox'}",
        allowed_origins=[SITE, "https://almi.se/"],
        worker="none",
    )


@pytest.fixture
def web(app_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings)) as client:
        yield client


def banner(web: TestClient, lang: str = "sv") -> dict[str, Any]:
    response = web.get("/consent/banner.json", params={"lang": lang})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def choice(web: TestClient, visitor: str, choices: dict[str, bool], **extra: Any) -> dict[str, Any]:
    shown = banner(web, extra.get("language", "sv"))
    return {
        "visitor_id": visitor,
        "choices": choices,
        "method": "banner",
        "language": shown["language"],
        "register_version": shown["register_version"],
        "text_digest": shown["text_digest"],
        "gpc": False,
        **extra,
    }


def post(web: TestClient, body: Any, *, origin: str | None = SITE, **headers: str) -> Any:
    if origin is not None:
        headers["Origin"] = origin
    if isinstance(body, bytes | str):
        return web.post(EVENTS, content=body, headers=headers)
    return web.post(EVENTS, json=body, headers=headers)


def counts(web: TestClient) -> tuple[int, int, int]:
    """(events, state rows, consent audit entries)."""
    with store.transaction(web.app.state.engine) as session:  # type: ignore[attr-defined]
        events = session.scalar(select(func.count()).select_from(ConsentEvent))
        states = session.scalar(select(func.count()).select_from(ConsentStateRow))
        entries = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "consent.recorded")
        )
    return int(events or 0), int(states or 0), int(entries or 0)


def digest_of(web: TestClient, visitor: str) -> str:
    keys = web.app.state.keys  # type: ignore[attr-defined]
    return consent.subject_digest(keys, "visitor_id", visitor, now=dt.datetime.now(dt.UTC))


def states(web: TestClient, visitor: str) -> dict[str, str]:
    digest = digest_of(web, visitor)
    with store.transaction(web.app.state.engine) as session:  # type: ignore[attr-defined]
        found = consent.current(
            session, {digest}, {"statistics", "marketing"}, now=dt.datetime.now(dt.UTC)
        )
    return dict(found[digest])


# --- /consent/banner.json ----------------------------------------------------------------------


def test_banner_json_gives_the_texts_with_their_digest_and_stores_them_once(
    web: TestClient,
) -> None:
    first = banner(web, "en")
    again = banner(web, "en")
    assert first == again
    text = {k: v for k, v in first.items() if k not in BANNER_EXTRA}
    assert consent.digest(text) == first["text_digest"]
    assert text == consent.banner_text(web.app.state.register.current().register, "en")  # type: ignore[attr-defined]
    assert first["register_version"] == web.app.state.register.current().version  # type: ignore[attr-defined]
    assert first["gpc_purposes"] == ["marketing"]
    assert [c["id"] for c in first["categories"]] == ["necessary", "statistics", "marketing"]
    with store.transaction(web.app.state.engine) as session:  # type: ignore[attr-defined]
        stored = session.get(ConsentText, first["text_digest"])
        assert stored is not None
        assert stored.content == text
        assert session.scalar(select(func.count()).select_from(ConsentText)) == 1
    # The same choice whatever the language: one consent version for all of them.
    swedish = banner(web, "sv")
    assert swedish["consent_version"] == first["consent_version"]
    assert swedish["text_digest"] != first["text_digest"]


def test_banner_json_is_cacheable_and_readable_from_any_site(web: TestClient) -> None:
    response = web.get("/consent/banner.json", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert response.headers["content-language"] == "en"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "max-age" in response.headers["cache-control"]
    etag = response.headers["etag"]
    cached = web.get(
        "/consent/banner.json", headers={"Accept-Language": "en", "If-None-Match": etag}
    )
    assert cached.status_code == 304
    swedish = web.get("/consent/banner.json", params={"lang": "sv"})
    assert swedish.headers["etag"] != etag


# --- POST /api/v1/consent/events ---------------------------------------------------------------


def test_a_banner_choice_is_recorded_committed_and_answered_with_receipts(
    web: TestClient, database_url: str
) -> None:
    anna = str(uuid.uuid4())
    response = post(web, choice(web, anna, {"statistics": True, "marketing": False}))
    assert response.status_code == 201, response.text
    assert response.headers["access-control-allow-origin"] == SITE
    assert "Origin" in response.headers["vary"]
    body = response.json()
    assert sorted((r["purpose"], r["event"]) for r in body["receipts"]) == [
        ("marketing", "refused"),
        ("statistics", "given"),
    ]
    assert anna not in response.text
    # Committed before the answer: another connection sees it.
    other = store.make_engine(database_url)
    try:
        with store.transaction(other) as session:
            stored = session.scalars(
                select(ConsentEvent).where(ConsentEvent.choice_id == body["choice_id"])
            ).all()
    finally:
        other.dispose()
    assert {e.id for e in stored} == {r["receipt_id"] for r in body["receipts"]}
    assert {(e.method, e.user_agent_family, e.ip_truncated) for e in stored} == {
        ("banner", "Other", None)  # the test client's "testclient" is no address
    }
    assert states(web, anna) == {"statistics": "given", "marketing": "refused"}

    later = post(web, choice(web, anna, {"statistics": False, "marketing": True}))
    assert sorted((r["purpose"], r["event"]) for r in later.json()["receipts"]) == [
        ("marketing", "given"),
        ("statistics", "withdrawn"),
    ]
    assert states(web, anna) == {"statistics": "withdrawn", "marketing": "given"}
    assert counts(web) == (4, 2, 2)


def test_the_events_route_answers_with_the_security_headers_and_is_logged_by_route(
    web: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    # Served as plain ASGI ahead of FastAPI's routing (ConsentEvents), yet answered and
    # logged like every other route.
    caplog.set_level(logging.INFO, logger="ombud.http")
    anna = str(uuid.uuid4())
    response = post(web, choice(web, anna, {"statistics": True, "marketing": True}))
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    lines = [r.getMessage() for r in caplog.records if r.name == "ombud.http"]
    assert any(line.startswith(f"POST {EVENTS} 201 ") for line in lines), lines
    assert not any(anna in line or "testclient" in line for line in lines)


def test_a_request_without_an_origin_is_not_a_browsers_and_is_accepted(web: TestClient) -> None:
    anna = str(uuid.uuid4())
    response = post(web, choice(web, anna, {"statistics": True, "marketing": True}), origin=None)
    assert response.status_code == 201
    assert "access-control-allow-origin" not in response.headers


def test_the_banners_plain_text_beacon_is_accepted(web: TestClient) -> None:
    body = json.dumps(choice(web, str(uuid.uuid4()), {"statistics": True, "marketing": True}))
    response = post(web, body, **{"Content-Type": "text/plain;charset=UTF-8"})
    assert response.status_code == 201


def test_ombuds_own_origin_may_post(web: TestClient) -> None:
    body = choice(web, str(uuid.uuid4()), {"statistics": True, "marketing": True})
    assert post(web, body, origin=OMBUD).status_code == 201
    assert post(web, body, origin="https://almi.se").status_code == 201


def test_gpc_header_refuses_marketing_whatever_the_body_says(web: TestClient) -> None:
    anna = str(uuid.uuid4())
    body = choice(web, anna, {"statistics": True, "marketing": True})
    response = post(web, body, **{"Sec-GPC": "1"})
    assert response.status_code == 201
    assert response.json()["gpc"] is True
    assert sorted((r["purpose"], r["event"]) for r in response.json()["receipts"]) == [
        ("marketing", "refused"),
        ("statistics", "given"),
    ]
    with store.transaction(web.app.state.engine) as session:  # type: ignore[attr-defined]
        flags = set(
            session.scalars(
                select(ConsentEvent.gpc).where(
                    ConsentEvent.choice_id == response.json()["choice_id"]
                )
            )
        )
    assert flags == {True}


def test_gpc_in_the_body_does_the_same(web: TestClient) -> None:
    body = choice(web, str(uuid.uuid4()), {"statistics": False, "marketing": True}, gpc=True)
    receipts = post(web, body).json()["receipts"]
    assert {r["event"] for r in receipts} == {"refused"}


def test_a_foreign_origin_is_403_and_nothing_is_stored(web: TestClient) -> None:
    body = choice(web, str(uuid.uuid4()), {"statistics": True, "marketing": True})
    response = post(web, body, origin=OTHER_SITE)
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert "OMBUD_ALLOWED_ORIGINS" in response.text
    assert post(web, body, origin="null").status_code == 403
    assert counts(web) == (0, 0, 0)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_4_kib_is_413_and_nothing_is_stored(web: TestClient, chunked: bool) -> None:
    body = choice(web, str(uuid.uuid4()), {"statistics": True, "marketing": True})
    body["padding"] = "x" * MAX_BODY
    raw = json.dumps(body).encode()
    if chunked:
        response = web.post(
            EVENTS, content=iter([raw[:1000], raw[1000:]]), headers={"Origin": SITE}
        )
    else:
        response = post(web, raw)
    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == SITE
    assert counts(web) == (0, 0, 0)


UNKNOWN = "ab" * 32


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"visitor_id": "not-a-uuid"}, "visitor_id"),
        ({"visitor_id": 12345}, "visitor_id"),
        ({"choices": {"statistics": True, "ads": False}}, "choices"),
        ({"choices": {"statistics": "yes"}}, "choices"),
        ({"choices": {}}, "choices"),
        ({"choices": {"statistics": True}}, "choices"),  # the banner answers every category
        ({"choices": {"newsletter": True, "statistics": True, "marketing": True}}, "choices"),
        ({"method": "form"}, "method"),
        ({"register_version": UNKNOWN}, "register_version"),
        ({"register_version": "v1"}, "register_version"),
        ({"text_digest": UNKNOWN}, "text_digest"),
        ({"language": "en"}, "language"),  # the text shown was Swedish
        ({"gpc": "yes"}, "gpc"),
        ({"cookie": "v1.abc"}, "cookie"),
        ({"visitor_id": None}, "visitor_id"),
    ],
)
def test_a_bad_field_is_422_naming_it_and_nothing_is_stored(
    web: TestClient, change: dict[str, Any], field: str
) -> None:
    body = choice(web, str(uuid.uuid4()), {"statistics": True, "marketing": True})
    body.update(change)
    if change.get("visitor_id", "") is None:
        del body["visitor_id"]
    response = post(web, body)
    assert response.status_code == 422, response.text
    assert field in [error["loc"][-1] for error in response.json()["detail"]]
    assert "not-a-uuid" not in response.text
    assert response.headers["access-control-allow-origin"] == SITE
    assert counts(web) == (0, 0, 0)


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_a_body_that_is_no_json_object_is_422(web: TestClient, raw: bytes) -> None:
    response = post(web, raw)
    assert response.status_code == 422
    assert counts(web) == (0, 0, 0)


def test_a_text_of_another_register_version_is_accepted_when_both_were_served(
    web: TestClient, register_file: Path
) -> None:
    # A page cached before the register changed posts the old version and its text.
    body = choice(web, str(uuid.uuid4()), {"statistics": True, "marketing": True})
    register_file.write_text(
        register_file.read_text(encoding="utf-8").replace("renew_after: P12M", "renew_after: P6M"),
        encoding="utf-8",
    )
    assert banner(web)["register_version"] != body["register_version"]
    assert post(web, body).status_code == 201


# --- CORS preflight ----------------------------------------------------------------------------


def preflight(
    web: TestClient, origin: str, method: str = "POST", headers: str = "content-type"
) -> Any:
    return web.options(
        EVENTS,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_the_preflight_allows_an_allowed_origin(web: TestClient) -> None:
    response = preflight(web, SITE)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-allow-methods"] == "POST"
    assert response.headers["access-control-allow-headers"].lower() == "content-type"
    assert int(response.headers["access-control-max-age"]) > 0
    assert "Origin" in response.headers["vary"]


@pytest.mark.parametrize(
    ("origin", "method", "headers"),
    [
        (OTHER_SITE, "POST", "content-type"),
        ("https://www.almi.se.evil.example", "POST", "content-type"),
        (SITE, "DELETE", "content-type"),
        (SITE, "POST", "content-type, authorization"),
    ],
)
def test_the_preflight_denies_anything_else(
    web: TestClient, origin: str, method: str, headers: str
) -> None:
    response = preflight(web, origin, method, headers)
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


# --- the gate reads the ledger -----------------------------------------------------------------


def test_the_gate_answers_from_the_ledger_for_a_visitor_id(web: TestClient) -> None:
    with store.transaction(web.app.state.engine) as session:  # type: ignore[attr-defined]
        key = create_key(
            session,
            name="crm",
            scopes=[Scope.PROCESSING_CHECK],
            actor="test",
            now=dt.datetime.now(dt.UTC),
        ).key
    anna = str(uuid.uuid4())

    def check() -> dict[str, Any]:
        response = web.post(
            "/api/v1/processing/check",
            json={
                "activities": ["marketing-profiling", "website-analytics"],
                "subjects": [{"visitor_id": anna}],
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200, response.text
        return {r["activity"]: r["reasons"] for r in response.json()["results"]}

    assert check() == {"marketing-profiling": ["no_consent"], "website-analytics": ["no_consent"]}
    post(web, choice(web, anna, {"statistics": True, "marketing": True}))
    assert check() == {"marketing-profiling": [], "website-analytics": []}
    post(web, choice(web, anna, {"statistics": True, "marketing": False}))
    assert check() == {"marketing-profiling": ["withdrawn"], "website-analytics": []}


# --- receipts and statistics -------------------------------------------------------------------


def test_a_receipt_is_served_by_its_id_with_the_text_shown(web: TestClient) -> None:
    body = choice(web, str(uuid.uuid4()), {"statistics": True, "marketing": False})
    receipts = post(web, body).json()["receipts"]
    response = web.get(f"/api/v1/consent/receipts/{receipts[0]['receipt_id']}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    proof = response.json()
    assert proof["consentReceiptID"] == receipts[0]["receipt_id"]
    assert proof["notice"]["digest"] == body["text_digest"]
    assert consent.digest(proof["notice"]["content"]) == body["text_digest"]
    assert proof["policyUrl"].startswith(f"{OMBUD}/privacy/history/{body['register_version']}")
    missing = web.get(f"/api/v1/consent/receipts/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert web.get("/api/v1/consent/receipts/nonsense").status_code == 404


def test_statistics_need_a_key_with_consent_read(web: TestClient) -> None:
    post(web, choice(web, str(uuid.uuid4()), {"statistics": True, "marketing": False}))
    post(web, choice(web, str(uuid.uuid4()), {"statistics": False, "marketing": False}))
    assert web.get("/api/v1/consent/statistics").status_code == 401
    keys = {}
    with store.transaction(web.app.state.engine) as session:  # type: ignore[attr-defined]
        for scope in (Scope.PROCESSING_CHECK, Scope.CONSENT_READ):
            keys[scope] = create_key(
                session, name=scope.value, scopes=[scope], actor="test", now=dt.datetime.now(dt.UTC)
            ).key
    wrong = {"X-API-Key": keys[Scope.PROCESSING_CHECK]}
    assert web.get("/api/v1/consent/statistics", headers=wrong).status_code == 403
    right = {"X-API-Key": keys[Scope.CONSENT_READ]}
    response = web.get("/api/v1/consent/statistics", headers=right)
    assert response.status_code == 200
    today = dt.datetime.now(dt.UTC).date().isoformat()
    rows = {r["category"]: r for r in response.json()["days"]}
    assert rows["statistics"] == {
        "day": today,
        "category": "statistics",
        "shown": 2,
        "given": 1,
        "refused": 1,
        "withdrawn": 0,
        "gpc_share": 0.0,
        "reject_all_share": 0.5,
    }
    bad = web.get(
        "/api/v1/consent/statistics",
        params={"since": "2026-03-02", "until": "2026-03-01"},
        headers=right,
    )
    assert bad.status_code == 422
