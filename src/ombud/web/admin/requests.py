"""The console's requests: the filterable list and the case page (its actions: case_actions).

Every action is a POST carrying the session's CSRF token, allowed by
:func:`~ombud.web.admin.auth.can` for the request's controller, done by one
call of the rights service, and answered with a redirect back to the case
page and a message (``?done=...``). A domain error (RightsError, a mail that
could not be sent) shows the case page again with the error in words and the
form as it was filled in: never a traceback. A request of a controller the
user does not act for is "not found" (404): its existence is not revealed.

The found rows, the identifiers and what the person wrote are decrypted only
for a user who may ``view`` the request's controller, only into the page, and
never logged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Collection
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import State

from ombud import store
from ombud.connectors import ConnectorError, Lookup, spec_from_register, traverse
from ombud.register.model import Register
from ombud.rights.answer import found_rows
from ombud.rights.deadlines import Deadline, swedish_date
from ombud.rights.errors import RequestNotFoundError, RightsError
from ombud.rights.execution import Runtime
from ombud.rights.intake import (
    NewRequest,
    count_requests,
    create_request,
    get_request,
    list_requests,
    plaintext_identifiers,
)
from ombud.rights.matching import narrow
from ombud.rights.models import (
    Channel,
    DataRequest,
    Extract,
    ManualTask,
    RequestState,
    RequestType,
    Restriction,
    StepState,
)
from ombud.rights.plan import StepAction
from ombud.rights.states import OPEN_STATES
from ombud.settings import Settings
from ombud.store.crypto import Keys
from ombud.store.models import AuditEntry
from ombud.web.admin.auth import (
    PERMISSIONS,
    AccessDenied,
    CurrentUser,
    Role,
    can,
    check_csrf,
    config,
    console_language,
    console_page,
    require_role,
)
from ombud.web.admin.labels import code, labels, local_time
from ombud.web.forms import FormError, first, read_form
from ombud.worker import runtime_from_settings

log = logging.getLogger(__name__)

router = APIRouter(tags=["console"], include_in_schema=False)

#: Rows per page of the list.
PAGE_SIZE = 50
#: Within this many days of the due date a request is "due soon".
SOON_DAYS = 7
IDENTIFIER_FIELDS = ("email", "phone", "personnummer", "customer_id")


Viewer = Annotated[CurrentUser, Depends(require_role(Role.VIEWER))]


def _now(request: Request) -> dt.datetime:
    return config(request).clock()


def _state(request: Request) -> State:
    state: State = request.app.state
    return state


def _register(request: Request) -> Register:
    register: Register = request.app.state.register.current().register
    return register


def visible(user: CurrentUser, row: DataRequest) -> bool:
    """Whether ``user`` may see request ``row`` at all."""
    return can(user, "view", controller_id=row.controller_id)


def visible_controllers(user: CurrentUser) -> list[str] | None:
    """The controllers whose requests ``user`` may see, for a query; None: every one.

    The same rule as :func:`visible`, said in SQL's terms: a user limited to a
    controller sees that controller's requests only.
    """
    return None if user.controller_id is None else [user.controller_id]


# --- rows of the list and the dashboard ----------------------------------------------------


def deadline_of(row: DataRequest) -> Deadline:
    return Deadline(swedish_date(row.received_at), row.due_on, row.extended_due_on)


def _days_left(t: dict[str, str], days: int) -> str:
    return t["day_left"] if days == 1 else t["days_left"].format(days=days)


def request_rows(rows: list[DataRequest], *, today: dt.date, lang: str) -> list[dict[str, Any]]:
    """What the request tables show, deadline status in words (never colour alone)."""
    t = labels(lang)
    shown: list[dict[str, Any]] = []
    for row in rows:
        deadline = deadline_of(row)
        left = deadline.days_remaining(today)
        is_open = RequestState(row.state) in OPEN_STATES
        if not is_open:
            urgency, status = "", ""
        elif left < 0:
            late = t["overdue_day"] if left == -1 else t["overdue_days"].format(days=-left)
            urgency, status = "overdue", late
        elif left == 0:
            urgency, status = "soon", t["due_today"]
        elif left <= SOON_DAYS:
            urgency, status = "soon", f"{t['due_soon']}: {_days_left(t, left)}"
        else:
            urgency, status = "", _days_left(t, left)
        shown.append(
            {
                "id": row.id,
                "type": code(lang, "type", row.type),
                "state": code(lang, "state", row.state),
                "controller": row.controller_id,
                "received": local_time(row.received_at),
                "due": deadline.due.isoformat(),
                "extended": deadline.is_extended,
                "urgency": urgency,
                "status": status,
            }
        )
    return shown


# --- the list ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ListFilters:
    """The list's filters as applied, and the problems of those that could not be."""

    #: ``open``, ``all`` or a state.
    state: str = "open"
    #: A request type, or empty for all.
    type: str = ""
    overdue: str = ""
    controller: str = ""
    page: int = 1
    problems: tuple[str, ...] = ()

    def states(self) -> Collection[RequestState] | None:
        """The states to list; None: every state."""
        if self.state == "all":
            return None
        return OPEN_STATES if self.state == "open" else [RequestState(self.state)]

    def types(self) -> Collection[RequestType] | None:
        """The request types to list; None: every type."""
        return [RequestType(self.type)] if self.type else None

    def controllers(self, user: CurrentUser) -> Collection[str] | None:
        """The controllers whose requests to list: what ``user`` may see, as chosen."""
        seen = visible_controllers(user)
        if seen is None and self.controller:
            return [self.controller]
        return seen

    def query(self) -> dict[str, str]:
        """The filters for a link to another page of the same list."""
        shown = {
            "state": self.state,
            "type": self.type,
            "overdue": self.overdue,
            "controller": self.controller,
        }
        return {k: v for k, v in shown.items() if v}


