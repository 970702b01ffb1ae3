"""The actions on a case in the console: every one a POST with the session's CSRF token.

Each is allowed by :func:`~ombud.web.admin.auth.can` for the request's controller,
done by one call of the rights service, and answered with a redirect back to the
case page and a message (``?done=...``). A domain error (RightsError, a mail that
could not be sent) shows the case page again with the error in words and the form
as it was filled in: never a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import State

from ombud import audit, store
from ombud.connectors import ConnectorError
from ombud.mail import Mail, MailError
from ombud.rights import decisions
from ombud.rights.answer import send_link
from ombud.rights.errors import InvalidRequestError, RightsError
from ombud.rights.execution import lift_restriction, run
from ombud.rights.intake import (
    get_request,
    mark_verified,
    plaintext_identifiers,
)
from ombud.rights.models import (
    DataRequest,
    Extract,
    RequestState,
)
from ombud.rights.outcome import lifting_notice
from ombud.rights.plan import StepAction
from ombud.settings import Settings
from ombud.store.crypto import Keys
from ombud.web.admin.auth import (
    AccessDenied,
    CurrentUser,
    Role,
    can,
    check_csrf,
    console_language,
    require_role,
)
from ombud.web.admin.labels import labels
from ombud.web.admin.requests import (
    _back,
    _case_page,
    _load_visible,
    _now,
    _runtime,
    _state,
    candidates,
)
from ombud.web.forms import Form, FormError, first, read_form

log = logging.getLogger(__name__)
router = APIRouter(tags=["console"], include_in_schema=False)


Work = Callable[[Session, DataRequest, Form], str]


class ActionRefusedError(Exception):
    """An action refused with a message for the person at the console (400)."""


async def _act(
    request: Request,
    request_id: str,
    user: CurrentUser,
    action: str,
    work: Work,
    *,
    then_run: bool = False,
) -> Response:
    """Check, read the form, do ``work`` in one transaction, and answer the way every
    action does (see the module). ``work`` returns the ``done`` message's key."""
    lang = console_language(request)
    state = _state(request)
    with store.transaction(state.engine) as session:
        row = _load_visible(session, request_id, user)
        if not can(user, action, controller_id=row.controller_id):
            raise AccessDenied()
    try:
        form = await read_form(request)
    except FormError:
        return _case_page(
            request, user, request_id, error=labels(lang)["form_unreadable"], status_code=400
        )
    values = {name: first(form, name) for name in form if name != "csrf_token"}

    def do() -> str:
        with store.transaction(state.engine) as session:
            row = get_request(session, request_id)
            done = work(session, row, form)
        if then_run:
            continued = _continue(state, request_id, user)
            if continued == "queued":
                done = "queued"
        return done

    try:
        done = await run_in_threadpool(do)
    except (RightsError, ActionRefusedError) as exc:
        status_code = 400 if isinstance(exc, InvalidRequestError | ActionRefusedError) else 409
        return _case_page(
            request, user, request_id, error=str(exc), values=values, status_code=status_code
        )
    except MailError as exc:
        log.warning("console action %s on %s: mail not sent: %s", action, request_id, exc)
        return _case_page(request, user, request_id, error=str(exc), values=values, status_code=502)
    return _back(request, request_id, done)


def _continue(state: State, request_id: str, user: CurrentUser) -> str:
    """Run the request on: on the worker when there is one, else here and now."""
    worker = state.worker
    if worker is not None:
        worker.submit(request_id)
        return "queued"
    run(state.engine, request_id, _runtime(state, actor=user.actor))
    return "run"


Acting = Annotated[CurrentUser, Depends(require_role(Role.VIEWER))]
CSRF = [Depends(check_csrf)]


@router.post("/admin/requests/{request_id}/verify", dependencies=CSRF)
async def verify(request: Request, request_id: str, user: Acting) -> Response:
    """A handler vouches for the person's identity, saying how."""
    keys: Keys = request.app.state.keys
    now = _now(request)

    def work(session: Session, row: DataRequest, form: Form) -> str:
        mark_verified(
            session, row, keys=keys, actor=user.actor, note=first(form, "verify_note"), now=now
        )
        return "verified"

    return await _act(request, request_id, user, "verify", work)


@router.post("/admin/requests/{request_id}/run", dependencies=CSRF)
async def run_request(request: Request, request_id: str, user: Acting) -> Response:
    """Run every automated step now (on the worker when there is one)."""

    def work(session: Session, row: DataRequest, form: Form) -> str:
        del session, form
        if row.state not in (RequestState.VERIFIED, RequestState.RUNNING, RequestState.AWAITING):
            raise ActionRefusedError(
                f"request {row.id} is {row.state}; only a verified request runs"
            )
        return "run"

    return await _act(request, request_id, user, "run", work, then_run=True)


