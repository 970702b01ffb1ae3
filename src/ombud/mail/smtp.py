"""Sending through an SMTP server (smtp:// and smtps:// in OMBUD_MAIL_URL).

One connection per mail: mail here is a trickle (verification codes,
confirmations, answers), and a fresh connection never inherits a broken one.
Transient failures (4xx replies, refused, dropped or timed-out connections)
are retried with exponential backoff; permanent ones (5xx, TLS, login) are
not. Logs and errors name the Message-ID and the recipient's domain, never
the address, and never the password.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from email.headerregistry import AddressHeader
from email.message import EmailMessage
from typing import Literal, NamedTuple, cast

from ombud.mail.errors import PermanentMailError, TransientMailError
from ombud.mail.message import Mail, build_message, message_id_of, recipient_domain

logger = logging.getLogger(__name__)

#: How the connection is encrypted.
#:
#: ``implicit``: TLS from the first byte (smtps://, usually port 465).
#: ``starttls``: STARTTLS, and fail if the server does not offer it.
#: ``opportunistic``: STARTTLS when offered, else plain; a password is then
#: sent only to a loopback address.
#: ``none``: never STARTTLS, even when offered (a local relay with a broken certificate).
TlsMode = Literal["implicit", "starttls", "opportunistic", "none"]

#: The longest wait between two attempts, in seconds.
MAX_BACKOFF = 300.0


class SmtpTransport:
    """A :class:`~ombud.mail.MailTransport` that hands mail to an SMTP server.

    ``username``/``password`` log in (AUTH) after STARTTLS. ``default_sender``
    is the From address of mails without ``sender``. ``timeout`` bounds each
    network operation in seconds. A transient failure is retried ``retries``
    times, waiting ``backoff``, then twice as long each time (at most
    :data:`MAX_BACKOFF`), through ``sleep``. ``ssl_context`` verifies the
    server's certificate; by default against the system's trusted CAs.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: TlsMode = "opportunistic",
        username: str | None = None,
        password: str | None = None,
        default_sender: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 1.0,
        ssl_context: ssl.SSLContext | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("SmtpTransport needs both username and password, or neither")
        if retries < 0 or timeout <= 0 or backoff < 0:
            raise ValueError("SmtpTransport needs retries >= 0, timeout > 0 and backoff >= 0")
        self.host = host
        self.port = port
        self.tls: TlsMode = tls
        self.username = username
        self._password = password
        self.default_sender = default_sender
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._sleep = sleep

    def __str__(self) -> str:
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def __repr__(self) -> str:
        user = "" if self.username is None else f", username={self.username!r}, password='***'"
        return f"SmtpTransport({str(self)!r}, tls={self.tls!r}{user})"

    def send(self, mail: Mail) -> str:
        """Hand ``mail`` to the server and return its Message-ID.

        Raises :class:`~ombud.mail.PermanentMailError` at once on a permanent
        failure, :class:`~ombud.mail.TransientMailError` when every attempt
        failed transiently, and :class:`~ombud.mail.InvalidMailError` when the
        mail has no sender.
        """
        message = build_message(mail, default_sender=self.default_sender)
        message_id = message_id_of(message)
        domain = recipient_domain(mail)
        sender = _envelope_address(message, "From")
        recipient = _envelope_address(message, "To")
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                self._deliver(message, sender, recipient)
            except (smtplib.SMTPException, OSError, _SetupRefusedError) as exc:
                failure = _classify(exc, recipient)
                if failure.permanent or attempt == attempts:
                    raise self._error(failure, message_id, domain, attempt) from None
                delay = min(self.backoff * 2 ** (attempt - 1), MAX_BACKOFF)
                logger.warning(
                    "mail %s to a recipient at %s: attempt %d of %d via %s failed: %s; "
                    "trying again in %.1f s",
                    message_id,
                    domain,
                    attempt,
                    attempts,
                    self,
                    failure.reason,
                    delay,
                )
                self._sleep(delay)
            else:
                logger.info(
                    "mail %s sent to a recipient at %s via %s (attempt %d)",
                    message_id,
                    domain,
                    self,
                    attempt,
                )
                return message_id
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _error(
        self, failure: _Failure, message_id: str, domain: str, attempts: int
    ) -> PermanentMailError | TransientMailError:
        text = f"mail {message_id} to a recipient at {domain} was not sent via {self}: "
        if failure.permanent:
            logger.error("%s%s (permanent; not retried)", text, failure.reason)
            return PermanentMailError(
                f"{text}{failure.reason} (permanent; not retried)",
                message_id=message_id,
                smtp_code=failure.code,
                attempts=attempts,
            )
        logger.error("%s%s (gave up after %d attempts)", text, failure.reason, attempts)
        return TransientMailError(
            f"{text}{failure.reason} (gave up after {attempts} attempts)",
            message_id=message_id,
            smtp_code=failure.code,
            attempts=attempts,
        )

    def _deliver(self, message: EmailMessage, sender: str, recipient: str) -> None:
        client = self._connect()
        try:
            client.ehlo_or_helo_if_needed()
            encrypted = self.tls == "implicit" or self._starttls(client)
            if self.username is not None and self._password is not None:
                if not encrypted and self.tls != "none" and not _is_loopback(self.host):
                    raise _SetupRefusedError(
                        "the server does not offer STARTTLS, and the password is not sent "
                        "unencrypted; use smtps://, or a server that offers STARTTLS "
                        "(?starttls=never in OMBUD_MAIL_URL sends it in clear text on purpose)"
                    )
                _login(client, self.username, self._password)
            client.send_message(message, from_addr=sender, to_addrs=[recipient])
        finally:
            _close(client)

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "implicit":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._ssl_context
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _starttls(self, client: smtplib.SMTP) -> bool:
        """Upgrade to TLS as ``tls`` asks; whether the connection is now encrypted."""
        if self.tls != "none" and client.has_extn("starttls"):
            client.starttls(context=self._ssl_context)
            client.ehlo()
            return True
        if self.tls == "starttls":
            raise _SetupRefusedError(
                "the server does not offer STARTTLS, which ?starttls=required in "
                "OMBUD_MAIL_URL asks for; use smtps:// if the server speaks TLS at once, "
                "or check the host and port"
            )
        return False


