"""The audit log in the console: browse and filter it, and verify its chain.

A user limited to one controller sees the entries of that controller's
requests only: the log names no people, but which cases a subsidiary has is
that subsidiary's business.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement, String, func, literal, select
from sqlalchemy.orm import Session

from ombud import audit, store
from ombud.rights.deadlines import STOCKHOLM
from ombud.rights.models import DataRequest
from ombud.store.models import AuditEntry
from ombud.web.admin.auth import (
    PERMISSIONS,
    AccessDenied,
    CurrentUser,
    Role,
    can,
    check_csrf,
    console_language,
    console_page,
    require_role,
)
from ombud.web.admin.labels import code, labels, local_time

router = APIRouter(tags=["console"], include_in_schema=False)

PAGE_SIZE = 50
RECENT = 10


def visible(user: CurrentUser) -> list[ColumnElement[bool]]:
    """Conditions limiting the entries to what ``user`` may see."""
    if user.controller_id is None:
        return []
    theirs = select(literal("request:", String) + DataRequest.id).where(
        DataRequest.controller_id == user.controller_id
    )
    return [AuditEntry.object_id.in_(theirs.scalar_subquery())]


def _entry(entry: AuditEntry, lang: str, root: str) -> dict[str, Any]:
    link = None
    object_id = entry.object_id or ""
    kind, _, ident = object_id.partition(":")
    if kind == "request" and ident:
        link = f"{root}/admin/requests/{ident}?lang={lang}"
    elif kind == "register" and ident:
        link = f"{root}/privacy/history/{ident}"
    return {
        "seq": entry.seq,
        "time": local_time(entry.time),
        "actor": entry.actor,
        "action": code(lang, "audit", entry.action),
        "raw_action": entry.action,
        "object": object_id,
        "link": link,
        "counts": ", ".join(f"{k} {v}" for k, v in (entry.counts or {}).items()),
    }


def recent_entries(
    session: Session, user: CurrentUser, *, lang: str, root: str = ""
) -> list[dict[str, Any]]:
    """The newest entries ``user`` may see, newest first."""
    query = select(AuditEntry).where(*visible(user)).order_by(AuditEntry.seq.desc()).limit(RECENT)
    return [_entry(e, lang, root) for e in session.scalars(query)]


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        raise ValueError(value) from None


def _page(
    request: Request,
    user: CurrentUser,
    *,
    action: str,
    object_id: str,
    actor: str,
    since: str,
    until: str,
    page: int,
    result: dict[str, Any] | None = None,
) -> HTMLResponse:
    lang = console_language(request)
    t = labels(lang)
    root = request.scope.get("root_path", "").rstrip("/")
    conditions = visible(user)
    error = None
    if action.strip():
        conditions.append(AuditEntry.action.startswith(action.strip(), autoescape=True))
    if object_id.strip():
        conditions.append(AuditEntry.object_id.startswith(object_id.strip(), autoescape=True))
    if actor.strip():
        conditions.append(AuditEntry.actor == actor.strip())
    try:
        first_day, last_day = _day(since), _day(until)
    except ValueError:
        first_day = last_day = None
        error = t["audit_bad_date"]
    if first_day is not None:
        conditions.append(
            AuditEntry.time >= dt.datetime.combine(first_day, dt.time(), tzinfo=STOCKHOLM)
        )
    if last_day is not None:
        end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=STOCKHOLM)
        conditions.append(AuditEntry.time < end)
    with store.transaction(request.app.state.engine) as session:
        total = int(
            session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
        )
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(page, pages)
        entries = [
            _entry(e, lang, root)
            for e in session.scalars(
                select(AuditEntry)
                .where(*conditions)
                .order_by(AuditEntry.seq.desc())
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE)
            )
        ]
    filters = {
        "action": action,
        "object": object_id,
        "actor": actor,
        "since": since,
        "until": until,
    }
    return console_page(
        request,
        "admin/audit.html.j2",
        user=user,
        lang=lang,
        t=t,
        nav="audit",
        title=t["audit_title"],
        status_code=400 if error else 200,
        entries=entries,
        filters=filters,
        query={k: v for k, v in filters.items() if v},
        total=total,
        page=page,
        pages=pages,
        first_row=(page - 1) * PAGE_SIZE + 1,
        last_row=(page - 1) * PAGE_SIZE + len(entries),
        error=error,
        result=result,
        may_verify=can(user, "verify_audit"),
    )


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    *,
    user: Annotated[CurrentUser, Depends(require_role(Role.VIEWER))],
    action: Annotated[str, Query()] = "",
    object: Annotated[str, Query()] = "",  # noqa: A002 - the filter's name in the URL
    actor: Annotated[str, Query()] = "",
    since: Annotated[str, Query()] = "",
    until: Annotated[str, Query()] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    """The log, newest first, filtered by action prefix, object, actor and days."""
    return _page(
        request,
        user,
        action=action,
        object_id=object,
        actor=actor,
        since=since,
        until=until,
        page=page,
    )


@router.post("/admin/audit/verify", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def verify_chain(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_role(PERMISSIONS["verify_audit"]))],
) -> HTMLResponse:
    """Walk the whole chain and show whether it is intact, or where it breaks."""
    if not can(user, "verify_audit"):
        raise AccessDenied()
    t = labels(console_language(request))

    def check() -> audit.Verification:
        with store.transaction(request.app.state.engine) as session:
            return audit.verify(session)

    outcome = await run_in_threadpool(check)
    if outcome.ok:
        message = t["chain_ok"].format(checked=outcome.checked)
    else:
        message = t["chain_broken"].format(
            seq=outcome.first_bad_seq, reason=outcome.reason, checked=outcome.checked
        )
    return _page(
        request,
        user,
        action="",
        object_id="",
        actor="",
        since="",
        until="",
        page=1,
        result={"ok": outcome.ok, "message": message},
    )
