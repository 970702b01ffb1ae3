"""The privacy portal's request pages: the form, its e-mail verification link and code.

``GET /privacy/request`` shows the form (pre-filled from the notice's links,
``?type=objection&activity=<id>``); ``POST`` stores an unverified request and
mails a link and a code. The page after sending is the same, byte for byte
apart from the request id, whoever the address belongs to: Ombud looks
nobody up before the person has proved they hold the address (Art. 12(6)).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from ombud import store
from ombud.discovery import InvalidIdentifierError, normalise
from ombud.mail import MailDeliveryError, MailError, MailTransport
from ombud.notice.labels import language_name
from ombud.register.model import LegalBasis, Register
from ombud.rights import verification
from ombud.rights.deadlines import swedish_date
from ombud.rights.errors import (
    InvalidRequestError,
    RequestNotFoundError,
    RightsError,
    VerificationError,
)
from ombud.rights.intake import MAX_DETAILS, NewRequest, create_request
from ombud.rights.models import Channel, DataRequest, RequestType
from ombud.settings import Settings
from ombud.store.crypto import Keys
from ombud.web.dispatch import after_verified
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

router = APIRouter(tags=["privacy portal"])

#: The identifiers the online form asks for, in the order shown. E-mail is required:
#: the portal verifies identity by e-mail.
FORM_IDENTIFIERS = ("email", "phone", "personnummer", "customer_id")
#: The actor of everything the person does through the portal or the public API.
SUBJECT = "subject"

LangQuery = Annotated[str | None, Query(description="Language code; else Accept-Language decides.")]

_MONTHS = {
    "sv": "januari februari mars april maj juni juli augusti september oktober november december",
    "en": "January February March April May June July August September October November December",
}


class MailNotSentError(Exception):
    """The verification mail could not be handed over; the request waits unverified."""


@dataclass
class FormValues:
    """What the person typed, kept to show the form again."""

    type: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)
    activities: list[str] = field(default_factory=list)
    details: str = ""
    language: str = ""


@dataclass(frozen=True)
class FieldError:
    """One problem: ``name`` of the field, ``anchor`` the element the summary links to."""

    name: str
    anchor: str
    message: str


# --- shared with the JSON API ---------------------------------------------------------


def register_served(request: Request) -> Served:
    source: RegisterSource = request.app.state.register
    return source.current()


def receive(
    state: State, served: Served, new: NewRequest, *, actor: str, now: dt.datetime
) -> DataRequest:
    """Store ``new`` and, unless it arrives verified, mail the person a link and a code.

    The mail is sent after the transaction commits, so the audit chain is never
    held while an SMTP server answers. Raises :class:`InvalidRequestError`
    (nothing stored) or :class:`MailNotSentError` (stored, waiting unverified).
    """
    settings: Settings = state.settings
    keys: Keys = state.keys
    with store.transaction(state.engine) as session:
        created = create_request(
            session,
            new,
            register=served.register,
            register_version=served.version,
            keys=keys,
            actor=actor,
            now=now,
        )
        challenge = None if created.verified_at else verification.start(session, created, now=now)
    if challenge is not None:
        transport: MailTransport = state.mail
        try:
            verification.send(transport, created, challenge, keys=keys, base_url=settings.base_url)
        except MailError as exc:
            # Neither the address nor the error text (it names the domain) goes to the log.
            log.warning(
                "verification mail for request %s not sent: %s (SMTP code %s)",
                created.id,
                type(exc).__name__,
                exc.smtp_code if isinstance(exc, MailDeliveryError) else None,
            )
            raise MailNotSentError(created.id) from None
    return created


def long_date(day: dt.date, lang: str) -> str:
    """``5 april 2025`` / ``5 April 2025``."""
    months = _MONTHS.get(lang, _MONTHS["en"]).split()
    return f"{day.day} {months[day.month - 1]} {day.year}"


def objection_activities(register: Register, lang: str) -> list[dict[str, Any]]:
    """The activities a person may object to (Art. 21): legitimate interest, public task,
    and everything for direct marketing, with their names in ``lang``."""
    return [
        {
            "id": activity.id,
            "name": activity.name.get(lang, register.language),
            "direct_marketing": activity.direct_marketing,
        }
        for activity in register.activities
        if activity.direct_marketing
        or activity.legal_basis in (LegalBasis.LEGITIMATE_INTEREST, LegalBasis.PUBLIC_TASK)
    ]


# --- pages ------------------------------------------------------------------------------


@router.get("/privacy/request", response_class=HTMLResponse)
def request_form(
    request: Request,
    lang: LangQuery = None,
    type: Annotated[  # noqa: A002 - the notice links with ?type=
        str | None, Query(description="Pre-selects the request type (e.g. objection).")
    ] = None,
    activity: Annotated[
        list[str] | None, Query(description="Pre-selects activities to object to.")
    ] = None,
) -> Response:
    """The rights request form, in the language of ``?lang=`` or Accept-Language."""
    served = register_served(request)
    chosen = _language(request, served.register, lang)
    known = {a["id"] for a in objection_activities(served.register, chosen)}
    values = FormValues(
        type=type if type in _TYPES else "",
        activities=[a for a in activity or [] if a in known],
        language=chosen,
    )
    return _form_page(request, served, chosen, values=values, errors=[])


@router.post("/privacy/request", response_class=HTMLResponse)
async def submit_request(request: Request, lang: LangQuery = None) -> Response:
    """Receive the form: store the request and mail a verification link and code."""
    served = register_served(request)
    register = served.register
    chosen = _language(request, register, lang)
    t = _labels(chosen)
    state: State = request.app.state
    settings: Settings = state.settings
    limiter: SubmissionLimiter = state.request_limiter
    client = client_address(request)
    now = dt.datetime.now(dt.UTC)
    try:
        form: Form | None = await read_form(request)
    except FormError:
        form = None
    values = _values(form or {}, chosen)
    admission = None
    if form is None:
        errors = [FieldError("form", "request-form", t["rq_err_unreadable"])]
    elif not (
        FormTokens(state.keys).valid(first(form, "form_token"))
        and same_origin(request, settings.base_url)
    ):
        errors = [FieldError("form", "request-form", t["rq_err_token"])]
    else:
        admission = await limiter.admit(client)
        if admission.wait:
            return _too_many(request, chosen, admission.wait)
        errors = _check(register, values, t, today=swedish_date(now))
    if errors:
        # A form refused for what it says does not count against the limit.
        await limiter.give_back(admission)
        return _form_page(request, served, chosen, values=values, errors=errors, status=400)
    new = NewRequest(
        type=values.type,
        identifiers=[(k, v) for k, v in values.identifiers.items() if v.strip()],
        channel=Channel.PORTAL,
        language=values.language,
        activities=values.activities if values.type == RequestType.OBJECTION else [],
        details=values.details.strip() or None,
    )
    try:
        created = await run_in_threadpool(receive, state, served, new, actor=SUBJECT, now=now)
    except InvalidRequestError as exc:
        await limiter.give_back(admission)
        error = FieldError("form", "request-form", t["rq_err_form"].format(message=exc))
        return _form_page(request, served, chosen, values=values, errors=[error], status=400)
    except MailNotSentError:
        return _problem(request, chosen, "rq_mail_failed_title", "rq_mail_failed", 503)
    return _sent_page(request, created.id, chosen, [])


@router.get("/privacy/request/verify/{token}", response_class=HTMLResponse)
def verify_link(request: Request, token: str, lang: LangQuery = None) -> Response:
    """The link from the verification mail: confirms the person's identity."""
    now = dt.datetime.now(dt.UTC)
    try:
        with store.transaction(request.app.state.engine) as session:
            verified = verification.verify_token(session, token, now=now)
    except RightsError as exc:
        served = register_served(request)
        chosen = _language(request, served.register, lang)
        return _problem(request, chosen, "rq_link_title", _failure(exc), 400, private=True)
    after_verified(request.app.state, verified)
    # The mailed link names no language: the one the person chose for the answer.
    languages = register_served(request).register.languages
    chosen = lang if lang in languages else verified.language
    return _verified_page(request, verified, chosen, private=True)


