"""Newsletter and network sign-up pages and API, confirmation and unsubscribe links.

=============================================  ==========================================
``GET/POST /privacy/newsletter``, ``/network``  the sign-up form (double opt-in)
``GET/POST /api/v1/newsletter/signup``, ...     the same as JSON, for a website's own form
``GET /consent/confirm/{token}``                the mailed link: records ``given``
``GET /consent/unsubscribe/{token}``            a page with an unsubscribe button
``POST /consent/unsubscribe/{token}``           the button, and RFC 8058 one-click
=============================================  ==========================================

The page after a sign-up is the same, byte for byte, whether or not the
address is already on the list (no enumeration). The domain work is in
:mod:`ombud.consent.signup`; this module parses, limits and renders.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from ombud import store
from ombud.consent import signup, texts, webhooks
from ombud.consent.models import Method
from ombud.mail import MailDeliveryError, MailError, MailTransport
from ombud.register.model import Register
from ombud.settings import Settings
from ombud.store.crypto import Keys
from ombud.web.forms import (
    Form,
    FormError,
    FormTokens,
    SubmissionLimiter,
    first,
    read_form,
    same_origin,
)
from ombud.web.language import negotiate
from ombud.web.pages import (
    LABELS,
    base_path,
    client_address,
    page_headers,
    problem_page,
    render_page,
)
from ombud.web.registry import RegisterSource, Served

log = logging.getLogger(__name__)

router = APIRouter(tags=["newsletter and network"])

#: The sign-up pages and APIs: path segment -> the ``consent.forms`` id it serves.
FORMS = {"newsletter": "newsletter", "network": "network"}
#: JSON bodies larger than this are refused (413); a sign-up is a few hundred bytes.
MAX_JSON_BYTES = 4096
#: How often the inline worker delivers due consent webhooks.
WEBHOOK_INTERVAL_SECONDS = 30.0

LangQuery = Annotated[str | None, Query(description="Language code; else Accept-Language decides.")]


# --- shared page helpers (consent_page.py uses them too) ---------------------------------


def served(request: Request) -> Served:
    source: RegisterSource = request.app.state.register
    return source.current()


def language(request: Request, register: Register, lang: str | None) -> str:
    return negotiate(register.languages, lang, request.headers.get("accept-language"))


def labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang, LABELS["en"])


def user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


def limiter(state: State) -> SubmissionLimiter:
    """The limit that sign-ups and manage-link requests share (``create_app`` makes it)."""
    found: SubmissionLimiter = state.signup_limiter
    return found


def problem(
    request: Request,
    lang: str,
    title_key: str,
    message_key: str,
    status: int,
    *,
    private: bool = False,
    headers: dict[str, str] | None = None,
    **values: str,
) -> Response:
    """A page saying what went wrong and what to do."""
    register = served(request).register
    t = labels(lang)
    dpo = register.organisation.dpo
    return problem_page(
        request,
        lang=lang,
        organisation=register.organisation.name,
        heading=t[title_key],
        message=t[message_key].format(**values),
        contact=dpo.email if dpo is not None else None,
        next_href=f"/privacy/consent?lang={quote(lang)}",
        next_label=t["cp_title"],
        status=status,
        private=private,
        headers=headers,
    )


def too_many(request: Request, lang: str, wait: int) -> Response:
    minutes = str(max(1, -(-wait // 60)))
    return problem(
        request,
        lang,
        "su_limit_title",
        "su_limit",
        429,
        headers={"Retry-After": str(wait)},
        minutes=minutes,
    )


def wake_webhooks(state: State) -> None:
    """Deliver queued webhooks now rather than at the next round (when a worker runs them)."""
    ticker = getattr(state, "webhook_ticker", None)
    if ticker is not None:
        ticker.wake()


def start_webhooks(state: State) -> None:
    """Deliver due consent webhooks every :data:`WEBHOOK_INTERVAL_SECONDS` on the inline worker.

    Called from the app's lifespan; without an inline worker (``OMBUD_WORKER=none``)
    nothing runs and deliveries wait for :func:`ombud.consent.webhooks.deliver_due`.
    """
    worker = state.worker
    if worker is None:
        return
    factory = store.session_factory(state.engine)
    keys: Keys = state.keys
    source: RegisterSource = state.register

    def deliver() -> None:
        webhooks.deliver_due(
            factory, dt.datetime.now(dt.UTC), register=source.current().register, keys=keys
        )

    state.webhook_ticker = worker.every(
        WEBHOOK_INTERVAL_SECONDS, deliver, name="ombud-consent-webhooks"
    )


# --- the sign-up form --------------------------------------------------------------------


def _form_page(
    request: Request,
    form_id: str,
    lang: str,
    *,
    email: str = "",
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> Response:
    current = served(request)
    register = current.register
    settings: Settings = request.app.state.settings
    content = signup.form_content(register, form_id, lang, base_url=settings.base_url)
    problems = errors or []
    page = render_page(
        "signup_form.html.j2",
        lang=lang,
        title=register.organisation.name,
        base=base_path(request),
        path=f"/privacy/{form_id}",
        form=content,
        email=email,
        errors=problems,
        field_errors=dict(problems),
        form_token=FormTokens(request.app.state.keys).issue(),
        text_digest=texts.digest(content),
    )
    return HTMLResponse(page, status_code=status, headers=page_headers(lang))


def _sent_page(request: Request, form_id: str, lang: str) -> Response:
    register = served(request).register
    form = signup.consent_form(register, form_id)
    page = render_page(
        "signup_sent.html.j2",
        lang=lang,
        title=register.organisation.name,
        base=base_path(request),
        path=f"/privacy/{form_id}",
        name=form.name.get(lang, register.language),
        hours=str(int(signup.CONFIRM_TTL.total_seconds() // 3600)),
    )
    return HTMLResponse(page, headers=page_headers(lang))


def _known_form(request: Request, segment: str) -> str | None:
    form_id = FORMS.get(segment)
    if form_id is None or form_id not in served(request).register.consent.forms:
        return None
    return form_id


class MailNotSentError(Exception):
    """The confirmation mail could not be handed over; the sign-up waits unconfirmed."""


def begin(
    state: State, current: Served, *, form: str, email: str, lang: str, now: dt.datetime
) -> signup.Started:
    """Store the sign-up, then (after commit) mail the link.

    Raises :class:`~ombud.consent.signup.SignupError` (nothing stored) or
    :class:`MailNotSentError`.
    """
    settings: Settings = state.settings
    with store.transaction(state.engine) as session:
        started = signup.start(
            session,
            keys=state.keys,
            register=current.register,
            register_version=current.version,
            form=form,
            email=email,
            language=lang,
            base_url=settings.base_url,
            now=now,
        )
    transport: MailTransport = state.mail
    try:
        signup.send_confirmation(
            transport, started, register=current.register, base_url=settings.base_url
        )
    except MailError as exc:
        # Neither the address nor the error text (it names the domain) goes to the log.
        log.warning(
            "confirmation mail for a %s sign-up not sent: %s (SMTP code %s)",
            form,
            type(exc).__name__,
            exc.smtp_code if isinstance(exc, MailDeliveryError) else None,
        )
        raise MailNotSentError(form) from None
    return started


def _signup_form(segment: str) -> Any:
    async def show(request: Request, lang: LangQuery = None) -> Response:
        form_id = _known_form(request, segment)
        register = served(request).register
        chosen = language(request, register, lang)
        if form_id is None:
            return problem(request, chosen, "su_missing_title", "su_missing", 404)
        return _form_page(request, form_id, chosen)

    show.__doc__ = f"The {segment} sign-up form: e-mail address and an unticked consent box."
    return show


def _signup_post(segment: str) -> Any:
    async def submit(request: Request, lang: LangQuery = None) -> Response:
        form_id = _known_form(request, segment)
        current = served(request)
        chosen = language(request, current.register, lang)
        if form_id is None:
            return problem(request, chosen, "su_missing_title", "su_missing", 404)
        return await _submit(request, current, form_id, chosen)

    submit.__doc__ = f"Receive the {segment} sign-up form and mail the confirmation link."
    return submit


async def _submit(request: Request, current: Served, form_id: str, lang: str) -> Response:
    t = labels(lang)
    state: State = request.app.state
    settings: Settings = state.settings
    client = client_address(request)
    try:
        posted: Form | None = await read_form(request, max_bytes=MAX_JSON_BYTES)
    except FormError:
        posted = None
    email = first(posted or {}, "email").strip()
    errors: list[tuple[str, str]] = []
    admission = None
    if posted is None:
        errors.append(("form", t["su_err_unreadable"]))
    elif not (
        FormTokens(state.keys).valid(first(posted, "form_token"))
        and same_origin(request, settings.base_url)
    ):
        errors.append(("form", t["su_err_token"]))
    else:
        admission = await limiter(state).admit(client)
        if admission.wait:
            return too_many(request, lang, admission.wait)
        content = signup.form_content(current.register, form_id, lang, base_url=settings.base_url)
        if first(posted, "text_digest") != texts.digest(content):
            errors.append(("consent", t["su_err_text_changed"]))
        elif first(posted, "consent") != "yes":
            errors.append(("consent", t["su_err_consent"]))
        if not email:
            errors.append(("email", t["su_err_email_missing"]))
        else:
            try:
                signup.normalised_email(email)
            except signup.InvalidEmailError:
                errors.append(("email", t["su_err_email"]))
    if errors:
        # A form refused for what it says does not count against the limit.
        await limiter(state).give_back(admission)
        return _form_page(request, form_id, lang, email=email, errors=errors, status=400)
    now = dt.datetime.now(dt.UTC)
    try:
        await run_in_threadpool(
            begin, state, current, form=form_id, email=email, lang=lang, now=now
        )
    except MailNotSentError:
        return problem(request, lang, "su_mail_failed_title", "su_mail_failed", 503)
    return _sent_page(request, form_id, lang)


for _segment in FORMS:
    router.add_api_route(
        f"/privacy/{_segment}",
        _signup_form(_segment),
        methods=["GET"],
        response_class=HTMLResponse,
        name=f"{_segment}_form",
    )
    router.add_api_route(
        f"/privacy/{_segment}",
        _signup_post(_segment),
        methods=["POST"],
        response_class=HTMLResponse,
        name=f"{_segment}_signup",
    )


# --- the JSON API ------------------------------------------------------------------------


class SignupIn(BaseModel):
    """A sign-up from the website's own form, which showed the form text of ``text_digest``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"email": "anna@example.se", "language": "sv", "consent": True, "text_digest": "…"}
            ]
        },
    )

    email: str = Field(max_length=320)
    language: str | None = Field(None, description="The form's language; the register's first.")
    consent: bool = Field(description="The person ticked the (unticked) consent box: must be true.")
    text_digest: str | None = Field(
        None,
        max_length=64,
        description="The `text_digest` of the text shown (GET the same path); must be current.",
    )


