"""Outgoing mail: verification codes, opt-in confirmations, notices and answers.

Build a :class:`Mail`, get the transport that OMBUD_MAIL_URL names with
:func:`transport_from_settings` (or :func:`transport_from_url`) and call its
``send``. Backends implement :class:`MailTransport`: :class:`SmtpTransport`
(smtp://, smtps://), :class:`OutboxTransport` (file:, the default) and
:class:`MemoryTransport` for tests. Errors are drawn in :mod:`ombud.mail.errors`.
The URL format and logging rules are in docs/mail.md.
"""

from ombud.mail.errors import (
    InvalidMailError,
    MailConfigError,
    MailDeliveryError,
    MailError,
    PermanentMailError,
    TransientMailError,
)
from ombud.mail.memory import MemoryTransport
from ombud.mail.message import Mail, build_message, message_bytes, one_click_unsubscribe
from ombud.mail.outbox import OutboxTransport
from ombud.mail.smtp import SmtpTransport, TlsMode
from ombud.mail.transports import (
    MailTransport,
    default_sender,
    redact_url,
    transport_from_settings,
    transport_from_url,
)

__all__ = [
    "InvalidMailError",
    "Mail",
    "MailConfigError",
    "MailDeliveryError",
    "MailError",
    "MailTransport",
    "MemoryTransport",
    "OutboxTransport",
    "PermanentMailError",
    "SmtpTransport",
    "TlsMode",
    "TransientMailError",
    "build_message",
    "default_sender",
    "message_bytes",
    "one_click_unsubscribe",
    "redact_url",
    "transport_from_settings",
    "transport_from_url",
]
