"""A person's whole access request through the portal, on the demo systems.

Form, verification mail from a real SMTP server, the inline worker running the
request in every demo system, the answer mail, the single-use download.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_portal import form_token, mail_parts, request_id

from ombud import store
from ombud.demo import build_demo
from ombud.rights.intake import get_request
from ombud.rights.models import RequestState
from ombud.settings import Settings
from ombud.web import create_app
from smtp_server import Inbox


@pytest.fixture
def demo_client(tmp_path: Path, smtp: Inbox) -> Iterator[tuple[TestClient, dict[str, object]]]:
    directory = tmp_path / "demo"
    register = build_demo(directory, size=60, seed=5)
    manifest = json.loads((directory / "demo.json").read_text(encoding="utf-8"))
    url = f"sqlite:///{tmp_path / 'ombud.db'}"
    store.upgrade(url)
    settings = Settings(
        register_path=register,
        database_url=url,
        secret_key="flow test secret key, long enough",
        mail_url=smtp.url,
        base_url="http://testserver",
        worker="inline",
    )
    with TestClient(create_app(settings)) as client:
        yield client, manifest


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _wait_for(smtp: Inbox, count: int) -> None:
    deadline = time.monotonic() + 60
    while len(smtp.messages) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(smtp.messages) >= count, "the answer mail never came"


def test_access_request_from_form_to_download(
    demo_client: tuple[TestClient, dict[str, object]], smtp: Inbox
) -> None:
    client, manifest = demo_client
    edge = manifest["edge_cases"]
    assert isinstance(edge, dict)
    person = edge["everywhere"]
    sent = client.post(
        "/privacy/request?lang=en",
        data={
            "form_token": form_token(client),
            "type": "access",
            "email": person["email"],
            "language": "en",
        },
    )
    assert sent.status_code == 200
    case = request_id(sent.text)

    _wait_for(smtp, 1)
    link, _ = mail_parts(smtp.messages[0])
    assert client.get(link).status_code == 200

    _wait_for(smtp, 2)
    answer = smtp.messages[1]
    assert case in str(answer["Subject"])
    path = re.search(r"https?://[^/\s]+(/privacy/request/answer/\S+)", _body(answer))
    assert path is not None
    with store.transaction(client.app.state.engine) as session:  # type: ignore[attr-defined]
        assert get_request(session, case).state == RequestState.COMPLETED

    # Opening the link (a mail scanner, say) does not use it up; the button does.
    page = client.get(path.group(1))
    assert page.status_code == 200
    assert "Download the answer" in page.text
    download = client.post(path.group(1))
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    html = archive.read("registerutdrag.html").decode()
    assert person["email"] in html
    assert client.post(path.group(1)).status_code == 404
