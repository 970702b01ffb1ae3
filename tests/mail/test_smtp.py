"""SmtpTransport against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import email
import logging
import ssl
from email import policy
from email.message import EmailMessage, MIMEPart
from typing import Any
from urllib.parse import quote

import pytest

from ombud.mail import (
    Mail,
    PermanentMailError,
    SmtpTransport,
    TransientMailError,
    one_click_unsubscribe,
    transport_from_url,
)

SENDER = "Almi Dataskydd <dataskyddsombud@almi.example>"
RECIPIENT = "åsa.öberg-test@exempel.se"
PLAIN_RECIPIENT = "asa.oberg@exempel.se"


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


def text_of(part: MIMEPart | None) -> str:
    """A text part's content with the wire's CRLF line ends read as newlines."""
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def transport(server: Any, *, delays: list[float] | None = None, **kwargs: Any) -> SmtpTransport:
    """A transport to ``server`` that appends its waits to ``delays`` instead of sleeping."""
    kwargs.setdefault("default_sender", SENDER)
    kwargs.setdefault("timeout", 5.0)
    waits = delays if delays is not None else []
    return SmtpTransport(server.host, server.port, sleep=waits.append, **kwargs)


def test_plain_mail_with_swedish_text_arrives_intact(smtp_server: Any) -> None:
    server = smtp_server()
    mail = Mail(
        to=f"Åsa Öberg <{PLAIN_RECIPIENT}>",
        subject="Din kod för att bekräfta identiteten: 4711, gäller i 15 minuter",
        text="Hej Åsa!\n\nDin kod är 4711. Vänliga hälsningar, Almi: räksmörgås ÅÄÖ åäö\n",
        language="sv",
    )

    message_id = transport(server).send(mail)

    [received] = server.recorder.received
    assert received.mail_from == "dataskyddsombud@almi.example"
    assert received.rcpt_tos == [PLAIN_RECIPIENT]
    assert received.data.isascii()  # 7-bit clean: passes any relay
    message = parsed(received.data)
    assert message["Message-ID"] == message_id
    assert message["Subject"] == mail.subject
    assert message["To"].addresses[0].display_name == "Åsa Öberg"
    assert message["From"].addresses[0].addr_spec == "dataskyddsombud@almi.example"
    assert message["Date"].datetime.tzinfo is not None
    assert message["Content-Language"] == "sv"
    assert message.get_content_type() == "text/plain"
    assert text_of(message) == mail.text


def test_html_mail_is_multipart_alternative_with_unsubscribe_headers(smtp_server: Any) -> None:
    server = smtp_server()
    url = "https://almi.example/nyhetsbrev/avregistrera/" + "k" * 120
    mail = Mail(
        to=PLAIN_RECIPIENT,
        subject="Bekräfta din prenumeration på Almis nyhetsbrev",
        text="Klicka på länken för att bekräfta: https://almi.example/bekräfta\n",
        html="<p>Klicka på <a href='https://almi.example/bekräfta'>länken</a>, tack!</p>",
        headers=one_click_unsubscribe(url, mailto="avregistrera@almi.example"),
    )

    transport(server).send(mail)

    message = parsed(server.recorder.received[0].data)
    assert message.get_content_type() == "multipart/alternative"
    assert text_of(message.get_body(("plain",))) == mail.text
    assert text_of(message.get_body(("html",))).strip() == mail.html
    assert message["List-Unsubscribe"] == f"<{url}>, <mailto:avregistrera@almi.example>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert all(len(line) <= 998 for line in server.recorder.received[0].data.split(b"\r\n"))


def test_non_ascii_address_is_sent_with_smtputf8(smtp_server: Any) -> None:
    server = smtp_server()
    transport(server).send(Mail(to=RECIPIENT, subject="Hej", text="Hej!\n"))

    [received] = server.recorder.received
    assert received.rcpt_tos == [RECIPIENT]
    # SMTPUTF8 messages carry raw UTF-8 headers (RFC 6532); the bytes parser would not decode them.
    message = email.message_from_string(received.data.decode("utf-8"), policy=policy.default)
    assert message["To"].addresses[0].addr_spec == RECIPIENT


@pytest.mark.parametrize("user", ["ombud", "relay"])
def test_auth_with_percent_encoded_credentials_from_the_url(
    smtp_server: Any, accounts: dict[str, str], user: str
) -> None:
    server = smtp_server(auth=True)
    userinfo = f"{quote(user, safe='')}:{quote(accounts[user], safe='')}"
    url = f"smtp://{userinfo}@{server.host}:{server.port}"

    sender = transport_from_url(url, default_sender=SENDER)
    sender.send(Mail(to=PLAIN_RECIPIENT, subject="Hej", text="Hej!\n"))

    assert server.recorder.received[0].login == user.encode()


@pytest.mark.parametrize("password", ["fel-lösenord", "wrong-password"])
def test_wrong_password_is_permanent_and_not_retried(smtp_server: Any, password: str) -> None:
    server = smtp_server(auth=True)
    delays: list[float] = []
    sender = transport(server, username="ombud", password=password, retries=3, delays=delays)

    with pytest.raises(PermanentMailError, match="refused the user name or password") as caught:
        sender.send(Mail(to=PLAIN_RECIPIENT, subject="Hej", text="Hej!\n"))

    assert caught.value.smtp_code == 535
    assert caught.value.attempts == 1
    assert password not in str(caught.value)
    assert delays == []
    assert server.recorder.received == []


def test_starttls_is_used_when_the_server_offers_it(smtp_server: Any, certificate: Any) -> None:
    server = smtp_server(tls_context=certificate.server_context(), auth=True)
    sender = transport(
        server,
        tls="starttls",
        username="relay",
        password="plain-secret",
        ssl_context=certificate.client_context(),
    )

    sender.send(Mail(to=PLAIN_RECIPIENT, subject="Över TLS", text="Krypterat.\n"))

    [received] = server.recorder.received
    assert received.tls
    assert received.login == b"relay"


def test_opportunistic_starttls_upgrades_too(smtp_server: Any, certificate: Any) -> None:
    server = smtp_server(tls_context=certificate.server_context())
    sender = transport(server, ssl_context=certificate.client_context())

    sender.send(Mail(to=PLAIN_RECIPIENT, subject="Hej", text="Hej!\n"))

    assert server.recorder.received[0].tls


def test_opportunistic_starttls_sends_plain_when_not_offered(smtp_server: Any) -> None:
    server = smtp_server()
    transport(server).send(Mail(to=PLAIN_RECIPIENT, subject="Hej", text="Hej!\n"))
    assert not server.recorder.received[0].tls


def test_required_starttls_fails_cleanly_without_it(smtp_server: Any) -> None:
    server = smtp_server(auth=True)
    sender = transport_from_url(
        f"smtp://relay:plain-secret@{server.host}:{server.port}?starttls=required",
        default_sender=SENDER,
    )

    with pytest.raises(PermanentMailError, match="does not offer STARTTLS") as caught:
        sender.send(Mail(to=PLAIN_RECIPIENT, subject="Hej", text="Hej!\n"))

    assert "plain-secret" not in str(caught.value)
    assert caught.value.attempts == 1
    assert server.recorder.received == []


def test_untrusted_certificate_is_permanent(smtp_server: Any, certificate: Any) -> None:
    server = smtp_server(tls_context=certificate.server_context())
    delays: list[float] = []
    sender = transport(
        server, tls="starttls", ssl_context=ssl.create_default_context(), delays=delays
    )

    with pytest.raises(PermanentMailError, match="TLS certificate was not accepted"):
        sender.send(Mail(to=PLAIN_RECIPIENT, subject="Hej", text="Hej!\n"))

    assert delays == []
    assert server.recorder.received == []


def test_smtps_speaks_tls_from_the_first_byte(smtp_server: Any, certificate: Any) -> None:
    server = smtp_server(ssl_context=certificate.server_context(), auth=True)
    sender = transport_from_url(
        f"smtps://relay:plain-secret@{server.host}:{server.port}",
        default_sender=SENDER,
        ssl_context=certificate.client_context(),
    )

    sender.send(Mail(to=PLAIN_RECIPIENT, subject="Hej", text="Hej!\n"))

    [received] = server.recorder.received
    assert received.tls
    assert received.login == b"relay"


def test_smtps_against_a_plain_server_is_permanent(smtp_server: Any) -> None:
    server = smtp_server()
    sender = transport(server, tls="implicit")

    with pytest.raises(PermanentMailError, match="TLS failed"):
        sender.send(Mail(to=PLAIN_RECIPIENT, subject="Hej", text="Hej!\n"))


def test_4xx_is_retried_with_backoff_then_succeeds(smtp_server: Any) -> None:
    server = smtp_server(data_replies=["451 4.3.0 Try again later", "452 4.3.1 Full"])
    delays: list[float] = []
    sender = transport(server, retries=3, backoff=0.5, delays=delays)

    message_id = sender.send(Mail(to=PLAIN_RECIPIENT, subject="Hej", text="Hej!\n"))

    assert server.recorder.data_commands == 3
    assert delays == [0.5, 1.0]
    [received] = server.recorder.received
    assert parsed(received.data)["Message-ID"] == message_id  # the same message each time


def test_4xx_every_time_gives_up_with_a_transient_error(smtp_server: Any) -> None:
    server = smtp_server(data_replies=["421 4.7.0 Try later"] * 5)
    delays: list[float] = []
    sender = transport(server, retries=2, backoff=1.0, delays=delays)

    with pytest.raises(TransientMailError, match="gave up after 3 attempts") as caught:
        sender.send(Mail(to=PLAIN_RECIPIENT, subject="Hej", text="Hej!\n"))

    assert caught.value.smtp_code == 421
    assert caught.value.attempts == 3
    assert delays == [1.0, 2.0]
    assert server.recorder.received == []


def test_5xx_is_not_retried_and_the_error_hides_the_address(smtp_server: Any) -> None:
    server = smtp_server(rcpt_replies=["550 5.1.1 <{address}>: Recipient address rejected"])
    delays: list[float] = []
    sender = transport(server, retries=3, delays=delays)

    with pytest.raises(PermanentMailError) as caught:
        sender.send(Mail(to=PLAIN_RECIPIENT, subject="Hej", text="Hej!\n"))

    error = str(caught.value)
    assert caught.value.smtp_code == 550
    assert caught.value.attempts == 1
    assert "550 5.1.1 <[recipient]>: Recipient address rejected" in error
    assert "exempel.se" in error  # the domain is named ...
    assert PLAIN_RECIPIENT not in error  # ... the address is not
    assert server.recorder.rcpt_commands == 1
    assert delays == []
    assert (
        caught.value.__cause__ is None
    )  # the smtplib error, which names the address, is not chained
    assert caught.value.__suppress_context__


def test_connection_refused_is_retried(unused_port: int) -> None:
    sender = SmtpTransport(
        "127.0.0.1", unused_port, default_sender=SENDER, retries=2, sleep=lambda _: None
    )
    with pytest.raises(TransientMailError, match="no connection to the server") as caught:
        sender.send(Mail(to=PLAIN_RECIPIENT, subject="Hej", text="Hej!\n"))
    assert caught.value.attempts == 3
    assert caught.value.smtp_code is None


def test_logs_name_the_message_id_and_domain_never_the_address(
    smtp_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_server(
        data_replies=[f"451 4.3.0 <{PLAIN_RECIPIENT}> greylisted"],
        rcpt_replies=["250 OK", "250 OK", "550 5.1.1 <{address}> unknown"],
    )
    sender = transport(server, retries=1)
    mail = Mail(to=f"Åsa Öberg <{PLAIN_RECIPIENT}>", subject="Hej", text="Hej!\n")

    with caplog.at_level(logging.DEBUG, logger="ombud"):
        first = sender.send(mail)  # 451, then sent
        with pytest.raises(PermanentMailError):
            sender.send(mail)  # 550 on RCPT

    ours = [record for record in caplog.records if record.name.startswith("ombud")]
    text = "\n".join(record.getMessage() for record in ours)
    assert {record.levelname for record in ours} == {"INFO", "WARNING", "ERROR"}
    assert first in text
    assert "exempel.se" in text
    assert PLAIN_RECIPIENT not in text
    assert "asa.oberg" not in text
    assert "Åsa" not in text


def test_repr_and_str_hide_the_password() -> None:
    sender = SmtpTransport("mail.almi.example", 587, username="ombud", password="hemligt")
    assert "hemligt" not in repr(sender)
    assert "hemligt" not in str(sender)
    assert str(sender) == "smtp://mail.almi.example:587"
