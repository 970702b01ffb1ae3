"""The MailTransport interface, and the transport OMBUD_MAIL_URL names.

==============================================  =====================================
``file:./outbox``, ``file:/var/spool/ombud``    :class:`OutboxTransport` (.eml files)
``smtp://user:pass@host:587``                   :class:`SmtpTransport`, STARTTLS if offered
``smtp://user:pass@host:587?starttls=required`` STARTTLS or fail
``smtps://user:pass@host:465``                  TLS from the first byte
==============================================  =====================================

Query options: ``from`` (default sender), and for SMTP ``timeout`` (seconds),
``retries`` and ``starttls`` (``opportunistic``, ``required``, ``never``).
User name and password are percent-decoded. Errors show the URL with the
password replaced by ``***``.
"""

from __future__ import annotations

import ipaddress
import ssl
from typing import TYPE_CHECKING, Protocol, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from ombud.mail.errors import InvalidMailError, MailConfigError
from ombud.mail.message import Mail, parse_address
from ombud.mail.outbox import OutboxTransport
from ombud.mail.smtp import SmtpTransport, TlsMode

if TYPE_CHECKING:
    from ombud.settings import Settings

#: The setting errors refer to.
SETTING = "OMBUD_MAIL_URL"

_SMTP_PORTS = {"smtp": 25, "smtps": 465}
_STARTTLS: dict[str, TlsMode] = {
    "opportunistic": "opportunistic",
    "required": "starttls",
    "never": "none",
}
_EXAMPLES = "file:./outbox, smtp://user:password@mail.example.se:587 or smtps://...:465"


class MailTransport(Protocol):
    """Sends a :class:`~ombud.mail.Mail`; the interface every mail backend implements."""

    def send(self, mail: Mail) -> str:
        """Send ``mail`` and return its Message-ID (``<left@right>``).

        Raises :class:`~ombud.mail.MailDeliveryError` when it could not be
        handed over, :class:`~ombud.mail.InvalidMailError` when it has no sender.
        """
        ...


