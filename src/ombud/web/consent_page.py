"""`/privacy/consent`: the person's own view of their consents, and changing them.

Two parts, because Ombud knows a person in two ways:

- **This browser**: the cookie banner's choices, read from the ``ombud_consent``
  cookie (docs/consent.md) and the ledger. Each optional category is a
  checkbox; saving records the choice in the ledger (method
  ``banner_settings``, with the banner's text as shown) and writes the cookie
  again, so the banner and the tags follow on the next page.
- **Newsletter and network**: Ombud never shows an address's consents to
  whoever types it. The person asks for a link; it is mailed to the address
  (the same page follows whether or not the address is known), and the
  link's page lists that address's lists, each with a button that withdraws
  at once (ledger and webhooks in one transaction).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from ombud import store
from ombud.consent import ledger, signup, texts
from ombud.consent.models import Method
from ombud.consent.purposes import purpose_map
from ombud.mail import MailDeliveryError, MailError, MailTransport
from ombud.register.model import Register
from ombud.settings import Settings
from ombud.web.forms import Form, FormError, FormTokens, first, read_form, same_origin
from ombud.web.pages import base_path, client_address, page_headers, render_page
from ombud.web.registry import Served
from ombud.web.signup import (
    FORMS,
    MAX_JSON_BYTES,
    labels,
    language,
    limiter,
    problem,
    served,
    too_many,
    user_agent,
    withdraw_list,
)

log = logging.getLogger(__name__)

router = APIRouter(tags=["privacy portal"])

#: The banner's cookie (docs/consent.md, "The consent cookie").
COOKIE = "ombud_consent"
COOKIE_VERSION = "v1"
#: The cookie's lifetime when the register sets no ``consent.renew_after``.
DEFAULT_COOKIE_AGE = dt.timedelta(days=365)

LangQuery = Annotated[str | None, Query(description="Language code; else Accept-Language decides.")]


@dataclass(frozen=True)
class CookieChoice:
    """The banner's cookie: ``v1.<visitor_id>.<register version, 12>.<purpose:1|0,...>``."""

    visitor_id: str
    version: str
    choices: dict[str, bool]

    def value(self) -> str:
        answers = ",".join(f"{p}:{1 if v else 0}" for p, v in self.choices.items())
        return f"{COOKIE_VERSION}.{self.visitor_id}.{self.version[:12]}.{answers}"


def parse_cookie(value: str | None) -> CookieChoice | None:
    """The cookie's parts, or None for a missing, foreign or malformed cookie."""
    if not value:
        return None
    parts = value.strip('"').split(".", 3)
    if len(parts) != 4 or parts[0] != COOKIE_VERSION:
        return None
    _, visitor, version, answers = parts
    try:
        if len(visitor) != 36 or str(uuid.UUID(visitor)) != visitor.lower():
            return None
    except ValueError:
        return None
    choices: dict[str, bool] = {}
    for item in filter(None, answers.split(",")):
        purpose, _, answer = item.partition(":")
        if not purpose or answer not in {"0", "1"}:
            return None
        choices[purpose] = answer == "1"
    return CookieChoice(visitor.lower(), version, choices)


def cookie_header(choice: CookieChoice, *, secure: bool, max_age: int) -> str:
    """The Set-Cookie value, written by hand: the value's commas and colons would be quoted
    by Python's cookie module, and the banner script reads the raw value."""
    flags = f"Path=/; Max-Age={max_age}; SameSite=Lax"
    return f"{COOKIE}={choice.value()}; {flags}{'; Secure' if secure else ''}"


def cookie_age(register: Register, now: dt.datetime) -> int:
    """The cookie's Max-Age: ``consent.renew_after``, or a year."""
    lapses = ledger.expiry(now, register.consent.renew_after)
    return int(((lapses - now) if lapses is not None else DEFAULT_COOKIE_AGE).total_seconds())


@dataclass(frozen=True)
class CategoryView:
    id: str
    name: str
    description: str | None
    purposes: tuple[str, ...]
    on: bool
    #: GPC is on and the category holds a purpose GPC refuses: it stays off.
    gpc_off: bool


