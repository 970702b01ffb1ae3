"""The file outbox (``file:PATH`` in OMBUD_MAIL_URL, the default): one .eml file per mail.

For development, demos and air-gapped setups: nothing leaves the machine and
every mail can be opened in a mail program or read as text. A file appears
whole or not at all (written to a temporary name, synced, then renamed), so a
process that watches the directory never reads half a message. Files are
readable by their owner only: they hold personal data.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from ombud.mail.errors import PermanentMailError
from ombud.mail.message import (
    Mail,
    build_message,
    message_bytes,
    message_id_of,
    recipient_domain,
)

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]+")


class OutboxTransport:
    """A :class:`~ombud.mail.MailTransport` that writes each mail to ``directory`` as .eml.

    The directory is created when the first mail is written. Files are named
    ``<UTC time>-<Message-ID>.eml`` (e.g. ``20250301T101502.123456Z-3f…@almi.se.eml``),
    so they sort in the order they were sent. ``clock`` gives the time (aware).
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        default_sender: str | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.directory = Path(directory).absolute()
        self.default_sender = default_sender
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def __str__(self) -> str:
        return f"file:{self.directory}"

    def __repr__(self) -> str:
        return f"OutboxTransport({str(self.directory)!r})"

    def send(self, mail: Mail) -> str:
        """Write ``mail`` as an RFC 5322 .eml file and return its Message-ID.

        Raises :class:`~ombud.mail.PermanentMailError` when the directory
        cannot be created or written.
        """
        now = self._clock().astimezone(dt.UTC)
        message = build_message(mail, default_sender=self.default_sender, now=now)
        message_id = message_id_of(message)
        name = f"{now:%Y%m%dT%H%M%S.%fZ}-{_UNSAFE.sub('_', message_id.strip('<>'))[:120]}.eml"
        try:
            path = self._write(name, message_bytes(message))
        except OSError as exc:
            raise PermanentMailError(
                f"mail {message_id} could not be written to the outbox {self.directory}: "
                f"{exc.strerror or exc}; point OMBUD_MAIL_URL at a directory Ombud may write "
                "(file:PATH)",
                message_id=message_id,
            ) from None
        logger.info(
            "mail %s to a recipient at %s written to %s", message_id, recipient_domain(mail), path
        )
        return message_id

    def _write(self, name: str, data: bytes) -> Path:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp creates the file with mode 0600 in the target directory, so the
        # rename below stays on one file system and is atomic.
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            target = self.directory / name
            Path(temporary).replace(target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target
