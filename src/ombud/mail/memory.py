"""A transport that keeps mail in memory: the seam for other packages' tests.

Pass a :class:`MemoryTransport` where a :class:`~ombud.mail.MailTransport` is
taken and read what was sent from ``sent``, the same messages the SMTP and
outbox transports would have sent (httpx's ``MockTransport`` habit: a fake
through a public seam, never ``mock.patch``).
"""

from __future__ import annotations

from email.message import EmailMessage

from ombud.mail.message import Mail, build_message, message_id_of


class MemoryTransport:
    """A :class:`~ombud.mail.MailTransport` that appends each built message to ``sent``."""

    def __init__(self, *, default_sender: str | None = "no-reply@localhost") -> None:
        self.default_sender = default_sender
        self.sent: list[EmailMessage] = []

    def __repr__(self) -> str:
        return f"MemoryTransport({len(self.sent)} sent)"

    def send(self, mail: Mail) -> str:
        """Build ``mail`` exactly as the other transports do, keep it, return its Message-ID."""
        message = build_message(mail, default_sender=self.default_sender)
        self.sent.append(message)
        return message_id_of(message)