def _gpc(request: Request) -> bool:
    return request.headers.get("sec-gpc", "").strip() == "1"


def _categories(
    state: State,
    current: Served,
    lang: str,
    cookie: CookieChoice | None,
    *,
    gpc: bool,
    now: dt.datetime,
) -> list[CategoryView]:
    register = current.register
    mapped = purpose_map(register, current.version)
    ledger_states: dict[str, str] = {}
    if cookie is not None and mapped.banner:
        digest = ledger.subject_digest(state.keys, "visitor_id", cookie.visitor_id, now=now)
        with store.transaction(state.engine) as session:
            found = ledger.current(session, {digest}, set(mapped.banner), now=now)
        ledger_states = {p: str(v) for p, v in found.get(digest, {}).items()}
    views: list[CategoryView] = []
    for category_id, purposes in mapped.categories.items():
        category = register.consent.cookie_categories[category_id]
        recorded = [ledger_states.get(p, "none") for p in purposes]
        if any(s != "none" for s in recorded):
            on = all(s == "given" for s in recorded)
        else:  # nothing in the ledger (yet): what the browser holds
            on = bool(purposes) and all(
                cookie is not None and cookie.choices.get(p, False) for p in purposes
            )
        gpc_off = gpc and any(p in mapped.gpc for p in purposes)
        views.append(
            CategoryView(
                id=category_id,
                name=category.name.get(lang, register.language),
                description=category.description.get(lang, register.language)
                if category.description is not None
                else None,
                purposes=purposes,
                on=on and not gpc_off,
                gpc_off=gpc_off,
            )
        )
    return views


def _page(
    request: Request,
    lang: str,
    *,
    cookie: CookieChoice | None,
    saved: bool = False,
    error: str | None = None,
    status: int = 200,
) -> Response:
    state: State = request.app.state
    current = served(request)
    register = current.register
    gpc = _gpc(request)
    now = dt.datetime.now(dt.UTC)
    banner = texts.banner_text(register, lang)
    page = render_page(
        "consent_page.html.j2",
        lang=lang,
        title=register.organisation.name,
        base=base_path(request),
        categories=_categories(state, current, lang, cookie, gpc=gpc, now=now),
        has_cookie=cookie is not None,
        gpc=gpc,
        gpc_text=banner["wording"]["gpc"],
        withdrawal=banner["wording"]["withdrawal"],
        saved=saved,
        error=error,
        form_token=FormTokens(state.keys).issue(),
        text_digest=texts.digest(banner),
        forms=[
            {"id": form_id, "name": form.name.get(lang, register.language)}
            for form_id, form in register.consent.forms.items()
            if form_id in FORMS  # the forms with a sign-up page
        ],
    )
    return HTMLResponse(page, status_code=status, headers=page_headers(lang))


@router.get("/privacy/consent", response_class=HTMLResponse)
def consent_page(
    request: Request,
    lang: LangQuery = None,
    saved: Annotated[
        bool, Query(description="Set after saving: says the choice was saved.")
    ] = False,
) -> Response:
    """See and change one's consents: this browser's cookie choices, and a link by e-mail to
    the newsletter and network consents."""
    register = served(request).register
    chosen = language(request, register, lang)
    cookie = parse_cookie(request.cookies.get(COOKIE))
    return _page(request, chosen, cookie=cookie, saved=saved)


def _record(
    state: State,
    current: Served,
    *,
    visitor_id: str,
    choices: dict[str, bool],
    lang: str,
    banner: dict[str, Any],
    gpc: bool,
    ip: str | None,
    agent: str | None,
    now: dt.datetime,
) -> ledger.Choice:
    with store.transaction(state.engine) as session:
        return ledger.record_choice(
            session,
            keys=state.keys,
            register=current.register,
            register_version=current.version,
            subject=("visitor_id", visitor_id),
            choices=choices,
            method=Method.BANNER_SETTINGS,
            language=lang,
            text=banner,
            gpc=gpc,
            ip=ip,
            user_agent=agent,
            now=now,
        )


