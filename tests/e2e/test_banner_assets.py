"""The banner script as served (cache headers, gzip, ETag), /.well-known/gpc.json, and
the gzipped size that docs/banner.md states."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from harness import ALMI, ROOT

from ombud import store
from ombud.settings import Settings
from ombud.web import create_app

SCRIPT = ROOT / "src" / "ombud" / "consent" / "static" / "banner.js"
DOCS = ROOT / "docs" / "banner.md"


@pytest.fixture
def register_file(tmp_path: Path) -> Path:
    path = tmp_path / "ombud.yaml"
    path.write_text(ALMI.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.fixture
def client(tmp_path: Path, register_file: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'ombud.db'}"
    store.upgrade(url)
    settings = Settings(
        register_path=register_file,
        database_url=url,
        secret_key="test-secret-key-of-enough-length",
        mail_url=f"file:{tmp_path / 'outbox'}",
        worker="none",
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_the_script_is_served_cacheable_with_an_etag(client: TestClient) -> None:
    response = client.get("/consent/banner.js", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "content-encoding" not in response.headers
    assert response.content == SCRIPT.read_bytes()
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    version = client.get("/healthz").json()["register_version"]
    assert response.headers["etag"].startswith(f'"{version[:16]}-')

    again = client.get("/consent/banner.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == response.headers["etag"]
    stale = client.get("/consent/banner.js", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


@pytest.mark.parametrize(
    ("accept_encoding", "gzipped"),
    [
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("identity", False),
    ],
)
def test_the_script_is_gzipped_for_browsers_that_take_it(
    client: TestClient, accept_encoding: str, gzipped: bool
) -> None:
    response = client.get("/consent/banner.js", headers={"Accept-Encoding": accept_encoding})
    assert (response.headers.get("content-encoding") == "gzip") is gzipped
    assert response.headers["vary"] == "Accept-Encoding"
    # The client undoes the gzip: either way the browser gets the same script.
    assert response.content == SCRIPT.read_bytes()


def test_a_register_change_changes_the_etag(client: TestClient, register_file: Path) -> None:
    before = client.get("/consent/banner.js").headers["etag"]
    text = register_file.read_text(encoding="utf-8")
    register_file.write_text(text.replace("dataskyddsombud@almi.se", "dpo@almi.se"), "utf-8")
    after = client.get("/consent/banner.js").headers["etag"]
    assert after != before
    assert before.split("-")[1] == after.split("-")[1]  # the script itself is the same


def test_gpc_json(client: TestClient) -> None:
    response = client.get("/.well-known/gpc.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    # lastUpdate: the register's notice.updated.
    assert response.json() == {"gpc": True, "lastUpdate": "2024-07-02"}


def test_docs_state_the_gzipped_size_within_ten_percent() -> None:
    stated = re.search(r"\*\*([\d,]+) bytes gzipped\*\*", DOCS.read_text(encoding="utf-8"))
    assert stated, "docs/banner.md does not state **N bytes gzipped**"
    real = len(gzip.compress(SCRIPT.read_bytes(), 9))
    documented = int(stated[1].replace(",", ""))
    assert abs(documented - real) <= real * 0.10, (
        f"docs/banner.md says {documented} bytes gzipped; banner.js is {real} now"
    )
    assert real < 8 * 1024, "banner.js grew past its 8 KiB gzipped budget"