@router.post("/admin/requests/{request_id}/choose", dependencies=CSRF)
async def choose(request: Request, request_id: str, user: Acting) -> Response:
    """A handler says which of the ambiguous rows of a system are the person's."""
    state = _state(request)
    t = labels(console_language(request))

    def work(session: Session, row: DataRequest, form: Form) -> str:
        system_id = first(form, "system")
        found, problem = candidates(state, row, system_id)
        if problem is not None:
            raise ActionRefusedError(
                t["choose_unavailable"].format(system=system_id, error=problem)
            )
        chosen = set(form.get("row", []))
        by_collection: dict[str, list[list[object]]] = {c.collection: [] for c in found}
        for candidate in found:
            if candidate.key in chosen:
                by_collection[candidate.collection].append(json.loads(candidate.key))
        for collection, keys in by_collection.items():
            decisions.choose_rows(
                session,
                row,
                system_id=system_id,
                collection=collection,
                keys=keys,
                actor=user.actor,
            )
        return "rows_chosen"

    return await _act(request, request_id, user, "choose_rows", work, then_run=True)


@router.post("/admin/requests/{request_id}/objection", dependencies=CSRF)
async def decide_objection(request: Request, request_id: str, user: Acting) -> Response:
    """The DPO upholds or overrides an Art. 21(1) objection, with reasons."""
    keys: Keys = request.app.state.keys
    now = _now(request)
    t = labels(console_language(request))

    def work(session: Session, row: DataRequest, form: Form) -> str:
        outcome = first(form, "outcome")
        if outcome not in ("upheld", "overridden"):
            raise ActionRefusedError(t["objection_choose"])
        decisions.decide_objection(
            session,
            row,
            activity_id=first(form, "activity"),
            upheld=outcome == "upheld",
            grounds=first(form, "grounds"),
            actor=user.actor,
            keys=keys,
            now=now,
        )
        return "objection"

    return await _act(request, request_id, user, "decide_objection", work, then_run=True)


@router.post("/admin/requests/{request_id}/extend", dependencies=CSRF)
async def extend(request: Request, request_id: str, user: Acting) -> Response:
    """The DPO extends the deadline by two months; the person is mailed the reasons."""
    state = _state(request)
    now = _now(request)

    def work(session: Session, row: DataRequest, form: Form) -> str:
        decisions.extend(
            session,
            row,
            reason=first(form, "extend_reason"),
            actor=user.actor,
            now=now,
            keys=state.keys,
            mail=state.mail,
        )
        return "extended"

    return await _act(request, request_id, user, "extend", work)


@router.post("/admin/requests/{request_id}/refuse", dependencies=CSRF)
async def refuse(request: Request, request_id: str, user: Acting) -> Response:
    """The DPO refuses with reasons; the person is told of the right to complain."""
    state = _state(request)
    now = _now(request)

    def work(session: Session, row: DataRequest, form: Form) -> str:
        decisions.refuse(
            session,
            row,
            reason=first(form, "refuse_reason"),
            register=state.register.current().register,
            actor=user.actor,
            now=now,
            keys=state.keys,
            mail=state.mail,
        )
        return "refused"

    return await _act(request, request_id, user, "refuse", work)


@router.post("/admin/requests/{request_id}/rectify", dependencies=CSRF)
async def rectify(request: Request, request_id: str, user: Acting) -> Response:
    """A handler enters corrections next to found values; they are applied by a run."""
    state = _state(request)
    now = _now(request)
    t = labels(console_language(request))

    def work(session: Session, row: DataRequest, form: Form) -> str:
        rows = keyed_rows(row, state.keys)
        corrections: list[tuple[str, str, list[object], str, str]] = []
        for name, values in form.items():
            if not name.startswith("fix-") or not values or not values[0].strip():
                continue
            index, _, column = name[len("fix-") :].partition("-")
            if not index.isdigit() or int(index) >= len(rows):
                continue
            system_id, collection, key, columns = rows[int(index)]
            if column not in columns:
                continue
            corrections.append((system_id, collection, key, column, values[0].strip()))
        if not corrections:
            raise ActionRefusedError(t["rectify_none"])
        decisions.rectify(
            session,
            row,
            corrections=corrections,
            register=state.register.current().register,
            keys=state.keys,
            actor=user.actor,
            now=now,
        )
        return "rectified"

    return await _act(request, request_id, user, "rectify", work, then_run=True)