def _json_error(
    status: int,
    loc: list[str | int],
    msg: str,
    kind: str,
    *,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"detail": [{"loc": loc, "msg": msg, "type": kind}]}, status_code=status, headers=headers
    )


def _origin_allowed(request: Request, settings: Settings) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True
    allowed = {o.rstrip("/").lower() for o in settings.allowed_origins}
    return same_origin(request, settings.base_url) or origin.rstrip("/").lower() in allowed


def _cors(request: Request, settings: Settings) -> dict[str, str]:
    origin = request.headers.get("origin")
    if origin is None or origin.rstrip("/").lower() not in {
        o.rstrip("/").lower() for o in settings.allowed_origins
    }:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _api_text(segment: str) -> Any:
    def describe(request: Request, lang: LangQuery = None) -> Response:
        form_id = _known_form(request, segment)
        if form_id is None:
            return _json_error(404, ["path"], f"the register has no {segment} form", "not_found")
        current = served(request)
        settings: Settings = request.app.state.settings
        chosen = language(request, current.register, lang)
        content = signup.form_content(current.register, form_id, chosen, base_url=settings.base_url)
        return JSONResponse(
            {
                "form": form_id,
                "language": chosen,
                "register_version": current.version,
                "text_digest": texts.digest(content),
                "content": content,
            },
            headers={"Content-Language": chosen, **_cors(request, settings)},
        )

    describe.__doc__ = (
        f"The {segment} form's text to show beside an unticked box, and its `text_digest`."
    )
    return describe


