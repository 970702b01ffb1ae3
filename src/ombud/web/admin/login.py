"""Logging in to the console and out: ``GET/POST /admin/login``, ``POST /admin/logout``.

- The session cookie ``ombud_session`` is HttpOnly, SameSite=Lax, Path=/admin,
  and Secure when OMBUD_BASE_URL or the request is https.
- Logging in always starts a new session and drops the one the browser sent,
  so a session id planted before login is worthless after it (no fixation).
- The login form carries its own anti-forgery token, tied to a short-lived
  ``ombud_login`` cookie (there is no session yet to tie it to), so another
  site cannot log a browser in to an account of its choosing.
- Wrong password, unknown e-mail, disabled user and a throttled attempt all
  get the same message and status, and cost the same Argon2 check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine

from ombud import store
from ombud.store.crypto import Keys
from ombud.store.users import LoginOutcome, end_session, log_in
from ombud.web.admin.auth import (
    SESSION_COOKIE,
    check_csrf,
    config,
    console_language,
    console_page,
)
from ombud.web.forms import FormError, first, read_form, same_origin
from ombud.web.pages import base_path, client_address

__all__ = ["LOGIN_COOKIE", "router"]

router = APIRouter(tags=["console"], include_in_schema=False)

#: Holds the random value the login form's token is an HMAC of.
LOGIN_COOKIE: Final = "ombud_login"
_LOGIN_COOKIE_AGE = 60 * 60
#: Longer than any e-mail or password a person types; larger forms are refused unread.
_MAX_LOGIN_FORM = 4096

LABELS: dict[str, dict[str, str]] = {
    "sv": {
        "title": "Logga in",
        "intro": "Logga in i Ombuds konsol för att arbeta med ärenden, samtycken och "
        "granskningsloggen.",
        "email": "E-postadress",
        "password": "Lösenord",
        "submit": "Logga in",
        "error_prefix": "Fel",
        "failed": "Inloggningen misslyckades. Kontrollera e-postadressen och lösenordet. "
        "Efter flera misslyckade försök måste du vänta en stund innan du kan försöka igen.",
        "stale": "Sidan hade varit öppen för länge. Försök igen.",
        "logged_out": "Du är utloggad.",
        "help": "Har du glömt lösenordet eller saknar konto? Kontakta en administratör av Ombud.",
    },
    "en": {
        "title": "Log in",
        "intro": "Log in to the Ombud console to work with requests, consent and the audit log.",
        "email": "E-mail address",
        "password": "Password",
        "submit": "Log in",
        "error_prefix": "Error",
        "failed": "Login failed. Check the e-mail address and the password. After several "
        "failed attempts you have to wait a while before trying again.",
        "stale": "The page had been open too long. Please try again.",
        "logged_out": "You are logged out.",
        "help": "Forgotten your password or have no account? Ask an Ombud administrator.",
    },
}


def _secure(request: Request) -> bool:
    base_url: str = request.app.state.settings.base_url
    return base_url.lower().startswith("https://") or request.url.scheme == "https"


def _login_token(keys: Keys, nonce: str) -> str:
    key = hmac.new(keys.hmac_key, b"ombud console login v1", hashlib.sha256).digest()
    return hmac.new(key, nonce.encode("utf-8"), hashlib.sha256).hexdigest()


def safe_next(value: str | None) -> str:
    """``value`` if it is a path inside the console, else ``/admin``: no open redirect."""
    if (
        value
        and value.startswith("/admin")
        and not value.startswith("//")
        and "\\" not in value
        and not any(ord(c) < 0x20 for c in value)
    ):
        path = value.split("?", 1)[0]
        inside = path in {"/admin", "/admin/"} or path.startswith("/admin/")
        if inside and not path.startswith("/admin/login"):
            return value
    return "/admin"


def _form_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    problem: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = console_language(request)
    nonce = request.cookies.get(LOGIN_COOKIE) or ""
    # token_urlsafe(32) is 43 characters; anything else was not made here.
    if len(nonce) != 43:
        nonce = secrets.token_urlsafe(32)
    response = console_page(
        request,
        "admin/login.html.j2",
        user=None,
        status_code=status_code,
        lang=lang,
        t=LABELS[lang],
        title=LABELS[lang]["title"],
        login_token=_login_token(request.app.state.keys, nonce),
        next=next_path,
        email=email,
        problem=problem,
        notice=notice,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=_LOGIN_COOKIE_AGE,
        path=f"{base_path(request)}/admin/login",
        secure=_secure(request),
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/admin/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the query parameter's name
    """The login page. Shown even with a session: logging in again replaces it, and a
    browser that was handed someone else's session can always get out of it.
    """
    lang = console_language(request)
    notice = LABELS[lang]["logged_out"] if "logged_out" in request.query_params else None
    return _form_page(request, next_path=safe_next(next), notice=notice)


@router.post("/admin/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    """Check the e-mail and password; on success a new session and a 303 to ``next``."""
    lang = console_language(request)
    try:
        form = await read_form(request, max_bytes=_MAX_LOGIN_FORM)
    except FormError:
        form = {}
    next_path = safe_next(first(form, "next"))
    email = first(form, "email").strip()
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    keys: Keys = request.app.state.keys
    token_ok = bool(nonce) and hmac.compare_digest(
        first(form, "login_token").encode("utf-8", "replace"), _login_token(keys, nonce).encode()
    )
    if not token_ok or not same_origin(request, request.app.state.settings.base_url):
        return _form_page(
            request,
            next_path=next_path,
            email=email,
            problem=LABELS[lang]["stale"],
            status_code=403,
        )

    console = config(request)
    engine: Engine = request.app.state.engine

    def attempt() -> LoginOutcome:
        with store.transaction(engine) as session:
            return log_in(
                session,
                email=email,
                password=first(form, "password"),
                address=client_address(request),
                previous_token=request.cookies.get(SESSION_COOKIE),
                keys=keys,
                now=console.clock(),
                sessions=console.sessions,
                throttle=console.logins,
            )

    outcome = await run_in_threadpool(attempt)
    if not outcome.ok:
        return _form_page(
            request,
            next_path=next_path,
            email=email,
            problem=LABELS[lang]["failed"],
            status_code=401,
        )
    assert outcome.token is not None
    # The console keeps the language the user logged in with (it has no cookie for it).
    if "lang" in request.query_params and "lang=" not in next_path:
        next_path += f"{'&' if '?' in next_path else '?'}lang={lang}"
    response = RedirectResponse(f"{base_path(request)}{next_path}", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        max_age=int(console.sessions.lifetime.total_seconds()),
        path=f"{base_path(request)}/admin",
        secure=_secure(request),
        httponly=True,
        samesite="lax",
    )
    response.delete_cookie(LOGIN_COOKIE, path=f"{base_path(request)}/admin/login")
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    """End this session (audited as ``user.logout``) and go to the login page."""
    engine: Engine = request.app.state.engine
    with store.transaction(engine) as session:
        end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    lang = console_language(request)
    response = RedirectResponse(
        f"{base_path(request)}/admin/login?logged_out&lang={lang}", status_code=303
    )
    response.delete_cookie(
        SESSION_COOKIE,
        path=f"{base_path(request)}/admin",
        secure=_secure(request),
        httponly=True,
        samesite="lax",
    )
    return response
