"""The consent ledger over HTTP: the banner's texts, recording choices, receipts, statistics.

``POST /api/v1/consent/events`` is public and called by the banner from the
organisation's websites, so it answers CORS only for ``OMBUD_ALLOWED_ORIGINS``
(and Ombud's own ``OMBUD_BASE_URL``): a browser ``Origin`` outside them is
403, before the body is read. The handler stays lean: the body is capped at
4 KiB while it streams in, checked by hand, and the register version and text
digest are looked up once per process, and :func:`serve_event` serves the
route as plain ASGI, ahead of FastAPI. The checked choice then goes to the
app's :class:`~ombud.consent.writer.ConsentWriter` (group commit: the choices
of many requests in one transaction, with one audit entry), and the 201 is
sent after the commit that stored it; a batch the database failed is a 503
with nothing stored. Nothing is stored on any error, and no answer repeats
the visitor id.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, NamedTuple
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.types import Receive, Send
from starlette.types import Scope as AsgiScope

from ombud import store
from ombud.consent import (
    ConsentError,
    ConsentText,
    InvalidChoiceError,
    Method,
    ReceiptNotFoundError,
    UnknownTextError,
    UnknownVersionError,
    banner_text,
    digest,
    purpose_map,
    receipt,
    statistics,
    store_text,
    stored_register,
)
from ombud.consent.ledger import PendingChoice, prepare_choice
from ombud.consent.writer import ConsentWriter, WriteFailedError
from ombud.register.model import Register
from ombud.settings import Settings
from ombud.store.apikeys import ApiKey, Scope
from ombud.store.crypto import Keys
from ombud.web.auth import require_scope
from ombud.web.gate import NoEchoRoute
from ombud.web.headers import SECURITY_HEADER_LIST, log_request
from ombud.web.language import negotiate
from ombud.web.registry import RegisterSource

__all__ = [
    "BANNER_EXTRA",
    "EVENTS_PATH",
    "MAX_BODY",
    "Answer",
    "ConsentHttp",
    "consent_version",
    "consent_writer",
    "ingest",
    "router",
    "serve_event",
]

EVENTS_PATH = "/api/v1/consent/events"
#: The largest body accepted (docs/consent.md): a choice is a few hundred bytes.
MAX_BODY = 4096
#: How long a browser may keep a preflight answer, and a cache the banner's texts.
PREFLIGHT_MAX_AGE = 86_400
BANNER_MAX_AGE = 300
#: Text digests remembered as stored; texts are never deleted, so the cache only grows.
MAX_KNOWN_TEXTS = 10_000

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PUBLIC_METHODS = (Method.BANNER.value, Method.BANNER_SETTINGS.value)
_FIELDS = frozenset(
    {"visitor_id", "choices", "method", "language", "register_version", "text_digest", "gpc"}
)
_ALLOWED_HEADERS = frozenset({"content-type"})
#: The request headers the events endpoint reads.
_READ_HEADERS = frozenset({b"origin", b"content-length", b"sec-gpc", b"user-agent"})
#: banner.json's keys beside the text shown; ``text_digest`` is the SHA-256 of the rest.
BANNER_EXTRA = ("register_version", "text_digest", "consent_version", "languages", "gpc_purposes")

router = APIRouter(tags=["consent"], route_class=NoEchoRoute)
log = logging.getLogger(__name__)


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class _Banner:
    body: bytes
    etag: str
    language: str


class ConsentHttp:
    """What the consent routes keep between requests of one app: origins and lookups.

    The register versions and text digests seen to exist are remembered (neither
    is ever deleted), so a POST reads neither table again.
    """

    def __init__(self, settings: Settings) -> None:
        origins = {_origin_of(o) or o.strip().rstrip("/").lower() for o in settings.allowed_origins}
        own = _origin_of(settings.base_url)
        if own is not None:
            origins.add(own)
        self.origins = frozenset(origins)
        self.base_url = settings.base_url
        self._lock = threading.Lock()
        self._versions: dict[str, Register] = {}
        self._texts: dict[str, tuple[str, str]] = {}
        self._banners: dict[tuple[str, str], _Banner] = {}

    def allows(self, origin: str) -> bool:
        return origin.lower().rstrip("/") in self.origins

    def cors(self, origin: str | None) -> dict[str, str]:
        """The CORS headers of an answer to ``origin`` (none for no or a foreign origin)."""
        if origin is None or not self.allows(origin):
            return {}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def register(self, session: Session, version: str) -> Register:
        """The stored register ``version``; raises UnknownVersionError if never served."""
        found = self._versions.get(version)
        if found is None:
            if store.get_version(session, version) is None:
                raise UnknownVersionError(
                    "no register version with this hash was ever served; send the "
                    "register_version that /consent/banner.json gave with the text shown",
                    field="register_version",
                )
            found = stored_register(session, version)
            with self._lock:
                self._versions[version] = found
        return found

    def text(self, session: Session, text_digest: str) -> tuple[str, str]:
        """(kind, language) of the stored text ``text_digest``; raises UnknownTextError."""
        found = self._texts.get(text_digest)
        if found is None:
            row = session.get(ConsentText, text_digest)
            if row is None:
                raise UnknownTextError(
                    "no consent text with this digest was ever served; send the text_digest "
                    "that /consent/banner.json gave with the text shown",
                    field="text_digest",
                )
            found = (str(row.content.get("kind")), row.language)
            with self._lock:
                if len(self._texts) >= MAX_KNOWN_TEXTS:
                    self._texts.clear()
                self._texts[text_digest] = found
        return found

    def known(self, version: str, text_digest: str) -> tuple[Register, tuple[str, str]] | None:
        """The register ``version`` and the (kind, language) of ``text_digest`` if both are
        remembered (no database needed), else None."""
        register = self._versions.get(version)
        text = self._texts.get(text_digest)
        if register is None or text is None:
            return None
        return register, text

    def banner(self, state: State, register: Register, version: str, language: str) -> _Banner:
        """The banner.json body for ``version`` in ``language``; its text stored once."""
        found = self._banners.get((version, language))
        if found is not None:
            return found
        content = banner_text(register, language)
        key = digest(content)
        with store.transaction(state.engine) as session:
            store_text(
                session,
                content,
                register_version=version,
                language=language,
                now=dt.datetime.now(dt.UTC),
            )
        purposes = purpose_map(register, version)
        # The text's own fields at the top, as the banner script reads them; text_digest
        # covers exactly those (BANNER_EXTRA are added beside them and not hashed).
        body = json.dumps(
            {
                **content,
                "register_version": version,
                "text_digest": key,
                # What a choice answered, whatever the language it was shown in: the banner
                # asks again only when this changes (docs/banner.md).
                "consent_version": consent_version(register),
                "languages": list(register.languages),
                "gpc_purposes": sorted(purposes.gpc),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        found = _Banner(body, f'"{version[:16]}-{key[:16]}"', language)
        with self._lock:
            self._banners[(version, language)] = found
            self._texts[key] = ("banner", language)
        return found


def consent_version(register: Register) -> str:
    """SHA-256 of the banner's texts in every language of ``register``: it changes when a
    category, description, recipient or wording does, and with nothing else."""
    return digest({language: banner_text(register, language) for language in register.languages})


def _consent_http(state: State) -> ConsentHttp:
    found: ConsentHttp | None = getattr(state, "consent_http", None)
    if found is None:
        found = ConsentHttp(state.settings)
        state.consent_http = found
    return found


@dataclass(frozen=True)
class _Posted:
    visitor_id: str
    choices: dict[str, bool]
    method: str
    language: str
    register_version: str
    text_digest: str
    gpc: bool


def _parse(data: Any) -> tuple[_Posted | None, list[dict[str, Any]]]:
    """The body's fields checked by shape; every problem at once, never the value sent."""
    if not isinstance(data, dict):
        return None, [{"loc": ["body"], "msg": "send a JSON object", "type": "object_type"}]
    errors: list[dict[str, Any]] = []

    def bad(field: str, message: str, kind: str = "value_error") -> None:
        errors.append({"loc": ["body", field], "msg": message, "type": kind})

    errors.extend(
        {"loc": ["body", key], "msg": "unknown field", "type": "extra_forbidden"}
        for key in sorted(k for k in data if k not in _FIELDS)[:10]
    )
    visitor_id = data.get("visitor_id")
    if not isinstance(visitor_id, str) or not _UUID.match(visitor_id):
        bad("visitor_id", "visitor_id must be a UUID such as crypto.randomUUID() makes")
    choices = data.get("choices")
    if (
        not isinstance(choices, dict)
        or not choices
        or not all(isinstance(k, str) and isinstance(v, bool) for k, v in choices.items())
    ):
        bad("choices", 'choices must map purposes to true or false, e.g. {"statistics": true}')
    method = data.get("method", Method.BANNER.value)
    if method not in _PUBLIC_METHODS:
        bad("method", f"method must be one of: {', '.join(_PUBLIC_METHODS)}")
    language = data.get("language")
    if not isinstance(language, str) or not 1 <= len(language) <= 8:
        bad("language", "language must be the language of the text shown, e.g. sv")
    version = data.get("register_version")
    if not isinstance(version, str) or not _HEX64.match(version):
        bad("register_version", "register_version must be the 64-hex-digit version served")
    text_digest = data.get("text_digest")
    if not isinstance(text_digest, str) or not _HEX64.match(text_digest):
        bad("text_digest", "text_digest must be the 64-hex-digit digest of the text shown")
    gpc = data.get("gpc", False)
    if not isinstance(gpc, bool):
        bad("gpc", "gpc must be true or false")
    if errors:
        return None, errors
    return (
        _Posted(
            visitor_id=str(visitor_id),
            choices=dict(choices or {}),
            method=str(method),
            language=str(language),
            register_version=str(version),
            text_digest=str(text_digest),
            gpc=bool(gpc),
        ),
        [],
    )