class _Refused(Exception):  # noqa: N818 - internal: carries the answer to a refused call
    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _read_signup(
    request: Request, segment: str, settings: Settings, cors: dict[str, str]
) -> tuple[str, SignupIn, str, Served]:
    """(form id, body, language, register served) of an acceptable call; else :class:`_Refused`."""

    def refuse(status: int, loc: list[str | int], msg: str, kind: str) -> _Refused:
        return _Refused(_json_error(status, loc, msg, kind, headers=cors))

    if not _origin_allowed(request, settings):
        raise refuse(
            403,
            ["header", "origin"],
            "this origin may not sign people up; add it to OMBUD_ALLOWED_ORIGINS",
            "forbidden",
        )
    form_id = _known_form(request, segment)
    if form_id is None:
        raise refuse(404, ["path"], f"the register has no {segment} form", "not_found")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_JSON_BYTES:
            raise refuse(413, ["body"], f"the body is over {MAX_JSON_BYTES} bytes", "too_large")
    try:
        data = SignupIn.model_validate_json(bytes(body))
    except ValidationError as exc:
        # Only where and what: never the input (it holds an e-mail address).
        detail = [
            {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_input=False, include_context=False, include_url=False)
        ]
        raise _Refused(JSONResponse({"detail": detail}, status_code=422, headers=cors)) from None
    current = served(request)
    lang = data.language or current.register.language
    if lang not in current.register.languages:
        langs = ", ".join(current.register.languages)
        raise refuse(422, ["body", "language"], f"use one of {langs}", "unknown_language")
    if not data.consent:
        raise refuse(
            422, ["body", "consent"], "true only when the person ticked the box", "no_consent"
        )
    content = signup.form_content(current.register, form_id, lang, base_url=settings.base_url)
    if data.text_digest is not None and data.text_digest != texts.digest(content):
        raise refuse(
            422,
            ["body", "text_digest"],
            f"not the current text; GET /api/v1/{segment}/signup?lang={lang} for it",
            "stale_text",
        )
    try:
        signup.normalised_email(data.email)
    except signup.InvalidEmailError as exc:
        raise refuse(422, ["body", "email"], str(exc), "invalid_email") from None
    return form_id, data, lang, current