#: How much of a bad value a message repeats.
_SHOWN_VALUE = 40


def read_filters(
    t: dict[str, str],
    user: CurrentUser,
    *,
    state: str,
    kind: str,
    overdue: str,
    controller: str,
    page: str,
) -> ListFilters:
    """The list's filters from the URL; a value that means nothing is left out and said so."""
    problems: list[str] = []

    def bad(key: str, value: str) -> None:
        problems.append(t[key].format(value=value[:_SHOWN_VALUE]))

    state = state.strip() or "all"
    if state not in {"open", "all", *(s.value for s in RequestState)}:
        bad("filter_bad_state", state)
        state = "all"
    kind = kind.strip()
    if kind and kind not in {k.value for k in RequestType}:
        bad("filter_bad_type", kind)
        kind = ""
    number = 1
    page = page.strip()
    if page:
        try:
            number = int(page)
        except ValueError:
            number = 0
        if number < 1:
            bad("filter_bad_page", page)
            number = 1
    return ListFilters(
        state=state,
        type=kind,
        overdue="1" if overdue else "",
        # A user limited to a controller has no choice of controller.
        controller=controller.strip() if user.controller_id is None else "",
        page=number,
        problems=tuple(problems),
    )


@router.get("/admin/requests", response_class=HTMLResponse)
def request_list(
    request: Request,
    *,
    user: Viewer,
    state: Annotated[str, Query()] = "open",
    type: Annotated[str, Query()] = "",  # noqa: A002 - the filter's name in the URL
    overdue: Annotated[str, Query()] = "",
    controller: Annotated[str, Query()] = "",
    page: Annotated[str, Query()] = "1",
) -> HTMLResponse:
    """Requests filtered by state, type, overdue and controller, the most urgent first.

    The filtering and paging happen in the database. A filter value that means nothing
    (an unknown state or type, a page that is not a number) is left out, and the page
    says so (400) instead of failing.
    """
    lang = console_language(request)
    t = labels(lang)
    today = swedish_date(_now(request))
    register = _register(request)
    filters = read_filters(
        t, user, state=state, kind=type, overdue=overdue, controller=controller, page=page
    )
    states, types, controllers = filters.states(), filters.types(), filters.controllers(user)
    overdue_on = today if filters.overdue else None
    with store.transaction(request.app.state.engine) as session:
        total = count_requests(
            session,
            states=states,
            types=types,
            overdue_on=overdue_on,
            controller_ids=controllers,
        )
        pages = max(1, -(-total // PAGE_SIZE))
        number = min(filters.page, pages)
        shown = list_requests(
            session,
            states=states,
            types=types,
            overdue_on=overdue_on,
            controller_ids=controllers,
            limit=PAGE_SIZE,
            offset=(number - 1) * PAGE_SIZE,
        )
        rows = request_rows(shown, today=today, lang=lang)
    return console_page(
        request,
        "admin/requests.html.j2",
        user=user,
        lang=lang,
        t=t,
        nav="requests",
        title=t["requests_title"],
        status_code=400 if filters.problems else 200,
        error=" ".join(filters.problems),
        rows=rows,
        filters=filters,
        states=[s.value for s in RequestState],
        types=[t.value for t in RequestType],
        controllers=[c.id for c in register.organisation.controllers],
        total=total,
        page=number,
        pages=pages,
        first_row=(number - 1) * PAGE_SIZE + 1,
        last_row=(number - 1) * PAGE_SIZE + len(shown),
        query=filters.query(),
        may_create=can(user, "create_request", controller_id=user.controller_id),
    )


# --- registering a request ------------------------------------------------------------------


def _new_page(
    request: Request,
    user: CurrentUser,
    *,
    values: dict[str, Any],
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = console_language(request)
    register = _register(request)
    controllers = [
        c.id
        for c in register.organisation.controllers
        if user.controller_id is None or c.id == user.controller_id
    ]
    return console_page(
        request,
        "admin/request_new.html.j2",
        user=user,
        lang=lang,
        t=labels(lang),
        nav="requests",
        title=labels(lang)["new_title"],
        status_code=status_code,
        values=values,
        error=error,
        types=[t.value for t in RequestType],
        identifier_fields=IDENTIFIER_FIELDS,
        controllers=controllers,
        languages=register.languages,
        activities=[
            (a.id, a.name.get(lang, register.language), a.direct_marketing)
            for a in register.activities
        ],
    )


@router.get("/admin/requests/new", response_class=HTMLResponse)
def new_request_form(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_role(PERMISSIONS["create_request"]))],
) -> HTMLResponse:
    """The form for a request that came by letter, phone or otherwise."""
    if not can(user, "create_request", controller_id=user.controller_id):
        raise AccessDenied()
    register = _register(request)
    return _new_page(
        request, user, values={"language": register.language, "controller": user.controller_id}
    )


@router.post("/admin/requests/new", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def new_request(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_role(PERMISSIONS["create_request"]))],
) -> Response:
    """Register the request; it starts verified when the handler says how they verified it."""
    lang = console_language(request)
    t = labels(lang)
    try:
        form = await read_form(request)
    except FormError:
        return _new_page(request, user, values={}, error=t["form_unreadable"], status_code=400)
    values: dict[str, Any] = {name: first(form, name) for name in form}
    values["activities"] = form.get("activities", [])
    controller = first(form, "controller") or None
    if user.controller_id is not None:
        controller = user.controller_id
    if not can(user, "create_request", controller_id=controller):
        raise AccessDenied()
    verified = first(form, "verified") == "1"
    new = NewRequest(
        type=first(form, "type"),
        identifiers=[(k, first(form, k)) for k in IDENTIFIER_FIELDS if first(form, k).strip()],
        channel=Channel.HANDLER,
        language=first(form, "language") or None,
        controller_id=controller,
        activities=list(form.get("activities", [])),
        details=first(form, "details").strip() or None,
        verified_note=first(form, "note") if verified else None,
    )
    state = _state(request)
    served = state.register.current()
    now = _now(request)

    def create() -> str:
        with store.transaction(state.engine) as session:
            created = create_request(
                session,
                new,
                register=served.register,
                register_version=served.version,
                keys=state.keys,
                actor=user.actor,
                now=now,
            )
            return created.id

    try:
        request_id = await run_in_threadpool(create)
    except RightsError as exc:
        return _new_page(request, user, values=values, error=str(exc), status_code=400)
    return _back(request, request_id, "created")


