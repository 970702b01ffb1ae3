"""Users and API keys in the console: for administrators of all of Ombud only.

A new key, and a password Ombud makes for a new user, are shown once, in the
answer to the form that created them (never cached) and nowhere else: only
their hashes are stored.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ombud import store
from ombud.register.model import Register
from ombud.store.apikeys import ApiKeyError, Scope, create_key, list_keys, parse_scopes, revoke_key
from ombud.store.users import (
    User,
    UserError,
    create_user,
    disable_user,
    list_users,
    parse_role,
)
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

router = APIRouter(tags=["console"], include_in_schema=False)

#: Length of a password Ombud makes: about 128 bits in URL-safe characters.
GENERATED_PASSWORD_BYTES = 16

Admin = Annotated[CurrentUser, Depends(require_role(PERMISSIONS["manage_users"]))]
KeyAdmin = Annotated[CurrentUser, Depends(require_role(PERMISSIONS["manage_api_keys"]))]


def _user_row(user: User, lang: str) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "role": code(lang, "role", user.role),
        "controller": user.controller_id or "",
        "created": local_time(user.created_at),
        "active": user.active,
    }


def _page(
    request: Request,
    user: CurrentUser,
    *,
    done: str | None = None,
    error: str | None = None,
    created_user: dict[str, str] | None = None,
    created_key: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = console_language(request)
    t = labels(lang)
    register: Register = request.app.state.register.current().register
    manage_keys = can(user, "manage_api_keys")
    with store.transaction(request.app.state.engine) as session:
        users = [_user_row(u, lang) for u in list_users(session)]
        keys = (
            [
                {
                    "id": k.id,
                    "name": k.name,
                    "scopes": [code(lang, "scope", s) for s in k.scopes],
                    "created": local_time(k.created_at),
                    "last_used": local_time(k.last_used_at),
                    "active": k.active,
                }
                for k in list_keys(session)
            ]
            if manage_keys
            else []
        )
    return console_page(
        request,
        "admin/users.html.j2",
        user=user,
        lang=lang,
        t=t,
        nav="users",
        title=t["users_title"],
        status_code=status_code,
        headers={"Referrer-Policy": "no-referrer"},
        users=users,
        keys=keys,
        manage_keys=manage_keys,
        roles=[r.value for r in Role],
        controllers=[c.id for c in register.organisation.controllers],
        scopes=[s.value for s in Scope],
        done=t.get(done) if done else None,
        error=error,
        created_user=created_user,
        created_key=created_key,
        values=values or {},
    )


def _check(user: CurrentUser, action: str) -> None:
    if not can(user, action):
        raise AccessDenied()


def _back(request: Request, done: str) -> RedirectResponse:
    lang = console_language(request)
    root = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(f"{root}/admin/users?lang={lang}&done={done}", status_code=303)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(
    request: Request, user: Admin, done: Annotated[str | None, Query()] = None
) -> HTMLResponse:
    """Every user and API key, with the forms to add, disable, create and revoke."""
    _check(user, "manage_users")
    return _page(request, user, done=done if done in ("user_disabled", "key_revoked") else None)


@router.post("/admin/users", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def add_user(request: Request, user: Admin) -> HTMLResponse:
    """Add a user with a role and, optionally, the one controller it is limited to."""
    _check(user, "manage_users")
    t = labels(console_language(request))
    try:
        form = await read_form(request)
    except FormError:
        return _page(request, user, error=t["form_unreadable"], status_code=400)
    values = {k: first(form, k) for k in ("email", "role", "controller")}
    password = first(form, "password")
    generated = not password
    if generated:
        password = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
    register: Register = request.app.state.register.current().register
    controller = first(form, "controller") or None
    if controller is not None and controller not in {
        c.id for c in register.organisation.controllers
    }:
        return _page(
            request,
            user,
            error=f"unknown controller {controller!r}",
            values=values,
            status_code=400,
        )
    now = config(request).clock()

    def add() -> str:
        with store.transaction(request.app.state.engine) as session:
            created = create_user(
                session,
                email=first(form, "email"),
                password=password,
                role=parse_role(first(form, "role")),
                controller_id=controller,
                actor=user.actor,
                now=now,
            )
            return created.email

    try:
        email = await run_in_threadpool(add)
    except UserError as exc:
        return _page(request, user, error=str(exc), values=values, status_code=400)
    return _page(
        request,
        user,
        created_user={"email": email, "password": password if generated else ""},
    )


@router.post("/admin/users/{user_id}/disable", dependencies=[Depends(check_csrf)])
def disable(request: Request, user_id: int, user: Admin) -> Response:
    """Disable a user and end its sessions; an administrator cannot lock themself out."""
    _check(user, "manage_users")
    t = labels(console_language(request))
    if user_id == user.id:
        return _page(request, user, error=t["cannot_disable_self"], status_code=400)
    now = config(request).clock()
    with store.transaction(request.app.state.engine) as session:
        target = session.get(User, user_id)
        if target is not None:
            disable_user(session, target.email, actor=user.actor, now=now)
    if target is None:
        return _page(request, user, error=f"no user {user_id}", status_code=404)
    return _back(request, "user_disabled")


@router.post("/admin/keys", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def add_key(request: Request, user: KeyAdmin) -> HTMLResponse:
    """Create an API key with scopes; the key is in this answer and nowhere else."""
    _check(user, "manage_api_keys")
    t = labels(console_language(request))
    try:
        form = await read_form(request)
    except FormError:
        return _page(request, user, error=t["form_unreadable"], status_code=400)
    now: dt.datetime = config(request).clock()

    def create() -> tuple[str, str]:
        scopes = parse_scopes(list(form.get("scopes", [])))
        with store.transaction(request.app.state.engine) as session:
            new = create_key(
                session, name=first(form, "name"), scopes=scopes, actor=user.actor, now=now
            )
            return new.row.name, new.key

    try:
        name, key = await run_in_threadpool(create)
    except ApiKeyError as exc:
        return _page(
            request,
            user,
            error=str(exc),
            values={"key_name": first(form, "name")},
            status_code=400,
        )
    return _page(request, user, created_key={"name": name, "key": key})


@router.post("/admin/keys/{key_id}/revoke", dependencies=[Depends(check_csrf)])
def revoke(request: Request, key_id: int, user: KeyAdmin) -> Response:
    """Revoke an API key at once."""
    _check(user, "manage_api_keys")
    now = config(request).clock()
    try:
        with store.transaction(request.app.state.engine) as session:
            revoke_key(session, key_id, actor=user.actor, now=now)
    except ApiKeyError as exc:
        return _page(request, user, error=str(exc), status_code=404)
    return _back(request, "key_revoked")