def _api_signup(segment: str) -> Any:
    async def create(request: Request) -> Response:
        state: State = request.app.state
        settings: Settings = state.settings
        cors = _cors(request, settings)
        try:
            form_id, data, lang, current = await _read_signup(request, segment, settings, cors)
        except _Refused as refused:
            return refused.response
        admission = await limiter(state).admit(client_address(request))
        if wait := admission.wait:
            return JSONResponse(
                {"detail": f"too many sign-ups from this address; try again in {wait} seconds"},
                status_code=429,
                headers={"Retry-After": str(wait), **cors},
            )
        now = dt.datetime.now(dt.UTC)
        try:
            await run_in_threadpool(
                begin, state, current, form=form_id, email=data.email, lang=lang, now=now
            )
        except MailNotSentError:
            return JSONResponse(
                {"detail": "the confirmation mail could not be sent just now; try again later"},
                status_code=503,
                headers={"Retry-After": "300", **cors},
            )
        return JSONResponse(
            {"status": "pending", "confirmation": "email", "form": form_id},
            status_code=202,
            headers=cors,
        )

    create.__doc__ = (
        f"Start a {segment} sign-up: 202, and a confirmation link is mailed. The answer is "
        "the same whether or not the address is already on the list."
    )
    return create


def _api_preflight(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    cors = _cors(request, settings)
    if not cors:
        return Response(status_code=403)
    return Response(
        status_code=204,
        headers={
            **cors,
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        },
    )


for _segment in FORMS:
    _path = f"/api/v1/{_segment}/signup"
    router.add_api_route(_path, _api_text(_segment), methods=["GET"], name=f"{_segment}_text")
    router.add_api_route(
        _path,
        _api_signup(_segment),
        methods=["POST"],
        status_code=202,
        name=f"{_segment}_api_signup",
        responses={
            403: {"description": "A browser Origin not in OMBUD_ALLOWED_ORIGINS."},
            413: {"description": f"A body over {MAX_JSON_BYTES} bytes."},
            422: {"description": "Bad address, `consent` not true, stale `text_digest`."},
            429: {"description": "Too many sign-ups from this address."},
            503: {"description": "The confirmation mail could not be sent."},
        },
    )
    router.add_api_route(
        _path, _api_preflight, methods=["OPTIONS"], include_in_schema=False, name=f"{_segment}_cors"
    )


# --- confirmation ------------------------------------------------------------------------

_LINK_PROBLEMS = {
    "unknown": ("su_link_unknown", 404),
    "expired": ("su_link_expired", 410),
    "gone": ("su_link_gone", 410),
}


def _confirm(state: State, token: str, ip: str | None, agent: str | None) -> signup.Confirmed:
    with store.transaction(state.engine) as session:
        confirmed = signup.confirm(
            session,
            keys=state.keys,
            register=served_state(state).register,
            token=token,
            ip=ip,
            user_agent=agent,
            now=dt.datetime.now(dt.UTC),
        )
    wake_webhooks(state)
    return confirmed


def served_state(state: State) -> Served:
    source: RegisterSource = state.register
    return source.current()


@router.get("/consent/confirm/{token}", response_class=HTMLResponse)
async def confirm_link(request: Request, token: str, lang: LangQuery = None) -> Response:
    """The link from the confirmation mail: records the consent (``given``, method ``form``)."""
    register = served(request).register
    state: State = request.app.state
    try:
        confirmed = await run_in_threadpool(
            _confirm, state, token, client_address(request), user_agent(request)
        )
    except signup.LinkError as exc:
        chosen = language(request, register, lang)
        if exc.reason == "used" and exc.form is not None:
            return _confirmed_page(request, exc.form, chosen, already=True)
        key, status = _LINK_PROBLEMS.get(exc.reason, ("su_link_unknown", 404))
        return problem(request, chosen, "su_link_title", key, status, private=True)
    chosen = lang if lang in register.languages else confirmed.language
    return _confirmed_page(request, confirmed.form, chosen, already=False)


def _confirmed_page(request: Request, form_id: str, lang: str, *, already: bool) -> Response:
    register = served(request).register
    form = register.consent.forms.get(form_id)
    name = form.name.get(lang, register.language) if form is not None else form_id
    page = render_page(
        "signup_confirmed.html.j2",
        lang=lang,
        title=register.organisation.name,
        base=base_path(request),
        name=name,
        already=already,
    )
    return HTMLResponse(page, headers=page_headers(lang, private=True))


# --- unsubscribe -------------------------------------------------------------------------


def withdraw_list(
    state: State,
    current: Served,
    *,
    form: str,
    email: str,
    lang: str,
    ip: str | None,
    agent: str | None,
) -> signup.Withdrawn:
    """Withdraw one list consent at once, in the ledger, and wake the webhooks; the
    unsubscribe link and the consent page both end here."""
    with store.transaction(state.engine) as session:
        withdrawn = signup.withdraw(
            session,
            keys=state.keys,
            register=current.register,
            register_version=current.version,
            form=form,
            email=email,
            method=Method.FORM,
            language=lang,
            text=signup.unsubscribe_content(current.register, form, lang),
            ip=ip,
            user_agent=agent,
            now=dt.datetime.now(dt.UTC),
        )
    wake_webhooks(state)
    return withdrawn


@router.get("/consent/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str, lang: LangQuery = None) -> Response:
    """The unsubscribe link in every mailing: a page with one button (nothing changes on GET,
    so link scanners that open mail links unsubscribe nobody)."""
    current = served(request)
    chosen = language(request, current.register, lang)
    try:
        form_id, email = signup.read_unsubscribe_token(request.app.state.keys, token)
    except signup.LinkError:
        return problem(request, chosen, "su_link_title", "su_unsub_unknown", 404, private=True)
    if form_id not in current.register.consent.forms:
        return problem(request, chosen, "su_link_title", "su_link_gone", 410, private=True)
    return _unsubscribe_page(request, token, form_id, email, chosen, done=False)


def _unsubscribe_page(
    request: Request, token: str, form_id: str, email: str, lang: str, *, done: bool
) -> Response:
    register = served(request).register
    content = signup.unsubscribe_content(register, form_id, lang)
    page = render_page(
        "signup_unsubscribe.html.j2",
        lang=lang,
        title=register.organisation.name,
        base=base_path(request),
        action=f"/consent/unsubscribe/{token}",
        name=content["name"],
        text=content["text"],
        email=email,
        done=done,
        signup_path=f"/privacy/{form_id}",
    )
    return HTMLResponse(page, headers=page_headers(lang, private=True))


@router.post(
    "/consent/unsubscribe/{token}",
    responses={
        200: {
            "description": "Unsubscribed (or already). A page for the button; an "
            "empty text/plain answer for an RFC 8058 one-click POST."
        }
    },
)
async def unsubscribe(request: Request, token: str, lang: LangQuery = None) -> Response:
    """Unsubscribe at once: RFC 8058 one-click (``List-Unsubscribe=One-Click``) or the button.

    No login, no further question: the token itself proves the link came in a
    mail to the address. Unsubscribing twice is harmless.
    """
    state: State = request.app.state
    current = served(request)
    chosen = language(request, current.register, lang)
    # Any POST unsubscribes (RFC 8058 §3.2: mail clients send List-Unsubscribe=One-Click
    # urlencoded or as multipart/form-data); only the page's own button, which sends
    # `unsubscribe`, gets a page back.
    try:
        posted = await read_form(request, max_bytes=MAX_JSON_BYTES)
    except FormError:
        posted = {}
    one_click = "unsubscribe" not in posted
    try:
        form_id, email = signup.read_unsubscribe_token(state.keys, token)
    except signup.LinkError:
        if one_click:
            return PlainTextResponse("unknown unsubscribe link\n", status_code=404)
        return problem(request, chosen, "su_link_title", "su_unsub_unknown", 404, private=True)
    try:
        await run_in_threadpool(
            withdraw_list,
            state,
            current,
            form=form_id,
            email=email,
            lang=chosen,
            ip=client_address(request),
            agent=user_agent(request),
        )
    except signup.LinkError:
        if one_click:
            return PlainTextResponse("this list is no longer offered\n", status_code=410)
        return problem(request, chosen, "su_link_title", "su_link_gone", 410, private=True)
    if one_click:
        return Response(status_code=200, headers={"Cache-Control": "no-store"})
    return _unsubscribe_page(request, token, form_id, email, chosen, done=True)