# --- the case page ----------------------------------------------------------------------------


def _load_visible(session: Session, request_id: str, user: CurrentUser) -> DataRequest:
    try:
        row = get_request(session, request_id)
    except RequestNotFoundError:
        raise _not_found() from None
    if not visible(user, row):
        raise _not_found()
    return row


class CaseNotFound(HTTPException):
    """A request that does not exist, or one of a controller the user does not act for."""

    def __init__(self) -> None:
        super().__init__(status.HTTP_404_NOT_FOUND, detail="no such request")


def _not_found() -> CaseNotFound:
    return CaseNotFound()


def _decrypt(keys: Keys, value: bytes | None, context: str) -> str | None:
    return None if value is None else keys.decrypt(value, context=context)


def _system_names(register: Register) -> dict[str, str]:
    return {s.id: s.name for s in register.systems} | {"ombud": "Ombud"}


def _activity_name(register: Register, activity_id: str, lang: str) -> str:
    activity = register.activity(activity_id)
    return activity.name.get(lang, register.language) if activity is not None else activity_id


def _step_result(result: dict[str, Any] | None) -> str:
    """A step's figures as short text: ``persons 1, cases 3``."""
    if not result:
        return ""
    parts: list[str] = []

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int | float | str):
            parts.append(f"{prefix} {value}".strip())
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix} {key}".strip() if prefix else str(key), inner)

    walk("", result)
    return ", ".join(parts)


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A row that may be the person's, for a handler to choose."""

    collection: str
    key: str
    values: dict[str, object]