def consent_writer(state: State) -> ConsentWriter:
    """The app's consent writer (made by the lifespan; made here for an app run without it)."""
    found: ConsentWriter | None = getattr(state, "consent_writer", None)
    if found is None:
        found = ConsentWriter(state.engine)
        state.consent_writer = found
    return found


def _look_up(
    engine: Engine, http: ConsentHttp, posted: _Posted
) -> tuple[Register, tuple[str, str]]:
    """The register version and the text posted, read from the database (first use only)."""
    with store.transaction(engine) as session:
        register = http.register(session, posted.register_version)
        return register, http.text(session, posted.text_digest)


def _prepare(
    keys: Keys,
    posted: _Posted,
    register: Register,
    text: tuple[str, str],
    *,
    gpc: bool,
    ip: str | None,
    user_agent: str | None,
) -> PendingChoice:
    """Check the text against the choice and make it ready for the writer; no database."""
    kind, language = text
    if kind != "banner":
        raise UnknownTextError(
            "text_digest names a sign-up form's text, not the banner's", field="text_digest"
        )
    if language != posted.language:
        raise InvalidChoiceError(
            f"the text shown is in {language!r}; send that language", field="language"
        )
    # The banner answers per category (docs/consent.md); the ledger records purposes.
    choices = purpose_map(register, posted.register_version).banner_answers(posted.choices)
    return prepare_choice(
        keys=keys,
        register=register,
        register_version=posted.register_version,
        subject=("visitor_id", posted.visitor_id),
        choices=choices,
        method=posted.method,
        language=posted.language,
        text_digest=posted.text_digest,
        gpc=gpc,
        ip=ip,
        user_agent=user_agent,
        now=dt.datetime.now(dt.UTC),
    )


