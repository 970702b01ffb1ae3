import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi.testclient import TestClient

from ombud import store
from ombud.settings import Settings
from ombud.web import create_app

ALMI = Path(__file__).resolve().parents[2] / "examples" / "almi" / "ombud.yaml"


@pytest.fixture
def register_file(tmp_path: Path) -> Path:
    """A copy of the Almi register that a test may change."""
    path = tmp_path / "ombud.yaml"
    path.write_text(ALMI.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.fixture
def settings(tmp_path: Path, register_file: Path) -> Settings:
    url = f"sqlite:///{tmp_path / 'ombud.db'}"
    store.upgrade(url)
    return Settings(
        register_path=register_file,
        database_url=url,
        secret_key="test-secret-key-of-enough-length",
        # Mail never lands in the working directory; tests of mail use `smtp` below.
        mail_url=f"file:{tmp_path / 'outbox'}",
        # Requests run only where a test asks (test_request_flow.py runs them inline).
        worker="none",
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@dataclass
class Inbox:
    """What a real SMTP server (aiosmtpd) on 127.0.0.1 accepted, as parsed messages."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}?retries=0&timeout=5"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, _server: SMTP, _session: Session, envelope: Envelope
    ) -> str:
        assert isinstance(envelope.original_content, bytes)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(cast(EmailMessage, message))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    """A real SMTP server on a free port of 127.0.0.1 for the test."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    inbox = Inbox(port=port)
    controller = Controller(inbox, hostname=inbox.host, port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def mail_client(settings: Settings, smtp: Inbox) -> Iterator[TestClient]:
    """The app sending its mail (OMBUD_MAIL_URL) to the ``smtp`` server."""
    app = create_app(settings.model_copy(update={"mail_url": smtp.url}))
    with TestClient(app) as test_client:
        yield test_client