def _runtime(state: State, *, actor: str) -> Runtime:
    settings: Settings = state.settings
    runtime = runtime_from_settings(
        settings, state.keys, mail=state.mail, register=state.register.current().register
    )
    return dataclasses.replace(runtime, actor=actor)


def candidates(
    state: State, row: DataRequest, system_id: str
) -> tuple[list[Candidate], str | None]:
    """The rows of ``system_id`` that could be the person's, read from the system now;
    or the reason they cannot be read."""
    runtime = _runtime(state, actor="console")
    system = next((s for s in runtime.register.systems if s.id == system_id), None)
    if system is None:
        return [], f"the register has no system {system_id!r}"
    values: dict[str, set[str]] = {}
    for kind, value in plaintext_identifiers(row, runtime.keys):
        values.setdefault(kind, set()).add(value)
    lookup = Lookup({kind: frozenset(v) for kind, v in values.items()})
    try:
        spec = spec_from_register(system, environ=runtime.environ, base_dir=runtime.register_dir)
        connector = runtime.connect(spec)
        try:
            traversal = traverse(connector, lookup)
        finally:
            connector.close()
    except ConnectorError as exc:
        return [], str(exc)
    match = narrow(traversal, spec, lookup, None)
    found: list[Candidate] = []
    for collection, keys in match.ambiguous.items():
        wanted = {tuple(k) for k in keys}
        columns = system.collections[collection]
        shown = list(dict.fromkeys([*columns.identity.values(), *columns.fields]))
        found.extend(
            Candidate(
                collection,
                json.dumps(list(r.key), default=str),
                {c: r.values.get(c) for c in shown if c in r.values},
            )
            for r in traversal.found.get(collection, [])
            if r.key in wanted
        )
    return found, None


