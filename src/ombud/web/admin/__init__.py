"""The admin console under ``/admin``: users log in and act by role.

:mod:`.auth` is the contract console pages build on (``require_role``,
``check_csrf``, ``can``, ``console_page``); :mod:`.login` logs people in and
out. :func:`install` puts both into an app.
"""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from ombud.settings import Settings
from ombud.store.users import SessionPolicy
from ombud.web.admin import login
from ombud.web.admin.auth import (
    AccessDenied,
    ConsoleConfig,
    LoginRequired,
    denied_page,
    wants_json,
)

__all__ = ["install"]


def install(app: FastAPI, settings: Settings) -> None:
    """Add the login routes, the console's policy (``app.state.console``) and its error pages."""
    app.state.console = ConsoleConfig(sessions=_session_policy(settings))
    app.include_router(login.router)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        if exc.status_code != 303 or wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        location = (exc.headers or {}).get("Location", "/admin/login")
        return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})

    async def access_denied(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AccessDenied)
        if wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return denied_page(request, exc)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(AccessDenied, access_denied)


def _session_policy(settings: Settings) -> SessionPolicy:
    """OMBUD_SESSION_IDLE_MINUTES and OMBUD_SESSION_HOURS."""
    return SessionPolicy(
        idle=dt.timedelta(minutes=settings.session_idle_minutes),
        lifetime=dt.timedelta(hours=settings.session_hours),
    )