@router.post("/privacy/consent", response_class=HTMLResponse)
async def save_choices(request: Request, lang: LangQuery = None) -> Response:
    """Save this browser's cookie choices: ledger (``banner_settings``), then the cookie.

    A category left unticked that was given is withdrawn, at once.
    """
    state: State = request.app.state
    settings: Settings = state.settings
    current = served(request)
    register = current.register
    chosen = language(request, register, lang)
    t = labels(chosen)
    cookie = parse_cookie(request.cookies.get(COOKIE))
    try:
        posted: Form | None = await read_form(request, max_bytes=MAX_JSON_BYTES)
    except FormError:
        posted = None
    if posted is None or not (
        FormTokens(state.keys).valid(first(posted, "form_token"))
        and same_origin(request, settings.base_url)
    ):
        return await run_in_threadpool(
            _page, request, chosen, cookie=cookie, error=t["su_err_token"], status=400
        )
    banner = texts.banner_text(register, chosen)
    if first(posted, "text_digest") != texts.digest(banner):
        return await run_in_threadpool(
            _page, request, chosen, cookie=cookie, error=t["cp_err_changed"], status=400
        )
    mapped = purpose_map(register, current.version)
    ticked = set(posted.get("category", []))
    choices: dict[str, bool] = {}
    for category_id, purposes in mapped.categories.items():
        for purpose in purposes:
            choices[purpose] = choices.get(purpose, False) or category_id in ticked
    if not choices:
        return RedirectResponse(f"{base_path(request)}/privacy/consent?lang={chosen}", 303)
    visitor_id = cookie.visitor_id if cookie is not None else str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC)
    recorded = await run_in_threadpool(
        _record,
        state,
        current,
        visitor_id=visitor_id,
        choices=choices,
        lang=chosen,
        banner=banner,
        gpc=_gpc(request),
        ip=client_address(request),
        agent=user_agent(request),
        now=now,
    )
    effective = {e.purpose: e.event == "given" for e in recorded.events}
    written = CookieChoice(visitor_id, current.version, effective)
    response = RedirectResponse(
        f"{base_path(request)}/privacy/consent?lang={chosen}&saved=true", status_code=303
    )
    response.headers.append(
        "set-cookie",
        cookie_header(
            written,
            secure=settings.base_url.startswith("https://"),
            max_age=cookie_age(register, now),
        ),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- newsletter and network: by a mailed link ----------------------------------------------


class _MailNotSentError(Exception):
    pass


def _mail_link(state: State, register: Register, email: str, lang: str) -> None:
    settings: Settings = state.settings
    transport: MailTransport = state.mail
    try:
        signup.send_manage_link(
            transport,
            keys=state.keys,
            register=register,
            email=email,
            language=lang,
            base_url=settings.base_url,
            now=dt.datetime.now(dt.UTC),
        )
    except MailError as exc:
        log.warning(
            "consent link mail not sent: %s (SMTP code %s)",
            type(exc).__name__,
            exc.smtp_code if isinstance(exc, MailDeliveryError) else None,
        )
        raise _MailNotSentError from None


@router.post("/privacy/consent/manage", response_class=HTMLResponse)
async def ask_for_link(request: Request, lang: LangQuery = None) -> Response:
    """Mail a link to the newsletter and network consents of the address typed.

    The page that follows is the same whoever the address belongs to.
    """
    state: State = request.app.state
    settings: Settings = state.settings
    register = served(request).register
    chosen = language(request, register, lang)
    t = labels(chosen)
    cookie = parse_cookie(request.cookies.get(COOKIE))
    try:
        posted: Form | None = await read_form(request, max_bytes=MAX_JSON_BYTES)
    except FormError:
        posted = None
    if posted is None or not (
        FormTokens(state.keys).valid(first(posted, "form_token"))
        and same_origin(request, settings.base_url)
    ):
        return await run_in_threadpool(
            _page, request, chosen, cookie=cookie, error=t["su_err_token"], status=400
        )
    admission = await limiter(state).admit(client_address(request))
    if admission.wait:
        return too_many(request, chosen, admission.wait)
    email = first(posted, "email").strip()
    try:
        signup.normalised_email(email)
    except signup.InvalidEmailError:
        await limiter(state).give_back(admission)
        return await run_in_threadpool(
            _page, request, chosen, cookie=cookie, error=t["su_err_email"], status=400
        )
    try:
        await run_in_threadpool(_mail_link, state, register, email, chosen)
    except _MailNotSentError:
        return problem(request, chosen, "su_mail_failed_title", "su_mail_failed", 503)
    page = render_page(
        "consent_sent.html.j2",
        lang=chosen,
        title=register.organisation.name,
        base=base_path(request),
        hours=str(int(signup.MANAGE_TTL.total_seconds() // 3600)),
    )
    return HTMLResponse(page, headers=page_headers(chosen))


def _link_problem(request: Request, lang: str, exc: signup.LinkError) -> Response:
    if exc.reason == "expired":
        return problem(request, lang, "su_link_title", "cp_link_expired", 410, private=True)
    return problem(request, lang, "su_link_title", "su_link_unknown", 404, private=True)


def _manage_page(
    request: Request,
    token: str,
    email: str,
    lang: str,
    *,
    withdrawn: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    state: State = request.app.state
    register = served(request).register
    now = dt.datetime.now(dt.UTC)
    with store.transaction(state.engine) as session:
        lists = signup.subscriptions(
            session, keys=state.keys, register=register, email=email, language=lang, now=now
        )
    page = render_page(
        "consent_manage.html.j2",
        lang=lang,
        title=register.organisation.name,
        base=base_path(request),
        action=f"/privacy/consent/manage/{token}",
        email=email,
        lists=lists,
        withdrawn=withdrawn,
        error=error,
        form_token=FormTokens(state.keys).issue(),
    )
    return HTMLResponse(page, status_code=status, headers=page_headers(lang, private=True))


@router.get("/privacy/consent/manage/{token}", response_class=HTMLResponse)
def manage(request: Request, token: str, lang: LangQuery = None) -> Response:
    """The mailed link: the address's newsletter and network consents, each withdrawable."""
    register = served(request).register
    chosen = language(request, register, lang)
    try:
        email = signup.read_manage_token(request.app.state.keys, token, now=dt.datetime.now(dt.UTC))
    except signup.LinkError as exc:
        return _link_problem(request, chosen, exc)
    return _manage_page(request, token, email, chosen)


@router.post("/privacy/consent/manage/{token}", response_class=HTMLResponse)
async def withdraw(request: Request, token: str, lang: LangQuery = None) -> Response:
    """Withdraw the consent of one list (field ``form``), at once: ledger and webhooks."""
    state: State = request.app.state
    settings: Settings = state.settings
    current = served(request)
    chosen = language(request, current.register, lang)
    t = labels(chosen)
    try:
        email = signup.read_manage_token(state.keys, token, now=dt.datetime.now(dt.UTC))
    except signup.LinkError as exc:
        return _link_problem(request, chosen, exc)
    try:
        posted: Form | None = await read_form(request, max_bytes=MAX_JSON_BYTES)
    except FormError:
        posted = None
    if posted is None or not (
        FormTokens(state.keys).valid(first(posted, "form_token"))
        and same_origin(request, settings.base_url)
    ):
        return await run_in_threadpool(
            _manage_page, request, token, email, chosen, error=t["su_err_token"], status=400
        )
    form_id = first(posted, "form")
    if form_id not in current.register.consent.forms:
        return await run_in_threadpool(
            _manage_page, request, token, email, chosen, error=t["cp_err_list"], status=400
        )
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
    name = current.register.consent.forms[form_id].name.get(chosen, current.register.language)
    return await run_in_threadpool(_manage_page, request, token, email, chosen, withdrawn=name)