class _SetupRefusedError(Exception):
    """The connection cannot be used as configured; permanent."""


class _Failure(NamedTuple):
    permanent: bool
    code: int | None
    reason: str


def _classify(exc: BaseException, recipient: str) -> _Failure:  # noqa: PLR0911 - one case a line
    """Whether ``exc`` is worth retrying, its SMTP code, and a reason free of the address."""
    if isinstance(exc, _SetupRefusedError):
        return _Failure(permanent=True, code=None, reason=str(exc))
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (550, b""))
        return _reply_failure(code, reply, recipient, "the server refused the recipient")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _reply_failure(
            exc.smtp_code,
            exc.smtp_error,
            recipient,
            "the server refused the user name or password in OMBUD_MAIL_URL",
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply_failure(exc.smtp_code, exc.smtp_error, recipient, "the server answered")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return _Failure(permanent=False, code=None, reason="the server closed the connection")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return _Failure(permanent=True, code=None, reason=f"the server lacks a feature: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _Failure(
            permanent=True,
            code=None,
            reason=f"the server's TLS certificate was not accepted ({exc.verify_message})",
        )
    if isinstance(exc, ssl.SSLError):
        return _Failure(
            permanent=True,
            code=None,
            reason=f"TLS failed ({exc.reason}); smtps:// needs a port that speaks TLS at "
            "once (usually 465), smtp:// one that speaks plain SMTP (25 or 587)",
        )
    if isinstance(exc, OSError):
        detail = exc.strerror or str(exc) or type(exc).__name__
        return _Failure(permanent=False, code=None, reason=f"no connection to the server: {detail}")
    return _Failure(permanent=True, code=None, reason=_redact(str(exc), recipient))


def _reply_failure(code: int, reply: bytes | str, recipient: str, what: str) -> _Failure:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    text = _redact(" ".join(text.split()), recipient)[:300]
    return _Failure(permanent=not 400 <= code < 500, code=code, reason=f"{what}: {code} {text}")


def _redact(text: str, recipient: str) -> str:
    """``text`` with the recipient's address replaced: servers often quote it."""
    lower = text.lower()
    needle = recipient.lower()
    out: list[str] = []
    start = 0
    while (found := lower.find(needle, start)) != -1:
        out.append(text[start:found] + "[recipient]")
        start = found + len(needle)
    out.append(text[start:])
    return "".join(out)


def _envelope_address(message: EmailMessage, name: str) -> str:
    return cast(AddressHeader, message[name]).addresses[0].addr_spec


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    if username.isascii() and password.isascii():
        client.login(username, password)
        return
    # smtplib encodes credentials as ASCII; AUTH PLAIN is UTF-8 (RFC 4616), so send it directly.
    if not client.has_extn("auth") or "PLAIN" not in client.esmtp_features["auth"].upper().split():
        raise _SetupRefusedError(
            "the user name or password has non-ASCII characters, which need AUTH PLAIN, "
            "and the server does not offer it"
        )
    token = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
    code, reply = client.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