class Answer(NamedTuple):
    """An answer of the events endpoint, ready for any transport."""

    status: int
    headers: dict[str, str]
    body: bytes


def _answer(status_code: int, payload: Any, headers: dict[str, str]) -> Answer:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Answer(status_code, {**headers, "Cache-Control": "no-store"}, body)


def _refusal(
    status_code: int, field: str | None, message: str, kind: str, headers: dict[str, str]
) -> Answer:
    loc = ["body", field] if field else ["body"]
    return _answer(status_code, {"detail": [{"loc": loc, "msg": message, "type": kind}]}, headers)


async def _body(length: str | None, chunks: AsyncIterator[bytes]) -> bytes | None:
    """The body, or None as soon as it is longer than MAX_BODY (it is not read further)."""
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        return None
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


async def ingest(
    state: State,
    headers: Mapping[str, str],
    chunks: AsyncIterator[bytes],
    client_host: str | None,
) -> Answer:
    """Record one banner choice: the whole of ``POST /api/v1/consent/events``.

    ``headers`` are the request's, by lower-case name; ``chunks`` its body as it
    arrives. Transport-neutral: :class:`ConsentEvents` serves it as plain ASGI,
    the route below (which documents it) through FastAPI.
    """
    http = _consent_http(state)
    origin = headers.get("origin")
    if origin is not None and not http.allows(origin):
        return _refusal(
            status.HTTP_403_FORBIDDEN,
            None,
            "this website's origin may not record consent here; add it to OMBUD_ALLOWED_ORIGINS",
            "origin_not_allowed",
            {},
        )
    cors = http.cors(origin)
    raw = await _body(headers.get("content-length"), chunks)
    if raw is None:
        return _refusal(
            status.HTTP_413_CONTENT_TOO_LARGE,
            None,
            f"the body is larger than {MAX_BODY} bytes",
            "too_large",
            cors,
        )
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _refusal(422, None, "the body is not JSON", "json_invalid", cors)
    posted, errors = _parse(data)
    if posted is None:
        return _answer(422, {"detail": errors}, cors)
    gpc = posted.gpc or headers.get("sec-gpc", "").strip() == "1"
    user_agent = headers.get("user-agent")
    return await _record(
        state, http, posted, gpc=gpc, ip=client_host, user_agent=user_agent, cors=cors
    )


