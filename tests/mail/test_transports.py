"""OMBUD_MAIL_URL -> transport: what each URL gives, and clear errors for bad ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ombud.mail
from ombud.mail import (
    Mail,
    MailConfigError,
    MemoryTransport,
    OutboxTransport,
    SmtpTransport,
    default_sender,
    redact_url,
    transport_from_settings,
    transport_from_url,
)
from ombud.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "mail.md"


@pytest.mark.parametrize(
    ("url", "host", "port", "tls", "username", "password"),
    [
        ("smtp://mail.almi.example", "mail.almi.example", 25, "opportunistic", None, None),
        ("smtp://u:p@mail.almi.example:587", "mail.almi.example", 587, "opportunistic", "u", "p"),
        (
            "SMTP://mail.almi.example:587?starttls=required",
            "mail.almi.example",
            587,
            "starttls",
            None,
            None,
        ),
        ("smtp://127.0.0.1:2525?starttls=never", "127.0.0.1", 2525, "none", None, None),
        ("smtps://u:p@mail.almi.example", "mail.almi.example", 465, "implicit", "u", "p"),
        ("smtps://[::1]:4650/", "::1", 4650, "implicit", None, None),
        (
            "smtp://relay%40almi.example:h%C3%A4mligt%2F%3A%40%23@mail.almi.example:587",
            "mail.almi.example",
            587,
            "opportunistic",
            "relay@almi.example",
            "hämligt/:@#",
        ),
    ],
)
def test_smtp_urls(
    url: str, host: str, port: int, tls: str, username: str | None, password: str | None
) -> None:
    transport = transport_from_url(url)
    assert isinstance(transport, SmtpTransport)
    assert (transport.host, transport.port, transport.tls) == (host, port, tls)
    assert transport.username == username
    assert transport._password == password


def test_smtp_options() -> None:
    transport = transport_from_url(
        "smtp://mail.almi.example:587?timeout=2.5&retries=0&from=Almi%20%3Cno-reply%40almi.example%3E",
        default_sender="ignored@almi.example",
    )
    assert isinstance(transport, SmtpTransport)
    assert (transport.timeout, transport.retries) == (2.5, 0)
    assert transport.default_sender == "Almi <no-reply@almi.example>"


@pytest.mark.parametrize(
    ("url", "directory"),
    [
        ("file:./outbox", Path.cwd() / "outbox"),
        ("file:/var/spool/ombud", Path("/var/spool/ombud")),
        ("file:///var/spool/ombud", Path("/var/spool/ombud")),
        ("file://localhost/var/spool/ombud", Path("/var/spool/ombud")),
        ("file:/var/spool/ombud%20mail", Path("/var/spool/ombud mail")),
    ],
)
def test_file_urls(url: str, directory: Path) -> None:
    transport = transport_from_url(url, default_sender="no-reply@almi.example")
    assert isinstance(transport, OutboxTransport)
    assert transport.directory == directory
    assert transport.default_sender == "no-reply@almi.example"


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("", "not a URL"),
        ("mail.almi.example:25", "unknown scheme mail.almi.example:"),
        ("outbox", "not a URL"),
        ("imap://mail.almi.example", "unknown scheme imap:"),
        ("smtp://", "names no host"),
        ("smtp://:hemligt@mail.almi.example", "has a password but no user name"),
        ("smtp://relay@mail.almi.example", "has a user name but no password"),
        ("smtp://relay:hemligt@mail.almi.example:99999", "the port is not a number"),
        ("smtp://relay:hemligt@mail.almi.example:smtp", "the port is not a number"),
        ("smtp://relay:hem/ligt@mail.almi.example:587", "has an '@' after the host"),
        ("smtp://relay:hem#ligt@mail.almi.example:587", "has an '@' after the host"),
        ("smtp://relay:hem?ligt=1@mail.almi.example:587", "has an '@' after the host"),
        ("smtp://mail.almi.example:587?from=no-reply@almi.example", "has an '@' after the host"),
        ("smtp://mail.almi.example:587/outbox", "has a path ('/outbox')"),
        ("smtp://mail.almi.example:587#top", "has a #fragment"),
        ("smtp://mail.almi.example?starttls=yes", "?starttls=yes is not an option"),
        ("smtps://mail.almi.example?starttls=required", "unknown option ?starttls="),
        ("smtp://mail.almi.example?tls=1", "unknown option ?tls="),
        ("smtp://mail.almi.example?timeout=soon", "?timeout=soon is not a number"),
        ("smtp://mail.almi.example?retries=100", "?retries=100 is not a number from 0 to 10"),
        ("smtp://mail.almi.example?retries=1&retries=2", "sets ?retries= twice"),
        ("smtp://mail.almi.example?from=nobody", "the from option 'nobody' is not one valid"),
        ("file:", "names no directory"),
        ("file://fileserver/outbox", "names a local directory, not a host"),
        ("file:./outbox?retries=2", "unknown option ?retries="),
    ],
)
def test_bad_urls_say_what_where_and_how_to_fix(url: str, what: str) -> None:
    with pytest.raises(MailConfigError) as caught:
        transport_from_url(url)
    message = str(caught.value)
    assert message.startswith("OMBUD_MAIL_URL ")
    assert what in message
    assert "; " in message  # followed by how to fix it
    assert "hemligt" not in message
    assert "ligt" not in message


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("smtp://relay:hemligt@mail.almi.example:587", "smtp://relay:***@mail.almi.example:587"),
        ("smtp://relay:hem/l@igt@mail.almi.example", "smtp://relay:***@mail.almi.example"),
        ("smtps://mail.almi.example:465", "smtps://mail.almi.example:465"),
        ("smtp://relay@mail.almi.example", "smtp://relay@mail.almi.example"),
        ("file:./outbox", "file:./outbox"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("base_url", "sender"),
    [
        ("https://integritet.almi.se", "no-reply@integritet.almi.se"),
        ("https://almi.se:8443/ombud/", "no-reply@almi.se"),
        ("http://127.0.0.1:8000", "no-reply@localhost"),
        ("http://localhost:8000", "no-reply@localhost"),
        ("http://[::1]:8000", "no-reply@localhost"),
    ],
)
def test_default_sender_comes_from_the_base_url(base_url: str, sender: str) -> None:
    assert default_sender(base_url) == sender


def test_transport_from_settings_uses_the_default_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OMBUD_MAIL_URL", raising=False)
    transport = transport_from_settings(Settings(base_url="https://integritet.almi.se"))
    assert isinstance(transport, OutboxTransport)
    assert transport.directory == tmp_path / "outbox"

    transport.send(Mail(to="asa@exempel.se", subject="Hej", text="Hej!\n"))

    [path] = (tmp_path / "outbox").iterdir()
    assert b"From: no-reply@integritet.almi.se\r\n" in path.read_bytes()


def test_memory_transport_keeps_what_it_would_send() -> None:
    transport = MemoryTransport()
    message_id = transport.send(Mail(to="asa@exempel.se", subject="Din kod", text="4711\n"))
    [message] = transport.sent
    assert message["Message-ID"] == message_id
    assert message["Subject"] == "Din kod"


@pytest.mark.parametrize("name", ombud.mail.__all__)
def test_every_public_name_exists_and_is_documented(name: str) -> None:
    assert hasattr(ombud.mail, name)
    assert re.search(rf"`{re.escape(name)}[`(]", DOCS.read_text(encoding="utf-8"))