def _case(
    session: Session,
    state: State,
    row: DataRequest,
    *,
    user: CurrentUser,
    lang: str,
    today: dt.date,
) -> dict[str, Any]:
    """Everything the case page shows of ``row`` for ``user``."""
    register: Register = state.register.current().register
    keys: Keys = state.keys
    controller = row.controller_id
    names = _system_names(register)
    may = {action: can(user, action, controller_id=controller) for action in PERMISSIONS}
    may["create_request"] = False
    is_open = RequestState(row.state) in OPEN_STATES
    deadline = deadline_of(row)
    private = may["view"]
    identifiers = plaintext_identifiers(row, keys) if private else []
    has_email = any(kind == "email" for kind, _ in plaintext_identifiers(row, keys))
    steps = [
        {
            "system": names.get(s.system_id, s.system_id),
            "system_id": s.system_id,
            "action": code(lang, "step", s.action),
            "raw_action": s.action,
            "state": code(lang, "step_state", s.state),
            "raw_state": s.state,
            "attempts": s.attempts,
            "result": _step_result(s.result),
            "error": s.error,
            "ambiguous": bool((s.result or {}).get("ambiguous")) and s.state == StepState.WAITING,
        }
        for s in row.steps
    ]
    tasks = [
        {
            "system_id": task.system_id,
            "system": names.get(task.system_id, task.system_id),
            "owner": task.owner,
            "state": task.state,
            "state_text": code(lang, "task_state", task.state),
            "note": task.note,
            "instructions": next(
                (
                    s.instructions.get(lang, register.language)
                    for s in register.systems
                    if s.id == task.system_id and s.instructions is not None
                ),
                None,
            ),
        }
        for task in session.scalars(
            select(ManualTask).where(ManualTask.request_id == row.id).order_by(ManualTask.id)
        )
    ]
    found = (
        [
            {
                "system": names.get(f.system_id, f.system_id),
                "collection": f.collection,
                "values": f.values,
                "categories": f.categories,
                "legal_hold": f.legal_hold,
                "restricted": f.restricted,
            }
            for f in found_rows(row, keys)
        ]
        if private
        else []
    )
    objection_decisions = (row.decisions or {}).get("objection") or {}
    decided = [
        {
            "activity": _activity_name(register, activity_id, lang),
            "upheld": bool(decision.get("upheld")),
            "grounds": keys.decrypt(bytes.fromhex(decision["grounds"]), context=row.id)
            if private and decision.get("grounds")
            else "",
        }
        for activity_id, decision in objection_decisions.items()
    ]
    undecided: list[tuple[str, str]] = []
    if row.type == RequestType.OBJECTION and row.steps:
        for activity_id in row.activities or []:
            activity = register.activity(activity_id)
            if (
                activity is not None
                and not activity.direct_marketing
                and activity_id not in objection_decisions
            ):
                undecided.append((activity_id, _activity_name(register, activity_id, lang)))
    extract = session.scalars(
        select(Extract).where(Extract.request_id == row.id).order_by(Extract.id.desc())
    ).first()
    restricted = session.scalars(
        select(Restriction.id).where(
            Restriction.request_id == row.id, Restriction.lifted_at.is_(None)
        )
    ).first()
    timeline = [
        {
            "time": local_time(entry.time),
            "action": code(lang, "audit", entry.action),
            "raw_action": entry.action,
            "actor": entry.actor,
            "counts": ", ".join(f"{k} {v}" for k, v in (entry.counts or {}).items()),
        }
        for entry in session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_id == f"request:{row.id}")
            .order_by(AuditEntry.seq)
        )
    ]
    ambiguous = [s["system_id"] for s in steps if s["ambiguous"]]
    return {
        "id": row.id,
        "type": row.type,
        "type_text": code(lang, "type", row.type),
        "state": row.state,
        "state_text": code(lang, "state", row.state),
        "open": is_open,
        "controller": controller,
        "channel": code(lang, "channel", row.channel),
        "language": row.language,
        "received": local_time(row.received_at),
        "due": deadline.due.isoformat(),
        "original_due": row.due_on.isoformat(),
        "deadline": request_rows([row], today=today, lang=lang)[0],
        "extension_reason": row.extension_reason,
        "refusal_reason": row.refusal_reason,
        "closed": local_time(row.closed_at),
        "activities": [_activity_name(register, a, lang) for a in row.activities or []],
        "register_version": row.register_version,
        "verification": code(lang, "verification", row.verification or "none"),
        "verified_at": local_time(row.verified_at),
        "verification_note": _decrypt(keys, row.verification_note, row.id) if private else None,
        "details": _decrypt(keys, row.details, row.id) if private else None,
        "identifiers": identifiers,
        "private": private,
        "steps": steps,
        "tasks": tasks,
        "found": found,
        # Only access, portability and rectification read the person's rows.
        "finds": any(s.action == StepAction.FIND for s in row.steps)
        or row.type in (RequestType.ACCESS, RequestType.PORTABILITY, RequestType.RECTIFICATION),
        "decided": decided,
        "undecided": undecided,
        "ambiguous": ambiguous,
        "extract": extract is not None and extract.content is not None,
        "has_email": has_email,
        "restricted": restricted is not None,
        "timeline": timeline,
        "may": may,
        "can_verify": may["verify"] and row.state == RequestState.RECEIVED,
        "can_run": may["run"]
        and row.state in (RequestState.VERIFIED, RequestState.RUNNING, RequestState.AWAITING),
        "can_extend": may["extend"]
        and is_open
        and row.extended_due_on is None
        and today <= row.due_on,
        "can_refuse": may["refuse"] and is_open,
        "can_rectify": may["rectify"]
        and is_open
        and row.type == RequestType.RECTIFICATION
        and bool(found),
        "can_send": may["send_answer"] and extract is not None and extract.content is not None,
        "can_download": may["download_extract"]
        and extract is not None
        and extract.content is not None,
        "can_lift": may["lift_restriction"]
        and row.type == RequestType.RESTRICTION
        and row.state == RequestState.COMPLETED
        and restricted is not None,
    }


