"""`create_app(settings)`: the web app, built from settings with nothing done at import."""

from __future__ import annotations

import asyncio
import gc
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.datastructures import State
from starlette.types import Receive, Scope, Send

from ombud import __version__, store
from ombud.consent.writer import ConsentWriter
from ombud.mail import transport_from_settings
from ombud.settings import Settings
from ombud.store.crypto import Keys
from ombud.store.limits import SubmissionLimit
from ombud.web import (
    admin,
    answers,
    banner,
    consent_api,
    consent_page,
    gate,
    portal,
    privacy,
    requests_api,
    signup,
)
from ombud.web.admin import audit as console_audit
from ombud.web.admin import case_actions as console_case_actions
from ombud.web.admin import consent as console_consent
from ombud.web.admin import dashboard as console_dashboard
from ombud.web.admin import register as console_register
from ombud.web.admin import requests as console_requests
from ombud.web.admin import users as console_users
from ombud.web.forms import SubmissionLimiter
from ombud.web.headers import SecurityHeaders
from ombud.web.registry import RegisterSource
from ombud.worker import InlineWorker, runtime_from_settings
from ombud.worker.inline import Periodic
from ombud.worker.lead import RETRY_SECONDS, Leadership

#: The server's log lines (``ombud serve``).
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"

#: How often the lead looks for requests verified in another process (OMBUD_AUTO_RUN).
PICK_UP_SECONDS = 10.0


class Background:
    """The app's background work, run in this process only while it leads: with several
    server processes on one database, one does it (ombud.worker.lead); the others hand
    nothing to a worker and try every RETRY_SECONDS to take over."""

    def __init__(self, state: State, worker: InlineWorker) -> None:
        self._state = state
        self._worker = worker
        self._lead = Leadership(state.engine)
        self._follower: Periodic | None = None

    def start(self) -> None:
        self._state.worker = None
        if self._lead.try_acquire():
            self._run()
        else:
            self._follower = Periodic(RETRY_SECONDS, self._take_over, name="ombud-lead")
            self._follower.start()

    def stop(self) -> None:
        if self._follower is not None:
            self._follower.stop()
        self._worker.shutdown()
        self._lead.release()

    def _take_over(self) -> None:
        if not self._lead.is_lead and self._lead.try_acquire():
            self._run()

    def _run(self) -> None:
        settings: Settings = self._state.settings
        worker = self._worker
        self._state.worker = worker
        worker.resume()
        signup.start_webhooks(self._state)
        if settings.auto_run:
            worker.every(
                PICK_UP_SECONDS, lambda: worker.pick_up(settings.auto_run), name="ombud-pick-up"
            )


class OmbudApp(FastAPI):
    """FastAPI, but for the busiest route: every page view of the organisation's websites
    may post a banner choice, and ``consent_api.serve_event`` answers it as plain ASGI
    before FastAPI's middleware and routing (bench/consent_ingest.py)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == consent_api.EVENTS_PATH
            and scope["method"] == "POST"
        ):
            scope["app"] = self
            await consent_api.serve_event(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings) -> FastAPI:
    """Build the app for ``settings``: loads the register and opens the store.

    Raises RegisterError when the register does not load, StoreError when
    the database is missing its migrations, SecretKeyError when OMBUD_SECRET_KEY
    is too short and MailConfigError when OMBUD_MAIL_URL is unusable.
    """
    if settings.secret_key is None and not settings.demo:
        raise ValueError("OMBUD_SECRET_KEY is required outside the demo")
    engine = store.make_engine(settings.database_url)
    store.check_current(engine)
    source = RegisterSource(settings.register_path, engine)

    keys = Keys.from_secret(
        settings.secret_key.get_secret_value()
        if settings.secret_key is not None
        # Only the demo runs without a secret (its data is synthetic): a throwaway key then.
        else secrets.token_hex(32)
    )
    mail = transport_from_settings(settings)
    worker = (
        InlineWorker(
            engine,
            lambda: runtime_from_settings(
                settings, keys, mail=mail, register=source.current().register
            ),
        )
        if settings.worker == "inline"
        else None
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Consent choices are written in groups (docs/consent.md); closing drains the queue.
        consent_writer = app.state.consent_writer = ConsentWriter(engine)
        background = Background(app.state, worker) if worker is not None else None
        if background is not None:
            background.start()
        # What startup built lives as long as the app: kept out of the collector's full
        # passes, which otherwise stop every request for up to 100 ms (bench/consent_ingest.py).
        gc.freeze()
        # A young-generation pass every 10,000 allocations rather than 700: a request
        # allocates a few hundred objects that die with it (bench/consent_ingest.py).
        thresholds = gc.get_threshold()
        gc.set_threshold(10_000, *thresholds[1:])
        yield
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        await asyncio.to_thread(consent_writer.close)
        if background is not None:
            background.stop()

    app = OmbudApp(
        lifespan=lifespan,
        title="Ombud",
        version=__version__,
        description="Privacy operations under the GDPR: the published notice, the privacy "
        "portal and the API.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.register = source
    app.state.keys = keys
    app.state.mail = mail
    app.state.worker = worker
    # Requests from the portal and the API count together; so do sign-ups and manage links.
    app.state.request_limiter = SubmissionLimiter(engine, keys, SubmissionLimit("requests"))
    app.include_router(privacy.router)
    app.include_router(gate.router)
    app.include_router(portal.router)
    app.include_router(requests_api.router)
    app.include_router(answers.router)
    app.include_router(consent_api.router)
    app.include_router(banner.router)
    app.state.signup_limiter = SubmissionLimiter(engine, keys, SubmissionLimit("signups"))
    app.include_router(signup.router)
    app.include_router(consent_page.router)
    # The console's pages (docs/console.md); logging in is ombud.web.admin.login.
    for console in (
        console_dashboard,
        console_requests,
        console_case_actions,
        console_register,
        console_consent,
        console_audit,
        console_users,
    ):
        app.include_router(console.router)
    admin.install(app, settings)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness and readiness: the database answers and a register is served."""
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return {"status": "ok", "register_version": source.current().version}

    app.add_middleware(SecurityHeaders)

    return app
