import logging
import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ombud import audit, store
from ombud.audit import AuditEntry
from ombud.settings import Settings
from ombud.web import create_app


def test_notice_language_from_query_and_accept_language(client: TestClient) -> None:
    swedish = client.get("/privacy")
    assert swedish.status_code == 200
    assert swedish.headers["content-language"] == "sv"
    assert '<html lang="sv"' in swedish.text
    assert "Mäta kundnöjdhet" in swedish.text

    english = client.get("/privacy", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert english.headers["content-language"] == "en"
    assert '<html lang="en"' in english.text
    assert "accept-language" in english.headers["vary"].lower()

    forced = client.get("/privacy?lang=sv", headers={"Accept-Language": "en"})
    assert forced.headers["content-language"] == "sv"


def test_pdf_and_json(client: TestClient) -> None:
    pdf = client.get("/privacy.pdf?lang=en")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    document = client.get("/privacy.json?lang=en").json()
    assert "@context" in document
    assert "dpv:LegitimateInterest" in str(document)


def test_health_and_openapi(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok"
    assert re.fullmatch(r"[0-9a-f]{64}", health["register_version"])
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/privacy", "/privacy.pdf", "/privacy.json", "/privacy/history"} <= set(paths)


def test_security_headers(client: TestClient) -> None:
    response = client.get("/privacy")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_history_keeps_every_served_version(client: TestClient, register_file: Path) -> None:
    first = client.get("/healthz").json()["register_version"]

    text = register_file.read_text(encoding="utf-8")
    changed = text.replace("published: 2024-07-05", "published: 2024-07-06")
    assert changed != text
    register_file.write_text(changed, encoding="utf-8")
    stat = register_file.stat()
    os.utime(register_file, (stat.st_atime, stat.st_mtime + 5))

    second = client.get("/healthz").json()["register_version"]
    assert second != first

    history = client.get("/privacy/history?lang=en")
    assert history.status_code == 200
    assert first[:12] in history.text
    assert second[:12] in history.text
    assert history.text.index(second[:12]) < history.text.index(first[:12])

    old = client.get(f"/privacy/history/{first}?lang=sv")
    assert old.status_code == 200
    assert "2024-07-05" in old.text
    current = client.get("/privacy?lang=sv")
    assert "2024-07-06" in current.text

    missing = client.get("/privacy/history/" + "0" * 64 + "?lang=en")
    assert missing.status_code == 404
    # A stale link gets a page in the person's language, leading on to the versions there are.
    assert missing.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in missing.text
    assert "<title>No such version" in missing.text
    assert 'href="/privacy/history?lang=en"' in missing.text

    engine = client.app.state.engine  # type: ignore[attr-defined]
    with store.transaction(engine) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert audit.verify(session).ok
    served = [e.object_id for e in entries if e.action == "register.version_served"]
    assert served == [f"register:{first}", f"register:{second}"]


def test_broken_register_keeps_last_good_version(client: TestClient, register_file: Path) -> None:
    good = client.get("/healthz").json()["register_version"]
    register_file.write_text("version: 1\nlanguages: [sv\n", encoding="utf-8")
    stat = register_file.stat()
    os.utime(register_file, (stat.st_atime, stat.st_mtime + 5))
    assert client.get("/healthz").json()["register_version"] == good
    assert client.get("/privacy").status_code == 200


def test_secret_key_required_outside_demo(settings: Settings) -> None:
    without = settings.model_copy(update={"secret_key": None})
    with pytest.raises(ValueError, match="OMBUD_SECRET_KEY"):
        create_app(without)
    create_app(without.model_copy(update={"demo": True}))


def test_access_log_names_no_client_address_or_query(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="ombud.http"):
        client.get("/privacy/history/abc?lang=en&email=anna@example.se")
        client.get("/privacy?lang=sv")
    lines = [r.getMessage() for r in caplog.records if r.name == "ombud.http"]
    assert lines[0].startswith("GET /privacy/history/{content_hash} 404")
    assert lines[1].startswith("GET /privacy 200")
    text = "\n".join(lines)
    assert "example.se" not in text
    assert "testclient" not in text