def keyed_rows(row: DataRequest, keys: Keys) -> list[tuple[str, str, list[object], frozenset[str]]]:
    """(system, collection, primary key, columns) of each found row, in the order of
    :func:`ombud.rights.answer.found_rows`: the rectify form names rows by position, so
    no primary key travels through the page."""
    keyed: list[tuple[str, str, list[object], frozenset[str]]] = []
    for step in row.steps:
        if step.action != StepAction.FIND or step.payload is None:
            continue
        stored = json.loads(keys.decrypt(step.payload, context=f"{row.id}:{step.system_id}"))
        keyed.extend(
            (step.system_id, r["collection"], list(r["key"]), frozenset(r["values"]))
            for r in stored
        )
    return keyed


@router.post("/admin/requests/{request_id}/task", dependencies=CSRF)
async def complete_task(request: Request, request_id: str, user: Acting) -> Response:
    """The owner of a manual task reports it done, or not possible with a note."""
    now = _now(request)

    def work(session: Session, row: DataRequest, form: Form) -> str:
        decisions.complete_task(
            session,
            row,
            system_id=first(form, "system"),
            actor=user.actor,
            now=now,
            failed=first(form, "outcome") == "failed",
            note=first(form, "task_note").strip() or None,
        )
        return "task"

    return await _act(request, request_id, user, "complete_task", work, then_run=True)


@router.post("/admin/requests/{request_id}/send", dependencies=CSRF)
async def send_answer(request: Request, request_id: str, user: Acting) -> Response:
    """Mail the person a fresh single-use link to the packaged answer."""
    state = _state(request)
    settings: Settings = state.settings
    now = _now(request)
    t = labels(console_language(request))

    def work(session: Session, row: DataRequest, form: Form) -> str:
        del form
        if not send_link(
            session,
            row,
            keys=state.keys,
            mail=state.mail,
            base_url=settings.base_url,
            now=now,
            actor=user.actor,
        ):
            raise ActionRefusedError(t["send_no_email"])
        return "sent"

    return await _act(request, request_id, user, "send_answer", work)


@router.post("/admin/requests/{request_id}/download", dependencies=CSRF)
def download_extract(request: Request, request_id: str, user: Acting) -> Response:
    """The packaged answer as its zip file, for a handler to deliver otherwise; audited."""
    state = _state(request)
    with store.transaction(state.engine) as session:
        row = _load_visible(session, request_id, user)
        if not can(user, "download_extract", controller_id=row.controller_id):
            raise AccessDenied()
        extract = session.scalars(
            select(Extract).where(Extract.request_id == row.id).order_by(Extract.id.desc())
        ).first()
        if extract is not None and extract.content is not None:
            content = state.keys.decrypt_bytes(extract.content, context=f"{row.id}:extract")
            filename = extract.filename
            audit.append(
                session,
                actor=user.actor,
                action="request.extract_downloaded",
                object_id=f"request:{row.id}",
            )
        else:
            content = None
    if content is None:
        t = labels(console_language(request))
        return _case_page(request, user, request_id, error=t["download_gone"], status_code=404)
    return Response(
        content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/admin/requests/{request_id}/lift", dependencies=CSRF)
async def lift(request: Request, request_id: str, user: Acting) -> Response:
    """Lift a completed restriction once the person is told (Art. 18(3))."""
    state = _state(request)
    with store.transaction(state.engine) as session:
        row = _load_visible(session, request_id, user)
        if not can(user, "lift_restriction", controller_id=row.controller_id):
            raise AccessDenied()
    try:
        form = await read_form(request)
    except FormError:
        form = {}
    told_otherwise = first(form, "told") == "1"

    def tell(subject: DataRequest) -> bool:
        addresses = [v for k, v in plaintext_identifiers(subject, state.keys) if k == "email"]
        if addresses:
            title, text = lifting_notice(subject)
            state.mail.send(
                Mail(to=addresses[0], subject=title, text=text, language=subject.language)
            )
            return True
        return told_otherwise

    def do() -> None:
        lift_restriction(state.engine, request_id, _runtime(state, actor=user.actor), tell=tell)

    try:
        await run_in_threadpool(do)
    except (RightsError, MailError, ConnectorError) as exc:
        return _case_page(request, user, request_id, error=str(exc), status_code=409)
    return _back(request, request_id, "lifted")
