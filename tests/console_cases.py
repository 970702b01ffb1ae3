"""The console on a copy of the demo, for its tests (tests/web/admin and the browser tests)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from ombud import store
from ombud.rights.intake import NewRequest, create_request, get_request
from ombud.rights.models import Channel, DataRequest


def new_request(
    app: FastAPI,
    engine: Engine,
    kind: str,
    identifiers: list[tuple[str, str]],
    *,
    verified: bool = False,
    received: dt.datetime | None = None,
    activities: list[str] | None = None,
    controller: str | None = None,
    channel: Channel = Channel.HANDLER,
    actor: str = "test",
) -> str:
    """A request registered as received at ``received`` (default now), verified or not;
    its id."""
    served = app.state.register.current()
    with store.transaction(engine) as session:
        return create_request(
            session,
            NewRequest(
                type=kind,
                identifiers=identifiers,
                channel=channel,
                controller_id=controller,
                activities=activities or [],
                verified_note="Called back on the number in the CRM" if verified else None,
            ),
            register=served.register,
            register_version=served.version,
            keys=app.state.keys,
            actor=actor,
            now=received or dt.datetime.now(dt.UTC),
        ).id


def outbox_texts(outbox: Path) -> list[str]:
    """Subject and plain text of every mail in the file outbox, oldest first."""
    texts = []
    for path in sorted(outbox.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        texts.append(f"{message['Subject']}\n{body.get_content()}")
    return texts


@dataclass
class DemoConsole:
    """The app on a copy of the demo (``directory``, its ``demo.json`` as ``manifest``),
    mailing to the file ``outbox``."""

    app: FastAPI
    directory: Path
    manifest: dict[str, Any]
    outbox: Path

    @property
    def engine(self) -> Any:
        return self.app.state.engine

    def person(self, name: str) -> dict[str, Any]:
        """An edge case of the demo (``demo.json``), e.g. ``everywhere``."""
        found: dict[str, Any] = self.manifest["edge_cases"][name]
        return found

    def request(self, kind: str, identifiers: list[tuple[str, str]], **options: Any) -> str:
        """A request registered by a handler; options as :func:`new_request`'s."""
        return new_request(self.app, self.engine, kind, identifiers, **options)

    def load(self, request_id: str) -> DataRequest:
        with store.transaction(self.engine) as session:
            return get_request(session, request_id)

    def mails(self) -> list[str]:
        """Subject and text of every mail the console sent, oldest first."""
        return outbox_texts(self.outbox)