@router.post("/privacy/request/{request_id}/code", response_class=HTMLResponse)
async def verify_code(request: Request, request_id: str, lang: LangQuery = None) -> Response:
    """The code from the verification mail, typed on the page shown after sending."""
    served = register_served(request)
    chosen = _language(request, served.register, lang)
    t = _labels(chosen)
    state: State = request.app.state
    settings: Settings = state.settings
    request_id = request_id.strip().upper()
    try:
        form = await read_form(request)
    except FormError:
        form = {}
    refusal: tuple[str, int] | None = None
    if not _REQUEST_ID.fullmatch(request_id):
        # Never shown back: the page would repeat whatever text the address held.
        refusal = ("rq_not_found", 404)
    elif not same_origin(request, settings.base_url):
        refusal = ("rq_err_token", 400)
    if refusal is not None:
        return _problem(request, chosen, "rq_link_title", *refusal)
    code = first(form, "code").strip()
    if not code.isdigit() or len(code) != 6:
        error = FieldError("code", "code", t["rq_err_code_format"])
        return _sent_page(request, request_id, chosen, [error], 400)
    now = dt.datetime.now(dt.UTC)
    try:
        verified = await run_in_threadpool(_verify_code, state, request_id, code, now)
    except RequestNotFoundError:
        return _problem(request, chosen, "rq_link_title", "rq_not_found", 404)
    except RightsError as exc:
        reason = _failure(exc)
        if reason == "rq_err_code":
            error = FieldError("code", "code", t["rq_err_code"])
            return _sent_page(request, request_id, chosen, [error], 400)
        return _problem(request, chosen, "rq_link_title", reason, 400)
    after_verified(state, verified)
    return _verified_page(request, verified, chosen)