async def _record(
    state: State,
    http: ConsentHttp,
    posted: _Posted,
    *,
    gpc: bool,
    ip: str | None,
    user_agent: str | None,
    cors: dict[str, str],
) -> Answer:
    """Check ``posted`` against the register and text shown, queue it, answer once committed."""
    try:
        known = http.known(posted.register_version, posted.text_digest)
        if known is None:
            known = await run_in_threadpool(_look_up, state.engine, http, posted)
        pending = _prepare(
            state.keys,
            posted,
            *known,
            gpc=gpc,
            ip=ip,
            user_agent=user_agent,
        )
    except ConsentError as exc:
        return _refusal(422, exc.field, str(exc), "invalid_" + (exc.field or "choice"), cors)
    try:
        choice = await consent_writer(state).record(pending)
    except WriteFailedError:
        problem = _refusal(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            None,
            "the choice was not recorded (the database failed) and nothing of it was stored; "
            "send it again",
            "not_recorded",
            cors,
        )
        problem.headers["Retry-After"] = "1"
        return problem
    answer = {
        "choice_id": choice.choice_id,
        "gpc": choice.gpc,
        "receipts": [
            {"purpose": e.purpose, "event": e.event.value, "receipt_id": e.receipt_id}
            for e in choice.events
        ],
    }
    return _answer(status.HTTP_201_CREATED, answer, cors)


async def serve_event(scope: AsgiScope, receive: Receive, send: Send) -> None:
    """``POST /api/v1/consent/events`` as plain ASGI, security headers and access log included.

    Every page view of the organisation's websites may post a choice, so this
    is Ombud's busiest route: the app (:class:`ombud.web.app.OmbudApp`) hands it
    here ahead of FastAPI's middleware, routing and request handling, which
    cost about twice the CPU of :func:`ingest` itself (bench/consent_ingest.py).
    The route below stays for the OpenAPI document and answers the same.
    """
    started = time.perf_counter()
    status_code = 500
    try:
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _READ_HEADERS
        }
        disconnected = False

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal disconnected
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected = True
                    return
                yield message.get("body", b"")
                if not message.get("more_body", False):
                    return

        client = scope.get("client")
        answer = await ingest(scope["app"].state, headers, chunks(), client[0] if client else None)
        if disconnected:
            status_code = 499  # nobody to answer; nothing was stored (the body never came whole)
            return
        status_code = answer.status
        await _send_answer(send, answer)
    except Exception as exc:  # noqa: BLE001 - whatever failed, the banner is answered
        # Not the traceback: a database error's parameters (digests) would follow it.
        log.error("a consent event failed: %s", type(exc).__name__)  # noqa: TRY400 - see above
        if status_code == 500:  # nothing was sent yet
            detail = {"detail": "the choice was not recorded; send it again"}
            await _send_answer(send, _answer(500, detail, {}))
    finally:
        log_request("POST", EVENTS_PATH, status_code, started)


async def _send_answer(send: Send, answer: Answer) -> None:
    """``answer`` as an ASGI response, with the security headers the middleware would add."""
    await send(
        {
            "type": "http.response.start",
            "status": answer.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(answer.body)).encode("latin-1")),
                *(
                    (k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in answer.headers.items()
                ),
                *SECURITY_HEADER_LIST,
            ],
        }
    )
    await send({"type": "http.response.body", "body": answer.body})


@router.post(
    EVENTS_PATH,
    status_code=status.HTTP_201_CREATED,
    responses={
        201: {"description": "Recorded and committed: the choice id and a receipt per purpose."},
        403: {"description": "A browser Origin that is not in OMBUD_ALLOWED_ORIGINS."},
        413: {"description": "A body over 4 KiB."},
        422: {"description": "A field is wrong; `detail[].loc` names it. Nothing was stored."},
        503: {"description": "The database failed the write; nothing was stored. Send again."},
    },
)
async def record_event(request: Request) -> Response:
    """Record the cookie banner's choice: one event per purpose, with a receipt id each.

    Body: `{"visitor_id": "<uuid>", "choices": {"statistics": true, "marketing": false},
    "method": "banner", "language": "sv", "register_version": "<hash>",
    "text_digest": "<sha256>", "gpc": false}` as `application/json` or `text/plain`.
    A `Sec-GPC: 1` header or `"gpc": true` refuses the marketing purposes whatever
    the choices say.
    """
    answer = await ingest(
        request.app.state,
        request.headers,
        request.stream(),
        request.client.host if request.client is not None else None,
    )
    return Response(
        answer.body,
        status_code=answer.status,
        headers=answer.headers,
        media_type="application/json",
    )


