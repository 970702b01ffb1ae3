"""Packaging the answer to an access or portability request, and delivering it once.

The rows the find steps read are stored encrypted on their steps; packaging
decrypts them, renders the register extract (HTML, PDF and JSON in one zip) or
the portability zip, stores it encrypted behind a single-use, expiring link,
and forgets the rows. Only the link's digest is stored; the link itself goes
to the person by mail.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import audit
from ombud.mail import Mail, MailTransport
from ombud.register.model import Register
from ombud.rights.errors import VerificationError
from ombud.rights.extract import ExtractInput, FoundRow, render_extract
from ombud.rights.intake import plaintext_identifiers
from ombud.rights.models import DataRequest, Extract, RequestType, StepState
from ombud.rights.plan import StepAction, is_automated, systems_in_scope
from ombud.rights.portability import build_portability_zip
from ombud.store.crypto import Keys, new_token, token_digest

#: How long the download link works.
EXTRACT_TTL = dt.timedelta(days=30)


def found_rows(request: DataRequest, keys: Keys) -> list[FoundRow]:
    """The rows the request's find steps stored, decrypted."""
    rows: list[FoundRow] = []
    for step in request.steps:
        if step.action != StepAction.FIND or step.payload is None:
            continue
        stored = json.loads(keys.decrypt(step.payload, context=f"{request.id}:{step.system_id}"))
        rows.extend(
            FoundRow(
                system_id=step.system_id,
                collection=row["collection"],
                values=row["values"],
                categories=row["categories"],
                legal_hold=row["legal_hold"],
                restricted=row["restricted"],
            )
            for row in stored
        )
    return rows


def package(
    session: Session, request: DataRequest, register: Register, *, keys: Keys, now: dt.datetime
) -> int:
    """Render and store the answer; returns the number of rows in it. Idempotent."""
    existing = session.scalars(select(Extract.id).where(Extract.request_id == request.id)).first()
    rows = found_rows(request, keys)
    if existing is not None:
        return len(rows)
    data = ExtractInput(
        request_id=request.id,
        received_at=request.received_at,
        due=request.due,
        language=request.language,
        controller_id=request.controller_id,
        register=register,
        register_version=request.register_version,
        rows=rows,
        manual_systems=[
            s.id for s in systems_in_scope(register, request.controller_id) if not is_automated(s)
        ],
        generated_at=now,
    )
    if request.type == RequestType.PORTABILITY:
        content, filename = build_portability_zip(data), f"portability-{request.id}.zip"
    else:
        content, filename = _extract_zip(data), f"registerutdrag-{request.id}.zip"
    session.add(
        Extract(
            request_id=request.id,
            # The link is made when it is sent (see :func:`issue_link`).
            token_digest=token_digest(new_token()),
            media_type="application/zip",
            filename=filename,
            content=keys.encrypt_bytes(content, context=f"{request.id}:extract"),
            created_at=now,
            expires_at=now + EXTRACT_TTL,
        )
    )
    for step in request.steps:
        if step.action == StepAction.FIND and step.state == StepState.DONE:
            step.payload = None
    session.flush()
    return len(rows)


def issue_link(session: Session, request: DataRequest, *, now: dt.datetime) -> str:
    """A fresh single-use token for the request's answer (earlier links stop working)."""
    extract = _extract(session, request.id)
    token = new_token()
    extract.token_digest = token_digest(token)
    extract.expires_at = max(extract.expires_at, now + dt.timedelta(days=7))
    session.flush()
    return token


def check_link(session: Session, token: str, *, now: dt.datetime) -> Extract:
    """The answer behind ``token`` if it can still be downloaded; nothing is used up.

    Raises :class:`VerificationError` for an unknown, used or expired link.
    """
    extract = session.scalars(
        select(Extract).where(Extract.token_digest == token_digest(token))
    ).one_or_none()
    if extract is None or extract.content is None:
        raise VerificationError("this link is not valid; ask us for a new one")
    if extract.downloaded_at is not None:
        raise VerificationError("this link has been used; ask us for a new one")
    if extract.expires_at <= now:
        raise VerificationError("this link has expired; ask us for a new one")
    return extract


def download(session: Session, token: str, *, keys: Keys, now: dt.datetime) -> tuple[str, bytes]:
    """The answer behind ``token`` (filename, bytes), once; raises :class:`VerificationError`."""
    extract = check_link(session, token, now=now)
    assert extract.content is not None
    extract.downloaded_at = now
    audit.append(
        session,
        actor="subject",
        action="request.answer_downloaded",
        object_id=f"request:{extract.request_id}",
    )
    return extract.filename, keys.decrypt_bytes(
        extract.content, context=f"{extract.request_id}:extract"
    )


def _extract(session: Session, request_id: str) -> Extract:
    extract = session.scalars(select(Extract).where(Extract.request_id == request_id)).first()
    if extract is None:
        raise VerificationError(f"request {request_id} has no packaged answer yet")
    return extract


def _extract_zip(data: ExtractInput) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for fmt in ("html", "pdf", "json"):
            archive.writestr(f"registerutdrag.{fmt}", render_extract(data, fmt=fmt))
    return buffer.getvalue()


def send_link(
    session: Session,
    request: DataRequest,
    *,
    keys: Keys,
    mail: MailTransport,
    base_url: str,
    now: dt.datetime,
    actor: str = "worker",
) -> bool:
    """Mail the person a fresh single-use link to the answer; False without an address.

    ``actor`` names who sent it in the audit log: the worker when a run ends, the
    console user (``user:<id>``) who sends it again."""
    addresses = [v for kind, v in plaintext_identifiers(request, keys) if kind == "email"]
    if not addresses:
        return False
    token = issue_link(session, request, now=now)
    link = f"{base_url.rstrip('/')}/privacy/request/answer/{token}"
    texts = _LINK_TEXTS.get(request.language, _LINK_TEXTS["en"])
    mail.send(
        Mail(
            to=addresses[0],
            subject=texts[0].format(id=request.id),
            text=texts[1].format(id=request.id, link=link, days=EXTRACT_TTL.days),
            language=request.language,
        )
    )
    audit.append(
        session, actor=actor, action="request.answer_sent", object_id=f"request:{request.id}"
    )
    return True


_LINK_TEXTS = {
    "sv": (
        "Svar på din begäran {id}",
        (
            "Hej!\n\nSvaret på din begäran (ärende {id}) är klart. Hämta det här:\n\n{link}\n\n"
            "Länken fungerar en gång och i {days} dagar. Behöver du en ny länk, svara på det här "
            "mejlet.\n"
        ),
    ),
    "en": (
        "Answer to your request {id}",
        (
            "Hello,\n\nThe answer to your request (case {id}) is ready. Download it here:\n\n"
            "{link}\n\nThe link works once and for {days} days. If you need a new link, reply to "
            "this message.\n"
        ),
    ),
}
