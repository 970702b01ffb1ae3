"""Who is logged in to the console and what they may do: the contract console pages build on.

A console route declares its minimum role and, when it changes anything, the
CSRF check::

    @router.post("/admin/requests/{id}/verify", dependencies=[Depends(check_csrf)])
    def verify(id: str, user: CurrentUser = Depends(require_role(Role.HANDLER))) -> ...:
        if not can(user, "verify", controller_id=request_controller):
            raise AccessDenied()

- No session, or one that has ended (idle or past its lifetime), or a user
  since disabled: an HTML request is sent (303) to ``/admin/login?next=<path>``,
  a request with ``Accept: application/json`` gets 401.
- A user below the route's role, or failing :func:`can`: 403, a page saying so.
- A POST, PUT, PATCH or DELETE without the session's CSRF token (form field
  ``csrf_token`` or header ``X-CSRF-Token``): 403. Templates put
  ``csrf_token(request)`` in every form.

The session lives in the ``ombud_session`` cookie (see
:mod:`ombud.web.admin.login`); the policy (idle timeout, lifetime, throttling)
and the clock are in ``app.state.console`` (:class:`ConsoleConfig`), the seam
through which tests move time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final
from urllib.parse import parse_qsl, quote

from fastapi import HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine

from ombud import store
from ombud.store.crypto import Keys
from ombud.store.users import LoginPolicy, Role, SessionPolicy, resolve_session
from ombud.web.forms import MAX_FORM_BYTES, same_origin
from ombud.web.language import negotiate

__all__ = [
    "CONSOLE_LANGUAGES",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "GLOBAL_ACTIONS",
    "PERMISSIONS",
    "SESSION_COOKIE",
    "AccessDenied",
    "ConsoleConfig",
    "CurrentUser",
    "LoginRequired",
    "Role",
    "can",
    "check_csrf",
    "config",
    "console_language",
    "console_page",
    "csrf_token",
    "current_user",
    "denied_page",
    "require_role",
    "wants_json",
]

SESSION_COOKIE: Final = "ombud_session"
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


@dataclass(frozen=True)
class CurrentUser:
    """The logged-in user of this request."""

    id: int
    email: str
    role: Role
    #: The one controller whose requests this user sees; None: every controller.
    controller_id: str | None

    @property
    def actor(self) -> str:
        """How the audit log names this user (never by e-mail)."""
        return f"user:{self.id}"


#: Console actions and the least role that may take them (viewer < handler < dpo < admin).
#: The register has no action: it is edited in git and published from there.
PERMISSIONS: dict[str, Role] = {
    # Reading: the dashboard, requests, register, consent ledger and audit log.
    "view": Role.VIEWER,
    # Checking the chain changes nothing and is what an auditor is for.
    "verify_audit": Role.VIEWER,
    # Case handling: what customer service does with a request.
    "create_request": Role.HANDLER,
    "verify": Role.HANDLER,
    "run": Role.HANDLER,
    # Saying which of an ambiguous match's rows are the person's settles a case to run on.
    "choose_rows": Role.HANDLER,
    "rectify": Role.HANDLER,
    "complete_task": Role.HANDLER,
    "send_answer": Role.HANDLER,
    # The extract is the subject's personal data: not for read-only users.
    "download_extract": Role.HANDLER,
    # Decisions with legal weight and reasons: the DPO's.
    "decide_objection": Role.DPO,
    "extend": Role.DPO,
    "refuse": Role.DPO,
    # Art. 18(3): the restriction the person asked for ends only by the controller's decision.
    "lift_restriction": Role.DPO,
    # Who gets in.
    "manage_users": Role.ADMIN,
    "manage_api_keys": Role.ADMIN,
}

#: Actions over all of Ombud, not one controller's requests: a user limited to a
#: controller never takes them, whatever its role (else it could widen its own reach).
GLOBAL_ACTIONS: frozenset[str] = frozenset({"manage_users", "manage_api_keys"})


def can(user: CurrentUser, action: str, *, controller_id: str | None = None) -> bool:
    """Whether ``user`` may take ``action`` (a key of :data:`PERMISSIONS`).

    ``controller_id`` is the controller of the request acted on; a user limited
    to a controller acts only on that controller's requests, while a user with
    no controller (the lead's DPO) acts on all. Raises ``KeyError`` for an
    action that does not exist, so a typo fails loudly rather than denying.
    """
    minimum = PERMISSIONS[action]
    if user.role < minimum:
        return False
    if user.controller_id is None:
        return True
    if action in GLOBAL_ACTIONS:
        return False
    return controller_id is None or controller_id == user.controller_id


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class ConsoleConfig:
    """The console's session and login policy, and its clock (``app.state.console``)."""

    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    logins: LoginPolicy = field(default_factory=LoginPolicy)
    clock: Callable[[], dt.datetime] = _utcnow


def config(request: Request) -> ConsoleConfig:
    """The app's console configuration (defaults when the app set none)."""
    found = getattr(request.app.state, "console", None)
    return found if isinstance(found, ConsoleConfig) else ConsoleConfig()


class LoginRequired(HTTPException):
    """No live session: 303 to the login page (401 for JSON clients)."""

    def __init__(self, request: Request) -> None:
        if wants_json(request):
            super().__init__(status.HTTP_401_UNAUTHORIZED, detail="log in to the console first")
        else:
            super().__init__(
                status.HTTP_303_SEE_OTHER,
                detail="log in to the console first",
                headers={"Location": login_location(request)},
            )


class AccessDenied(HTTPException):
    """A logged-in user who may not do this: 403, shown as a page to browsers."""

    def __init__(
        self, detail: str = "your role does not allow this", *, csrf: bool = False
    ) -> None:
        super().__init__(status.HTTP_403_FORBIDDEN, detail=detail)
        #: The refusal is for a missing or wrong CSRF token, not the role.
        self.csrf = csrf


def wants_json(request: Request) -> bool:
    """Whether the client asked for JSON rather than a page."""
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept


def login_location(request: Request) -> str:
    """``/admin/login?next=<this path and query>``, under the app's root path."""
    root: str = request.scope.get("root_path", "").rstrip("/")
    here = request.url.path
    if request.url.query:
        here += "?" + request.url.query
    return f"{root}/admin/login?next={quote(here, safe='/')}"


@dataclass(frozen=True)
class _Resolved:
    user: CurrentUser
    csrf_secret: str


_STATE_KEY = "ombud_console_session"
_NOT_LOOKED_UP = object()


def _resolve(request: Request) -> _Resolved | None:
    """The request's live session, looked up once per request (cached on request.state)."""
    cached = getattr(request.state, _STATE_KEY, _NOT_LOOKED_UP)
    if cached is not _NOT_LOOKED_UP:
        assert cached is None or isinstance(cached, _Resolved)
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    resolved: _Resolved | None = None
    if token:
        console = config(request)
        engine: Engine = request.app.state.engine
        with store.transaction(engine) as session:
            found = resolve_session(session, token, now=console.clock(), policy=console.sessions)
            if found is not None:
                row, user = found
                resolved = _Resolved(
                    CurrentUser(
                        id=user.id,
                        email=user.email,
                        role=Role(user.role),
                        controller_id=user.controller_id,
                    ),
                    row.csrf_secret,
                )
    setattr(request.state, _STATE_KEY, resolved)
    return resolved


def current_user(request: Request) -> CurrentUser | None:
    """The logged-in user of ``request``, or None; for pages that also serve anonymous people."""
    resolved = _resolve(request)
    return resolved.user if resolved is not None else None


def require_role(minimum: Role) -> Callable[..., CurrentUser]:
    """A dependency giving the logged-in user once their role is at least ``minimum``.

    No live session: :class:`LoginRequired` (303 to the login page, 401 for
    JSON). A lower role: :class:`AccessDenied` (403).
    """

    def logged_in(request: Request) -> CurrentUser:
        resolved = _resolve(request)
        if resolved is None:
            raise LoginRequired(request)
        if resolved.user.role < minimum:
            raise AccessDenied(f"this needs the role {minimum.value} or higher")
        return resolved.user

    logged_in.__name__ = f"require_{minimum.value}"
    return logged_in


def _csrf_key(keys: Keys) -> bytes:
    return hmac.new(keys.hmac_key, b"ombud console csrf v1", hashlib.sha256).digest()


def _csrf_for(request: Request, secret: str) -> str:
    keys: Keys = request.app.state.keys
    return hmac.new(_csrf_key(keys), secret.encode("ascii"), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The CSRF token of this request's session, for a hidden ``csrf_token`` field.

    Bound to the session: it changes at every login and is useless with any
    other session. Raises :class:`LoginRequired` when there is no session.
    """
    resolved = _resolve(request)
    if resolved is None:
        raise LoginRequired(request)
    return _csrf_for(request, resolved.csrf_secret)


async def check_csrf(request: Request) -> None:
    """A dependency refusing (403) a state-changing request without its session's CSRF token.

    Safe methods pass. Without a session the caller is sent to log in, as
    :func:`require_role` does. The token comes from the ``X-CSRF-Token``
    header or the urlencoded form field ``csrf_token``; reading the form leaves
    the body readable for the route (``ombud.web.forms.read_form``). A post
    whose ``Origin`` is another site is refused too.
    """
    if request.method in _SAFE_METHODS:
        return
    resolved = await run_in_threadpool(_resolve, request)
    if resolved is None:
        raise LoginRequired(request)
    if not same_origin(request, request.app.state.settings.base_url):
        raise AccessDenied("the form was sent from another site", csrf=True)
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None:
        supplied = await _form_field(request, CSRF_FIELD)
    if not supplied or not hmac.compare_digest(
        supplied.encode("utf-8", "replace"), _csrf_for(request, resolved.csrf_secret).encode()
    ):
        raise AccessDenied(
            "the form's security token is missing or out of date; reload the page and try again",
            csrf=True,
        )


async def _form_field(request: Request, name: str) -> str | None:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return None
    length = request.headers.get("content-length", "")
    # Browsers always send the length of a form; without it the body is not read at all.
    if not length.isdigit() or int(length) > MAX_FORM_BYTES:
        return None
    # Request.body() keeps the bytes, so the route can read the form again.
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None
    return next((value for key, value in pairs if key == name), None)


#: The languages the console speaks.
CONSOLE_LANGUAGES: Final = ("sv", "en")


def console_language(request: Request) -> str:
    """``?lang=`` if the console speaks it, else the best of Accept-Language, else Swedish."""
    return negotiate(
        list(CONSOLE_LANGUAGES),
        request.query_params.get("lang"),
        request.headers.get("accept-language"),
    )


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("ombud.web", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def console_page(
    request: Request,
    template: str,
    *,
    user: CurrentUser | None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` (which extends ``admin/base.html.j2``) as a console page.

    Fills what the layout needs: ``lang``, ``user``, ``csrf_token`` (with a
    user), ``base`` and ``path``; ``context`` adds to or overrides them (e.g.
    ``nav="requests"``, ``title=...``). Console pages are never cached.
    """
    lang = str(context.pop("lang", None) or console_language(request))
    values: dict[str, Any] = {
        "lang": lang,
        "user": user,
        "csrf_token": csrf_token(request) if user is not None else "",
        "base": request.scope.get("root_path", "").rstrip("/"),
        "path": request.url.path,
        **context,
    }
    page = _environment().get_template(template).render(**values)
    return HTMLResponse(
        page,
        status_code=status_code,
        headers={
            "Content-Language": lang,
            "Vary": "Accept-Language, Cookie",
            "Cache-Control": "no-store",
            **(headers or {}),
        },
    )


_DENIED_PAGE = """{% extends "admin/base.html.j2" %}
{% block title %}{{ heading }}{% endblock %}
{% block content %}
<h1>{{ heading }}</h1>
<p>{{ message }}</p>
<p><a href="{{ base }}/admin?lang={{ lang }}">{{ back }}</a></p>
{% endblock %}
"""

_DENIED_TEXT = {
    "sv": {
        "heading": "Du har inte behörighet",
        "message": "Din roll ger inte tillgång till den här sidan eller åtgärden. Be en "
        "administratör om behörighet om du behöver den.",
        "csrf": "Formuläret kunde inte tas emot: det har gått ut eller skickades inte "
        "härifrån. Ladda om sidan och försök igen.",
        "back": "Till översikten",
    },
    "en": {
        "heading": "Not allowed",
        "message": "Your role does not give access to this page or action. Ask an "
        "administrator if you need it.",
        "csrf": "The form could not be accepted: it has expired or was not sent from here. "
        "Reload the page and try again.",
        "back": "To the dashboard",
    },
}


def denied_page(request: Request, exc: AccessDenied) -> HTMLResponse:
    """The 403 page for ``exc``, in the console's layout (for the app's exception handler)."""
    lang = console_language(request)
    text = _DENIED_TEXT[lang]
    user = current_user(request)
    message = text["csrf"] if exc.csrf else text["message"]
    page = _environment().from_string(_DENIED_PAGE)
    values: dict[str, Any] = {
        "lang": lang,
        "user": user,
        "csrf_token": csrf_token(request) if user is not None else "",
        "base": request.scope.get("root_path", "").rstrip("/"),
        "heading": text["heading"],
        "message": message,
        "back": text["back"],
    }
    return HTMLResponse(
        page.render(**values),
        status_code=exc.status_code,
        headers={"Content-Language": lang, "Cache-Control": "no-store"},
    )
