"""A real SMTP server (aiosmtpd) on 127.0.0.1 for tests that send mail."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


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


@contextmanager
def running_smtp() -> Iterator[Inbox]:
    """A real SMTP server on a free port of 127.0.0.1, for as long as the block runs."""
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