# --- helpers ----------------------------------------------------------------------------

_TYPES = [t.value for t in RequestType]
#: The shape of a request id (ombud.rights.intake.new_request_id), checked before any use.
_REQUEST_ID = re.compile(r"R[A-Z0-9]{9}")


def _verify_code(state: State, request_id: str, code: str, now: dt.datetime) -> DataRequest:
    with store.transaction(state.engine) as session:
        return verification.verify_code(session, request_id, code, now=now)


def _language(request: Request, register: Register, lang: str | None) -> str:
    return negotiate(register.languages, lang, request.headers.get("accept-language"))


def _labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang, LABELS["en"])


def _failure(exc: RightsError) -> str:
    """The label explaining a failed verification. The rights layer's messages are
    English sentences; their key words are matched here and pinned by the tests."""
    if isinstance(exc, RequestNotFoundError):
        return "rq_not_found"
    if isinstance(exc, VerificationError):
        text = str(exc)
        for word, key in (
            ("expired", "rq_link_expired"),
            ("used", "rq_link_used"),
            ("no code", "rq_code_none"),
            ("not right", "rq_err_code"),
            ("not valid", "rq_link_unknown"),
        ):
            if word in text:
                return key
    return "rq_link_failed"


def _values(form: Form, lang: str) -> FormValues:
    return FormValues(
        type=first(form, "type"),
        identifiers={kind: first(form, kind) for kind in FORM_IDENTIFIERS},
        activities=list(dict.fromkeys(form.get("activity", []))),
        details=first(form, "details"),
        language=first(form, "language") or lang,
    )


