"""Mail: checked when made; build_message: the RFC 5322 message it becomes."""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest

from ombud.mail import InvalidMailError, Mail, build_message, message_bytes, one_click_unsubscribe

TO = "asa.oberg@exempel.se"
SENDER = "no-reply@almi.example"


def mail(**changes: Any) -> Mail:
    fields: dict[str, Any] = {"to": TO, "subject": "Hej", "text": "Hej!\n"}
    fields.update(changes)
    return Mail(**fields)


def wire(message: EmailMessage) -> EmailMessage:
    """The message as a receiver parses it from the bytes sent."""
    data = message_bytes(message)
    parsed = email.message_from_string(data.decode("utf-8"), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"to": "not an address"}, "Mail.to is not one valid e-mail address"),
        ({"to": "a@b.se, c@d.se"}, "Mail.to is not one valid e-mail address"),
        ({"to": ""}, "Mail.to is not one valid e-mail address"),
        ({"to": "asa@"}, "Mail.to is not an e-mail address"),
        ({"to": "@exempel.se"}, "Mail.to is not"),
        ({"headers": {"X-Ärende": "1"}}, "is not a header name"),
        ({"to": "asa@exempel.se\r\nBcc: x@evil.example"}, "Mail.to holds a line break"),
        ({"sender": "nobody"}, "Mail.sender 'nobody' is not one valid"),
        ({"subject": " "}, "Mail.subject is empty"),
        ({"subject": "Hej\r\nBcc: x@evil.example"}, "Mail.subject holds a line break"),
        ({"text": ""}, "Mail.text is empty"),
        ({"message_id": "abc"}, "not of the form <left@right>"),
        ({"language": "svenska!"}, "is not a language tag"),
        ({"headers": {"Subject": "Annat"}}, "may not set Subject"),
        ({"headers": {"bcc": "x@evil.example"}}, "may not set bcc"),
        ({"headers": {"Resent-To": "x@evil.example"}}, "may not set Resent-To"),
        ({"headers": {"X-A": "1", "x-a": "2"}}, "sets x-a twice"),
        ({"headers": {"Bad Name": "1"}}, "is not a header name"),
        ({"headers": {"X-Injected": "1\nBcc: x@evil.example"}}, "holds a line break"),
        ({"headers": {"X-Long": "x" * 1000}}, "no line of a mail may exceed 998"),
        ({"headers": {"List-Unsubscribe": "https://almi.example/u"}}, "in angle brackets"),
        (
            {"headers": {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}},
            "needs a List-Unsubscribe header",
        ),
        (
            {
                "headers": {
                    "List-Unsubscribe": "<mailto:u@almi.example>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                }
            },
            "with an https:// address",
        ),
        (
            {
                "headers": {
                    "List-Unsubscribe": "<https://almi.example/u>",
                    "List-Unsubscribe-Post": "yes",
                }
            },
            "must be exactly 'List-Unsubscribe=One-Click'",
        ),
    ],
)
def test_a_bad_mail_fails_when_made(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(InvalidMailError, match=re.escape(expected)):
        mail(**changes)


@pytest.mark.parametrize("to", ["asa.oberg@exempel.se", "Åsa <asa.oberg@exempel.se>", "x@y"])
def test_errors_about_the_recipient_never_repeat_the_address(to: str) -> None:
    with pytest.raises(InvalidMailError) as caught:
        mail(to=to + "\n")
    assert to not in str(caught.value)
    assert "asa.oberg" not in str(caught.value)


def test_a_mail_without_any_sender_cannot_be_built() -> None:
    with pytest.raises(InvalidMailError, match="the mail has no sender"):
        build_message(mail())


def test_headers_of_a_built_message() -> None:
    moment = dt.datetime(2025, 3, 1, 11, 15, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    message = wire(
        build_message(
            mail(subject="Förlängd svarstid för din begäran", language="sv-SE"),
            default_sender=f"Almi <{SENDER}>",
            now=moment,
        )
    )
    assert message["Subject"] == "Förlängd svarstid för din begäran"
    assert message["From"] == f"Almi <{SENDER}>"
    assert message["To"] == TO
    assert message["Date"] == "Sat, 01 Mar 2025 10:15:00 +0000"
    assert re.fullmatch(r"<[0-9a-f]{32}@almi\.example>", message["Message-ID"])
    assert message["Content-Language"] == "sv-SE"
    assert message["MIME-Version"] == "1.0"


def test_sender_of_the_mail_wins_over_the_default_and_message_id_is_kept() -> None:
    message = build_message(
        mail(sender="dataskyddsombud@almi.example", message_id="<svar-42@almi.example>"),
        default_sender=SENDER,
    )
    assert message["From"] == "dataskyddsombud@almi.example"
    assert message["Message-ID"] == "<svar-42@almi.example>"


def test_every_message_gets_its_own_message_id() -> None:
    ids = {build_message(mail(), default_sender=SENDER)["Message-ID"] for _ in range(50)}
    assert len(ids) == 50


def test_swedish_subject_is_encoded_on_the_wire_and_readable_after() -> None:
    subject = " ".join(["Bekräfta din e-postadress: räksmörgås ÅÄÖ åäö"] * 3)
    data = message_bytes(build_message(mail(subject=subject), default_sender=SENDER))
    assert data.isascii()
    assert all(len(line) <= 78 for line in data.split(b"\r\n"))
    parsed = email.message_from_bytes(data, policy=policy.default)
    assert parsed["Subject"] == subject


def test_a_long_unsubscribe_url_is_folded_between_uris_never_encoded() -> None:
    url = "https://almi.example/nyhetsbrev/avregistrera/" + "A1b2" * 60
    message = build_message(
        mail(headers=one_click_unsubscribe(url, mailto="mailto:avregistrera@almi.example")),
        default_sender=SENDER,
    )
    data = message_bytes(message)
    assert b"=?" not in data  # no RFC 2047 encoded-words anywhere
    assert f"List-Unsubscribe: <{url}>,\r\n <mailto:avregistrera@almi.example>\r\n".encode() in data
    parsed = wire(message)
    assert parsed["List-Unsubscribe"] == f"<{url}>, <mailto:avregistrera@almi.example>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_one_click_unsubscribe_needs_https() -> None:
    with pytest.raises(InvalidMailError, match="needs an https:// address"):
        one_click_unsubscribe("http://almi.example/u")
    assert one_click_unsubscribe("https://almi.example/u") == {
        "List-Unsubscribe": "<https://almi.example/u>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def test_non_ascii_extra_header_is_encoded() -> None:
    message = wire(
        build_message(mail(headers={"X-Arende": "Begäran om radering"}), default_sender=SENDER)
    )
    assert message["X-Arende"] == "Begäran om radering"


def test_html_makes_multipart_alternative_with_plain_text_first() -> None:
    message = wire(
        build_message(mail(text="Hej Åsa!\n", html="<p>Hej Åsa!</p>"), default_sender=SENDER)
    )
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parts)
    assert all(part["Content-Transfer-Encoding"] == "quoted-printable" for part in parts)


def test_a_domain_with_aao_is_sent_in_its_ascii_form() -> None:
    message = build_message(mail(to="info@räksmörgås.se"), default_sender="no-reply@bäck.se")
    assert message["To"] == "info@xn--rksmrgs-5wao1o.se"
    assert message["Message-ID"].endswith("@xn--bck-qla.se>")
    assert message_bytes(message).isascii()


def test_a_mail_is_immutable() -> None:
    headers = {"X-Kampanj": "vår-2025"}
    made = mail(headers=headers)
    headers["X-Kampanj"] = "ändrad"
    assert made.headers["X-Kampanj"] == "vår-2025"
    with pytest.raises(AttributeError):
        made.subject = "Annat"  # type: ignore[misc]
    with pytest.raises(TypeError):
        made.headers["X-Kampanj"] = "ändrad"  # type: ignore[index]
