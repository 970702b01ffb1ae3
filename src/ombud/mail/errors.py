"""Errors of the mail layer.

::

    MailError
     ├── MailConfigError (ValueError)     OMBUD_MAIL_URL cannot be used as given
     ├── InvalidMailError (ValueError)    the Mail cannot be turned into a message
     └── MailDeliveryError                the message was not handed over
          ├── TransientMailError          4xx replies or connection trouble, retried until given up
          └── PermanentMailError          5xx replies, TLS or login refused: never retried

No message of these errors holds a recipient's address (personal data, which
must not reach logs) or a password; they name the recipient's domain at most.
"""

from __future__ import annotations


class MailError(Exception):
    """Base class of every error the mail layer raises."""


class MailConfigError(MailError, ValueError):
    """The mail URL is malformed or asks for something unsupported; nothing was sent."""


class InvalidMailError(MailError, ValueError):
    """The :class:`~ombud.mail.Mail` is not a valid message (bad address, header, language)."""


class MailDeliveryError(MailError):
    """The transport could not hand the message over.

    ``message_id`` is the Message-ID the mail carried, ``smtp_code`` the SMTP
    server's last reply code if it gave one, and ``attempts`` how many times
    the transport tried.
    """

    def __init__(
        self, message: str, *, message_id: str, smtp_code: int | None = None, attempts: int = 1
    ) -> None:
        super().__init__(message)
        self.message_id = message_id
        self.smtp_code = smtp_code
        self.attempts = attempts


class TransientMailError(MailDeliveryError):
    """Every attempt failed for a reason that may pass (4xx, refused or dropped connection)."""


class PermanentMailError(MailDeliveryError):
    """The server or the setup refuses this message for good (5xx, TLS, login); not retried."""