def _check(
    register: Register, values: FormValues, t: dict[str, str], *, today: dt.date
) -> list[FieldError]:
    """Field by field, in the order of the form, so the summary can point at each."""
    errors: list[FieldError] = []
    if values.type not in _TYPES:
        errors.append(FieldError("type", f"type-{_TYPES[0]}", t["rq_err_type"]))
    if not values.identifiers.get("email", "").strip():
        errors.append(FieldError("email", "email", t["rq_err_email_missing"]))
    for kind in FORM_IDENTIFIERS:
        value = values.identifiers.get(kind, "").strip()
        if not value:
            continue
        try:
            normalise(kind, value, today=today)
        except InvalidIdentifierError:
            errors.append(FieldError(kind, kind, t.get(f"rq_err_{kind}", t["rq_err_identifier"])))
    if values.type == RequestType.OBJECTION:
        known = {a.id for a in register.activities}
        if any(a not in known for a in values.activities):
            errors.append(FieldError("activity", "activities", t["rq_err_activity"]))
    if len(values.details) > MAX_DETAILS:
        errors.append(FieldError("details", "details", t["rq_err_details"].format(max=MAX_DETAILS)))
    if values.language not in register.languages:
        errors.append(
            FieldError("language", f"language-{register.languages[0]}", t["rq_err_language"])
        )
    return errors


def _form_page(
    request: Request,
    served: Served,
    lang: str,
    *,
    values: FormValues,
    errors: list[FieldError],
    status: int = 200,
) -> Response:
    register = served.register
    t = _labels(lang)
    base = base_path(request)
    page = render_page(
        "request_form.html.j2",
        lang=lang,
        title=register.organisation.name,
        org=register.organisation.name,
        base=base,
        values=values,
        errors=errors,
        field_errors={e.name: e.message for e in errors},
        form_token=FormTokens(request.app.state.keys).issue(),
        types=[
            {"value": kind, "label": t[f"rq_type_{kind}"], "hint": t[f"rq_type_{kind}_hint"]}
            for kind in _TYPES
        ],
        identifiers=[
            {
                "kind": kind,
                "label": t[f"rq_{kind}"],
                "hint": t[f"rq_{kind}_hint"],
                "input_type": {"email": "email", "phone": "tel"}.get(kind, "text"),
                "autocomplete": {"email": "email", "phone": "tel"}.get(kind, "off"),
                "required": kind == "email",
            }
            for kind in FORM_IDENTIFIERS
        ],
        activities=objection_activities(register, lang),
        languages=[{"code": code, "name": language_name(code)} for code in register.languages],
        max_details=MAX_DETAILS,
    )
    return HTMLResponse(page, status_code=status, headers=page_headers(lang))


def _sent_page(
    request: Request,
    request_id: str,
    lang: str,
    errors: list[FieldError],
    status: int = 200,
) -> Response:
    served = register_served(request)
    page = render_page(
        "request_sent.html.j2",
        lang=lang,
        title=served.register.organisation.name,
        base=base_path(request),
        request_id=request_id,
        errors=errors,
        field_errors={e.name: e.message for e in errors},
    )
    return HTMLResponse(page, status_code=status, headers=page_headers(lang))


def _verified_page(
    request: Request, verified: DataRequest, lang: str, *, private: bool = False
) -> Response:
    served = register_served(request)
    t = _labels(lang)
    page = render_page(
        "request_verified.html.j2",
        lang=lang,
        title=served.register.organisation.name,
        base=base_path(request),
        request_id=verified.id,
        type_label=t.get(f"rq_type_{verified.type}", verified.type),
        due=verified.due,
        due_text=long_date(verified.due, lang),
    )
    return HTMLResponse(page, headers=page_headers(lang, private=private))


def _problem(
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
    served = register_served(request)
    t = _labels(lang)
    dpo = served.register.organisation.dpo
    return problem_page(
        request,
        lang=lang,
        organisation=served.register.organisation.name,
        heading=t[title_key],
        message=t[message_key].format(**values),
        contact=dpo.email if dpo is not None else None,
        next_href=f"/privacy/request?lang={quote(lang)}",
        next_label=t["rq_start_again"],
        status=status,
        private=private,
        headers=headers,
    )


def _too_many(request: Request, lang: str, wait: int) -> Response:
    minutes = str(max(1, -(-wait // 60)))
    return _problem(
        request,
        lang,
        "rq_limit_title",
        "rq_limit",
        429,
        headers={"Retry-After": str(wait)},
        minutes=minutes,
    )