def _case_page(
    request: Request,
    user: CurrentUser,
    request_id: str,
    *,
    done: str | None = None,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = console_language(request)
    state = _state(request)
    today = swedish_date(_now(request))
    with store.transaction(state.engine) as session:
        row = _load_visible(session, request_id, user)
        case = _case(session, state, row, user=user, lang=lang, today=today)
    choices: dict[str, tuple[list[Candidate], str | None]] = {}
    if case["may"]["choose_rows"] and case["open"]:
        with store.transaction(state.engine) as session:
            row = get_request(session, request_id)
        for system_id in case["ambiguous"]:
            choices[system_id] = candidates(state, row, system_id)
    t = labels(lang)
    return console_page(
        request,
        "admin/request.html.j2",
        user=user,
        lang=lang,
        t=t,
        nav="requests",
        title=t["case_title"].format(id=case["id"]),
        status_code=status_code,
        case=case,
        choices=choices,
        system_names=_system_names(_register(request)),
        done=t.get(f"done_{done}") if done else None,
        error=error,
        values=values or {},
    )


@router.get("/admin/requests/{request_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    request_id: str,
    user: Viewer,
    done: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """One request: facts, deadline, identity, steps, found data, timeline and actions."""
    try:
        return _case_page(request, user, request_id, done=done)
    except CaseNotFound:
        lang = console_language(request)
        t = labels(lang)
        return console_page(
            request,
            "admin/not_found.html.j2",
            user=user,
            lang=lang,
            t=t,
            nav="requests",
            title=t["case_missing_title"],
            status_code=404,
        )


# --- actions ----------------------------------------------------------------------------------


def _back(request: Request, request_id: str, done: str) -> RedirectResponse:
    lang = console_language(request)
    root = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(
        f"{root}/admin/requests/{request_id}?lang={lang}&done={done}", status_code=303
    )