def transport_from_url(
    url: str,
    *,
    default_sender: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> MailTransport:
    """The transport ``url`` (the value of OMBUD_MAIL_URL) names.

    ``default_sender`` is the From address of mails without one, unless the
    URL's ``from`` option gives another. ``ssl_context`` verifies SMTP servers'
    certificates (default: the system's trusted CAs). Nothing connects here.
    Raises :class:`~ombud.mail.MailConfigError` saying what is wrong and how to fix it.
    """
    shown = redact_url(url)

    def fail(what: str, fix: str) -> MailConfigError:
        return MailConfigError(f"{SETTING} {shown!r}: {what}; {fix}")

    scheme, colon, _ = url.partition(":")
    scheme = scheme.lower()
    if not colon or not scheme:
        raise fail("not a URL", f"give one such as {_EXAMPLES}")
    if scheme not in {"file", "smtp", "smtps"}:
        raise fail(f"unknown scheme {scheme}:", f"use file:, smtp: or smtps:, e.g. {_EXAMPLES}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise fail(f"not a valid URL ({exc})", f"give one such as {_EXAMPLES}") from None
    if url.partition("://")[2].count("@") > parts.netloc.count("@"):
        # Then part of the user name or password may have leaked into the path,
        # query or fragment: stop before anything of those is echoed.
        raise fail(
            "has an '@' after the host",
            "percent-encode '/', '?', '#' and '@' in the user name and password, and '@' "
            "in ?from= (as %2F, %3F, %23 and %40)",
        )
    if parts.fragment:
        raise fail("has a #fragment", "remove it")
    options = _options(parts.query, fail)
    sender = options.pop("from", None)
    if sender is not None:
        try:
            parse_address(sender, what="the from option", personal=False)
        except InvalidMailError as exc:
            raise fail(
                str(exc), "percent-encode it: from=Almi%20%3Cno-reply%40almi.se%3E"
            ) from None
    sender = sender or default_sender
    if scheme == "file":
        return _outbox(parts.netloc, parts.path, options, sender, fail)
    return _smtp(scheme, url, options=options, sender=sender, ssl_context=ssl_context, fail=fail)


def transport_from_settings(settings: Settings) -> MailTransport:
    """The transport of ``settings.mail_url``, sending from :func:`default_sender` by default."""
    return transport_from_url(settings.mail_url, default_sender=default_sender(settings.base_url))


def default_sender(base_url: str) -> str:
    """``no-reply@`` the host of Ombud's public address; ``no-reply@localhost`` for an IP."""
    host = (urlsplit(base_url).hostname or "").rstrip(".")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if "." in host:
            return f"no-reply@{host}"
    return "no-reply@localhost"


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, to show in messages and logs.

    Works on URLs that do not parse too: everything between the user name and
    the last '@' counts as the password (so a password with an unencoded '/'
    or '@' is still hidden).
    """
    scheme, slashes, rest = url.partition("://")
    if not slashes or "@" not in rest:
        return url
    userinfo, _, host = rest.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}"


_N = TypeVar("_N", int, float)


class _Fail(Protocol):
    def __call__(self, what: str, fix: str) -> MailConfigError: ...


_KNOWN = {
    "file": {"from"},
    "smtp": {"from", "timeout", "retries", "starttls"},
    "smtps": {"from", "timeout", "retries"},
}


def _options(query: str, fail: _Fail) -> dict[str, str]:
    options: dict[str, str] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise fail("its ?options are malformed", "write them as ?name=value&name=value") from None
    for name, value in pairs:
        if name in options:
            raise fail(f"sets ?{name}= twice", "keep one")
        options[name] = value
    return options


def _outbox(
    netloc: str, path: str, options: dict[str, str], sender: str | None, fail: _Fail
) -> OutboxTransport:
    _reject_unknown(options, "file", fail)
    if netloc not in {"", "localhost"}:
        raise fail(
            f"a file URL names a local directory, not a host ({netloc!r})",
            "write file:./outbox, file:/var/spool/ombud or file:///var/spool/ombud",
        )
    directory = unquote(path)
    if not directory:
        raise fail("names no directory", "write file:./outbox or file:/var/spool/ombud")
    return OutboxTransport(directory, default_sender=sender)


def _smtp(
    scheme: str,
    url: str,
    *,
    options: dict[str, str],
    sender: str | None,
    ssl_context: ssl.SSLContext | None,
    fail: _Fail,
) -> SmtpTransport:
    _reject_unknown(options, scheme, fail)
    parts = urlsplit(url)
    if parts.path not in {"", "/"}:
        raise fail(f"has a path ({parts.path!r}) after the host", "remove it")
    host = parts.hostname
    if not host:
        raise fail("names no host", f"write {scheme}://user:password@mail.example.se:587")
    try:
        port = parts.port or _SMTP_PORTS[scheme]
    except ValueError:
        raise fail(
            "the port is not a number from 1 to 65535",
            "fix it, or percent-encode ':' in the password as %3A",
        ) from None
    username = None if parts.username is None else unquote(parts.username)
    password = None if parts.password is None else unquote(parts.password)
    if username is not None and password is None:
        raise fail("has a user name but no password", "write user:password@ before the host")
    if not username and password is not None:
        raise fail("has a password but no user name", "write user:password@ before the host")
    tls: TlsMode = "implicit"
    if scheme == "smtp":
        choice = options.get("starttls", "opportunistic")
        if choice not in _STARTTLS:
            raise fail(
                f"?starttls={choice} is not an option", "use required, opportunistic or never"
            )
        tls = _STARTTLS[choice]
    timeout = _number(options, "timeout", float, fail, default=30.0, low=0.1, high=600.0)
    retries = _number(options, "retries", int, fail, default=3, low=0, high=10)
    return SmtpTransport(
        host,
        port,
        tls=tls,
        username=username,
        password=password,
        default_sender=sender,
        timeout=timeout,
        retries=retries,
        ssl_context=ssl_context,
    )


def _reject_unknown(options: dict[str, str], scheme: str, fail: _Fail) -> None:
    unknown = sorted(set(options) - _KNOWN[scheme])
    if unknown:
        known = ", ".join(sorted(_KNOWN[scheme]))
        raise fail(f"unknown option ?{unknown[0]}=", f"{scheme}: URLs take {known}")


def _number(
    options: dict[str, str],
    name: str,
    kind: type[_N],
    fail: _Fail,
    *,
    default: _N,
    low: _N,
    high: _N,
) -> _N:
    if name not in options:
        return default
    try:
        value = kind(options[name])
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise fail(f"?{name}={options[name]} is not a number from {low} to {high}", "fix it")
    return value