@router.options(EVENTS_PATH, include_in_schema=False)
def preflight(request: Request) -> Response:
    """CORS preflight: allowed origins may POST JSON; anyone else gets 403."""
    http = _consent_http(request.app.state)
    origin = request.headers.get("origin")
    method = request.headers.get("access-control-request-method", "")
    asked = {
        h.strip().lower()
        for h in request.headers.get("access-control-request-headers", "").split(",")
        if h.strip()
    }
    if origin is None or not http.allows(origin) or method.upper() != "POST":
        return Response(status_code=status.HTTP_403_FORBIDDEN, headers={"Vary": "Origin"})
    if not asked <= _ALLOWED_HEADERS:
        return Response(status_code=status.HTTP_403_FORBIDDEN, headers={"Vary": "Origin"})
    return Response(
        status_code=status.HTTP_204_NO_CONTENT,
        headers={
            **http.cors(origin),
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
        },
    )


@router.get("/consent/banner.json")
def banner_json(
    request: Request,
    lang: Annotated[str | None, Query(description="sv, en, ...; else Accept-Language")] = None,
) -> Response:
    """The banner's texts and categories for the current register version and a language.

    `content` is what the banner shows; `text_digest` is its SHA-256 (canonical
    JSON), to send back with the choice together with `register_version`.
    """
    http = _consent_http(request.app.state)
    source: RegisterSource = request.app.state.register
    served = source.current()
    language = negotiate(served.register.languages, lang, request.headers.get("accept-language"))
    banner = http.banner(request.app.state, served.register, served.version, language)
    headers = {
        "ETag": banner.etag,
        "Cache-Control": f"public, max-age={BANNER_MAX_AGE}",
        "Content-Language": banner.language,
        "Vary": "Accept-Language",
        # Public texts, read by the banner on other origins; no credentials involved.
        "Access-Control-Allow-Origin": "*",
    }
    if request.headers.get("if-none-match") == banner.etag:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(banner.body, media_type="application/json", headers=headers)


@router.get(
    "/api/v1/consent/receipts/{receipt_id}",
    responses={404: {"description": "No such receipt (or it was erased)."}},
)
def get_receipt(receipt_id: str, request: Request) -> Response:
    """The receipt of one consent event (ISO/IEC TS 27560 / Kantara v1.1 JSON).

    The receipt id is a random UUID handed only to the person (the banner's
    answer, the confirmation page): the link is the permission to read it.
    """
    http = _consent_http(request.app.state)
    cors = http.cors(request.headers.get("origin"))
    try:
        with store.transaction(request.app.state.engine) as session:
            body = receipt(session, receipt_id, base_url=http.base_url)
    except ReceiptNotFoundError as exc:
        return JSONResponse(
            {"detail": str(exc)}, status_code=404, headers={**cors, "Cache-Control": "no-store"}
        )
    return JSONResponse(body, headers={**cors, "Cache-Control": "no-store"})


@router.get(
    "/api/v1/consent/statistics",
    responses={
        401: {"description": "No API key, or an unknown or revoked one."},
        403: {"description": "The key lacks the scope `consent:read`."},
    },
)
def get_statistics(
    request: Request,
    _key: Annotated[ApiKey, Depends(require_scope(Scope.CONSENT_READ))],
    since: Annotated[
        dt.date | None, Query(description="First day (UTC); 29 days before until.")
    ] = None,
    until: Annotated[dt.date | None, Query(description="Last day (UTC); today.")] = None,
) -> Response:
    """The banner's consent rates per day and category: shown, given, refused, withdrawn,
    the share with a GPC signal and the share that rejected everything."""
    last = until or dt.datetime.now(dt.UTC).date()
    first = since or last - dt.timedelta(days=29)
    try:
        with store.transaction(request.app.state.engine) as session:
            rows = statistics(session, since=first, until=last)
    except ValueError as exc:
        return JSONResponse(
            {"detail": [{"loc": ["query", "since"], "msg": str(exc), "type": "value_error"}]},
            status_code=422,
        )
    return JSONResponse(
        {"since": first.isoformat(), "until": last.isoformat(), "days": rows},
        headers={"Cache-Control": "no-store"},
    )
