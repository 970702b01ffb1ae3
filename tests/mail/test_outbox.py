"""OutboxTransport: one readable RFC 5322 .eml file per mail, written atomically."""

from __future__ import annotations

import datetime as dt
import email
import logging
import re
import stat
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from ombud.mail import Mail, OutboxTransport, PermanentMailError, transport_from_url

TO = "asa.oberg@exempel.se"


def read(path: Path) -> EmailMessage:
    with path.open("rb") as file:
        message = email.message_from_binary_file(file, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


def test_each_mail_becomes_a_readable_eml_file(tmp_path: Path) -> None:
    directory = tmp_path / "spool" / "outbox"  # created on first use
    outbox = transport_from_url(f"file:{directory}", default_sender="no-reply@almi.example")
    mail = Mail(
        to=f"Åsa Öberg <{TO}>",
        subject="Din begäran om registerutdrag är mottagen",
        text="Hej Åsa!\n\nVi har tagit emot din begäran. Svar inom en månad.\n",
        html="<p>Hej Åsa!</p><p>Vi har tagit emot din begäran.</p>",
        language="sv",
    )

    message_id = outbox.send(mail)

    [path] = directory.iterdir()
    assert path.suffix == ".eml"
    assert message_id.strip("<>").replace("@", "@") in path.name
    message = read(path)
    assert message["Message-ID"] == message_id
    assert message["Subject"] == mail.subject
    assert message["To"].addresses[0].addr_spec == TO
    body = message.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == mail.text
    assert message.get_body(("html",)) is not None


def test_files_are_named_by_time_and_sort_in_sending_order(tmp_path: Path) -> None:
    moments = iter(dt.datetime(2025, 3, 1, 10, 0, second, tzinfo=dt.UTC) for second in (5, 7, 9))
    outbox = OutboxTransport(
        tmp_path, default_sender="no-reply@almi.example", clock=lambda: next(moments)
    )

    ids = [outbox.send(Mail(to=TO, subject=f"Nummer {n}", text="Hej!\n")) for n in range(3)]

    names = sorted(path.name for path in tmp_path.iterdir())
    assert [name[:23] for name in names] == [
        "20250301T100005.000000Z",
        "20250301T100007.000000Z",
        "20250301T100009.000000Z",
    ]
    assert [read(tmp_path / name)["Message-ID"] for name in names] == ids
    assert all(re.fullmatch(r"[0-9T.Z]+-[0-9a-f]{32}@almi\.example\.eml", n) for n in names)


def test_files_are_private_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path / "outbox", default_sender="no-reply@almi.example")
    outbox.send(Mail(to=TO, subject="Hej", text="Hej!\n"))

    [path] = (tmp_path / "outbox").iterdir()  # no .tmp file beside it
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "outbox").stat().st_mode) == 0o700


def test_an_unwritable_outbox_is_a_clear_permanent_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the outbox should be", encoding="utf-8")
    outbox = OutboxTransport(blocker / "outbox", default_sender="no-reply@almi.example")

    with pytest.raises(PermanentMailError, match="could not be written to the outbox") as caught:
        outbox.send(Mail(to=TO, subject="Hej", text="Hej!\n"))

    assert "OMBUD_MAIL_URL" in str(caught.value)
    assert TO not in str(caught.value)


def test_the_log_names_the_domain_not_the_address(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = OutboxTransport(tmp_path, default_sender="no-reply@almi.example")
    with caplog.at_level(logging.DEBUG, logger="ombud"):
        message_id = outbox.send(Mail(to=f"Åsa <{TO}>", subject="Hej", text="Hej!\n"))
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("ombud"))
    assert message_id in text
    assert "exempel.se" in text
    assert TO not in text
    assert "Åsa" not in text
