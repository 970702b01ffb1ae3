"""Public forms: reading a form post, the anti-forgery token, and a per-client submission limit.

The privacy portal's forms are public and create only unverified requests,
so what they need is protection from other sites and from floods, not logins:

- :func:`read_form` parses ``application/x-www-form-urlencoded`` bodies (the
  only kind the portal's forms send) with a size cap, without python-multipart.
- :class:`FormTokens` issues and checks a hidden ``form_token``: a timestamp
  and an HMAC of it under a key derived from OMBUD_SECRET_KEY. It proves the
  post comes from a form this server rendered recently; :func:`same_origin`
  adds the browser's own word (the ``Origin`` header) that it was sent from
  this site.
- :class:`SubmissionLimiter` counts submissions per client address in the
  database, for every server process (:mod:`ombud.store.limits`). The address
  is kept only as a keyed hash, only for the window, and is never logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

from fastapi import Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from ombud.store import transaction
from ombud.store.crypto import Keys
from ombud.store.limits import Admission, SubmissionLimit, give_back, take

#: Form bodies larger than this are refused. The largest legitimate form is the details
#: text: 10,000 characters of up to 4 UTF-8 bytes, each percent-encoded as 3 (120,000).
MAX_FORM_BYTES = 200_000
#: How long a rendered form may be sent back. A person may take a while to write.
FORM_TOKEN_MAX_AGE = 4 * 60 * 60
#: Tolerance for a token "from the future" (several servers, slightly different clocks).
_CLOCK_SKEW = 60
_TOKEN_VERSION = "v1"  # noqa: S105 - a format version, not a secret


class FormError(ValueError):
    """The body is not a form the portal can read (type, size or encoding)."""


Form = dict[str, list[str]]


async def read_form(request: Request, *, max_bytes: int = MAX_FORM_BYTES) -> Form:
    """The urlencoded fields of ``request``'s body, each name with all its values in order.

    Raises :class:`FormError` for another content type, a body over
    ``max_bytes`` or bytes that are not UTF-8.
    """
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormError("send the form as application/x-www-form-urlencoded")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise FormError(f"the form is larger than {max_bytes} bytes")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise FormError("the form is not UTF-8 text") from None
    form: Form = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form


def first(form: Form, name: str) -> str:
    """The first value of field ``name``, or the empty string."""
    values = form.get(name)
    return values[0] if values else ""


class FormTokens:
    """Issues and checks anti-forgery tokens: ``v1.<unix time>.<hmac>``.

    The key is an HMAC of a fixed label under the identifier key, so it is
    derived from OMBUD_SECRET_KEY and differs from every identifier digest
    (those always contain a NUL byte; the label does not).
    """

    def __init__(
        self,
        keys: Keys,
        *,
        max_age: int = FORM_TOKEN_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = hmac.new(keys.hmac_key, b"ombud form token v1", hashlib.sha256).digest()
        self._max_age = max_age
        self._clock = clock

    def issue(self) -> str:
        """A token for a form rendered now."""
        stamp = str(int(self._clock()))
        return f"{_TOKEN_VERSION}.{stamp}.{self._mac(stamp)}"

    def valid(self, token: str) -> bool:
        """Whether ``token`` was issued by this server (this secret key) and is fresh."""
        version, _, rest = token.partition(".")
        stamp, _, mac = rest.partition(".")
        if version != _TOKEN_VERSION or not stamp.isdigit() or len(stamp) > 12:
            return False
        if not hmac.compare_digest(mac, self._mac(stamp)):
            return False
        age = self._clock() - int(stamp)
        return -_CLOCK_SKEW <= age <= self._max_age

    def _mac(self, stamp: str) -> str:
        return hmac.new(self._key, stamp.encode("ascii"), hashlib.sha256).hexdigest()


def same_origin(request: Request, base_url: str) -> bool:
    """False when the browser says the post came from another site.

    Browsers send ``Origin`` with every cross-site POST. It must be Ombud's
    public address (OMBUD_BASE_URL) or the address the request was sent to.
    Without the header (older browsers, scripts) the form token alone decides.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    allowed = {_origin(base_url), f"{request.url.scheme}://{request.headers.get('host', '')}"}
    return origin.rstrip("/").lower() in allowed


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class SubmissionLimiter:
    """At most ``limit.limit`` submissions per client address in ``limit.window``,
    counted in the database for every server process (:mod:`ombud.store.limits`).

    :meth:`admit` before handling a submission (it counts it at once, so a burst
    cannot slip through), :meth:`give_back` when it was then refused for its
    content. Both run on the thread pool.
    """

    def __init__(
        self,
        engine: Engine,
        keys: Keys,
        limit: SubmissionLimit,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.limit = limit
        self._engine = engine
        self._keys = keys
        self._clock = clock

    async def admit(self, client: str | None) -> Admission:
        """Count a submission of ``client`` now; ``wait`` > 0 (seconds) means refuse it."""
        return await run_in_threadpool(self._take, client)

    async def give_back(self, admission: Admission | None) -> None:
        """Uncount an admitted submission that was not handled (its content was refused)."""
        if admission is not None and admission.hit is not None:
            await run_in_threadpool(self._give_back, admission)

    def _take(self, client: str | None) -> Admission:
        with transaction(self._engine) as session:
            return take(session, self._keys, self.limit, client, now=self._clock())

    def _give_back(self, admission: Admission) -> None:
        with transaction(self._engine) as session:
            give_back(session, admission)
