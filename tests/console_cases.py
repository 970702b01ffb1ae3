"""Cases and mail for the console's tests (tests/web/admin and the browser tests)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine

from ombud import store
from ombud.rights.intake import NewRequest, create_request
from ombud.rights.models import Channel


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
