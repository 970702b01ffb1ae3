"""The mail to send, and the RFC 5322 message built from it.

A :class:`Mail` is checked when it is made, so a bad address or header fails
where the mail is written rather than in a worker later. :func:`build_message`
turns it into an :class:`email.message.EmailMessage` with policy SMTP: UTF-8
text (quoted-printable, so it passes 7-bit relays), subject and names encoded
per RFC 2047, multipart/alternative when there is HTML, and Date, Message-ID
and Content-Language headers.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import policy as email_policy
from email.errors import HeaderParseError, MessageDefect, NonASCIILocalPartDefect
from email.headerregistry import Address, AddressHeader
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime
from types import MappingProxyType
from typing import Protocol, cast

from ombud.mail.errors import InvalidMailError

#: The policy messages are built with: CRLF line ends, RFC 2047 headers, lines of at most 78.
POLICY = email_policy.SMTP

#: Headers the builder writes itself; a Mail's ``headers`` may not set them.
RESERVED_HEADERS = frozenset(
    {
        "bcc",
        "cc",
        "content-language",
        "content-transfer-encoding",
        "content-type",
        "date",
        "from",
        "message-id",
        "mime-version",
        "return-path",
        "sender",
        "subject",
        "to",
    }
)

#: RFC 5322 §2.1.1: no line of a message may be longer than 998 characters.
MAX_LINE = 998

_FIELD_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext: printable ASCII except ':'
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")  # a BCP 47 tag, e.g. sv or sv-SE
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")  # <left@right>, printable, no < > inside
_URI_LIST = re.compile(r"<[^<>\s]+>(?:\s*,\s*<[^<>\s]+>)*")  # RFC 2369: <uri>, <uri>
_ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass(frozen=True, slots=True, kw_only=True)
class Mail:
    """One mail to one recipient.

    ``to`` and ``sender`` are addresses, optionally with a display name
    (``"Almi <dataskyddsombud@almi.se>"``). ``sender`` is the From address;
    left out, the transport's default sender is used. ``headers`` adds header
    fields such as List-Unsubscribe (see :func:`one_click_unsubscribe`); it
    may not set the ones the builder writes (:data:`RESERVED_HEADERS`).
    ``message_id`` (``<left@right>``) is generated when left out.
    ``language`` is a BCP 47 tag written as Content-Language.

    Raises :class:`InvalidMailError` when any part could not be sent as given.
    The error never repeats the recipient's address.
    """

    to: str
    subject: str
    text: str
    html: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    sender: str | None = None
    message_id: str | None = None
    language: str | None = None

    def __post_init__(self) -> None:
        parse_address(self.to, what="Mail.to", personal=True)
        if self.sender is not None:
            parse_address(self.sender, what="Mail.sender", personal=False)
        if not self.subject.strip():
            raise InvalidMailError("Mail.subject is empty: every mail needs a subject")
        _check_one_line(self.subject, "Mail.subject")
        if not self.text.strip():
            raise InvalidMailError(
                "Mail.text is empty: every mail needs a plain-text body, also when html is given"
            )
        if self.message_id is not None and not _MESSAGE_ID.fullmatch(self.message_id):
            raise InvalidMailError(
                f"Mail.message_id {self.message_id!r} is not of the form <left@right>; "
                "leave it out to have one generated"
            )
        if self.language is not None and not _LANGUAGE.fullmatch(self.language):
            raise InvalidMailError(
                f"Mail.language {self.language!r} is not a language tag such as 'sv' or 'en-GB'"
            )
        object.__setattr__(self, "headers", MappingProxyType(_checked_headers(self.headers)))


def one_click_unsubscribe(url: str, *, mailto: str | None = None) -> dict[str, str]:
    """The List-Unsubscribe and List-Unsubscribe-Post headers of RFC 8058 one-click unsubscribe.

    ``url`` is the HTTPS address a mail client POSTs ``List-Unsubscribe=One-Click``
    to; it must work without a login or further confirmation. ``mailto`` adds a
    ``mailto:`` address for clients that only unsubscribe by mail. Receivers
    honour the headers only on DKIM-signed mail whose signature covers them.
    """
    if not url.startswith("https://"):
        raise InvalidMailError(
            f"one-click unsubscribe needs an https:// address (RFC 8058 §3.1), got {url!r}"
        )
    uris = [f"<{url}>"]
    if mailto is not None:
        uris.append(f"<mailto:{mailto.removeprefix('mailto:')}>")
    return {"List-Unsubscribe": ", ".join(uris), "List-Unsubscribe-Post": _ONE_CLICK}


def build_message(
    mail: Mail, *, default_sender: str | None = None, now: dt.datetime | None = None
) -> EmailMessage:
    """The RFC 5322 message for ``mail``, From ``mail.sender`` or else ``default_sender``.

    ``now`` (aware; default the current time) is written as the Date header.
    Raises :class:`InvalidMailError` when neither sender is given.
    """
    sender_text = mail.sender if mail.sender is not None else default_sender
    if sender_text is None:
        raise InvalidMailError(
            "the mail has no sender: set Mail.sender, or the transport's default sender "
            "(`?from=` in OMBUD_MAIL_URL)"
        )
    sender = parse_address(sender_text, what="the sender", personal=False)
    recipient = parse_address(mail.to, what="Mail.to", personal=True)
    moment = now if now is not None else dt.datetime.now(dt.UTC)

    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(moment.astimezone(dt.UTC))
    message["Message-ID"] = mail.message_id or new_message_id(sender.domain)
    for name, value in mail.headers.items():
        message[name] = _AsciiHeader(name, value) if value.isascii() else value
    message.set_content(
        mail.text, subtype="plain", charset="utf-8", cte=_transfer_encoding(mail.text)
    )
    if mail.html is not None:
        message.add_alternative(
            mail.html, subtype="html", charset="utf-8", cte=_transfer_encoding(mail.html)
        )
    if mail.language is not None:
        # After the body: setting content moves Content-* headers into the parts.
        message["Content-Language"] = mail.language
    return message


def message_bytes(message: EmailMessage) -> bytes:
    """The message as sent: CRLF lines; raw UTF-8 headers only if an address needs SMTPUTF8."""
    addresses = [a for name in ("From", "To") for a in cast(AddressHeader, message[name]).addresses]
    international = any(not a.addr_spec.isascii() for a in addresses)
    policy = POLICY.clone(utf8=True) if international else POLICY
    return message.as_bytes(policy=policy)


def new_message_id(domain: str) -> str:
    """A fresh, unguessable Message-ID at ``domain`` (the sender's)."""
    return f"<{secrets.token_hex(16)}@{domain or 'localhost'}>"


def message_id_of(message: EmailMessage) -> str:
    """The Message-ID header of a message built by :func:`build_message`."""
    return str(message["Message-ID"])


def parse_address(value: str, *, what: str, personal: bool) -> Address:
    """``value`` as one address; the domain in its ASCII (IDNA) form.

    With ``personal`` the error message leaves the value out: a recipient's
    address is personal data and error messages end up in logs.
    """
    shown = "" if personal else f" {value!r}"
    if "\r" in value or "\n" in value:
        raise InvalidMailError(f"{what}{shown} holds a line break")
    try:
        header = cast(_ParsedAddressHeader, POLICY.header_factory("To", value))
    except (HeaderParseError, IndexError):  # IndexError: the parser trips on e.g. "name@"
        header = None
    if header is None:
        raise InvalidMailError(f"{what}{shown} is not an e-mail address such as 'name@example.se'")
    addresses = header.addresses
    # A non-ASCII local part is valid with SMTPUTF8 (RFC 6531); smtplib asks for it.
    defects = [d for d in header.defects if not isinstance(d, NonASCIILocalPartDefect)]
    if len(addresses) != 1 or defects:
        raise InvalidMailError(
            f"{what}{shown} is not one valid e-mail address such as 'name@example.se' "
            "or 'Name <name@example.se>'"
        )
    address = addresses[0]
    if not address.username or not address.domain:
        raise InvalidMailError(f"{what}{shown} has no user name or no domain before/after '@'")
    try:
        domain = address.domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidMailError(f"{what}{shown} has a domain that is not a valid name") from None
    return Address(display_name=address.display_name, username=address.username, domain=domain)


def recipient_domain(mail: Mail) -> str:
    """The recipient's domain, lowercased: all of the address that may be logged."""
    return parse_address(mail.to, what="Mail.to", personal=True).domain.lower()


def _transfer_encoding(body: str) -> str | None:
    # Left to the library, non-ASCII text would go out as 8bit, which smtplib
    # does not announce (BODY=8BITMIME); quoted-printable passes any relay.
    return None if body.isascii() else "quoted-printable"


def _check_one_line(value: str, what: str) -> None:
    if "\r" in value or "\n" in value:
        raise InvalidMailError(f"{what} holds a line break; header values are one line")


def _checked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in headers.items():
        lower = name.lower()
        if not _FIELD_NAME.fullmatch(name):
            raise InvalidMailError(
                f"Mail.headers: {name!r} is not a header name (printable ASCII, no ':' or space)"
            )
        if lower in RESERVED_HEADERS or lower.startswith("resent-"):
            raise InvalidMailError(
                f"Mail.headers may not set {name}: it is written from the Mail's own fields"
            )
        if lower in seen:
            raise InvalidMailError(f"Mail.headers sets {name} twice (header names ignore case)")
        seen.add(lower)
        _check_one_line(value, f"Mail.headers[{name!r}]")
        if value.isascii():
            longest = max((len(word) for word in value.split()), default=0)
            if len(name) + 2 + longest > MAX_LINE:
                raise InvalidMailError(
                    f"Mail.headers[{name!r}] has a word of {longest} characters; "
                    f"no line of a mail may exceed {MAX_LINE} (RFC 5322 §2.1.1)"
                )
        checked[name] = value
    _check_unsubscribe({name.lower(): value for name, value in checked.items()})
    return checked


def _check_unsubscribe(headers: Mapping[str, str]) -> None:
    unsubscribe = headers.get("list-unsubscribe")
    if unsubscribe is not None and not _URI_LIST.fullmatch(unsubscribe.strip()):
        raise InvalidMailError(
            "Mail.headers['List-Unsubscribe'] is not a list of <uri> in angle brackets "
            "(RFC 2369), e.g. '<https://example.se/unsubscribe/TOKEN>'"
        )
    post = headers.get("list-unsubscribe-post")
    if post is None:
        return
    if post.strip() != _ONE_CLICK:
        raise InvalidMailError(
            f"Mail.headers['List-Unsubscribe-Post'] must be exactly {_ONE_CLICK!r} (RFC 8058)"
        )
    if unsubscribe is None or "<https://" not in unsubscribe:
        raise InvalidMailError(
            "List-Unsubscribe-Post needs a List-Unsubscribe header with an https:// address "
            "(RFC 8058 §3.1); one_click_unsubscribe(url) builds both"
        )


class _ParsedAddressHeader(Protocol):
    # What the policy's header factory returns for an address header; typeshed
    # splits it into AddressHeader and BaseHeader.
    @property
    def addresses(self) -> tuple[Address, ...]: ...
    @property
    def defects(self) -> tuple[MessageDefect, ...]: ...


class _AsciiHeader(str):
    """A header value written as given and folded only at its spaces.

    The library's folder turns a long word, such as an unsubscribe URL with a
    token, into RFC 2047 encoded-words, which breaks List-Unsubscribe. The
    email policy writes any value that has a ``name`` by calling its ``fold``.
    """

    name: str
    defects: tuple[()] = ()

    def __new__(cls, name: str, value: str) -> _AsciiHeader:
        header = super().__new__(cls, " ".join(value.split()))
        header.name = name
        return header

    def fold(self, *, policy: Policy) -> str:
        limit = policy.max_line_length or MAX_LINE
        words = self.split()
        lines = [f"{self.name}: {words[0]}" if words else f"{self.name}:"]
        for word in words[1:]:
            if len(lines[-1]) + 1 + len(word) > limit:
                lines.append(f" {word}")
            else:
                lines[-1] += f" {word}"
        return "".join(line + policy.linesep for line in lines)
