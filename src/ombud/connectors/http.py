"""The http connector: a system that implements Ombud's small signed JSON protocol.

``POST {url}/ombud/check``, ``/find``, ``/erase``, ``/restrict`` and
``/rectify``, each a JSON body signed with HMAC-SHA256 over the timestamp and
the body. docs/connectors.md describes the protocol for implementers;
:func:`verify_signature` checks a request on their side.

Connect errors, 5xx and 429 answers are retried with exponential backoff and
jitter (a ``Retry-After`` is respected; one longer than the policy's
``max_delay`` ends the retries, so the step is resumed later instead of holding
a worker). 4xx answers are never retried, nor are read timeouts: a system that
is slow because it is overloaded is not helped by more requests.
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Collection as Values
from datetime import UTC
from typing import Any, TypeVar

import httpx2

from ombud.connectors.base import (
    ConnectorError,
    Counts,
    Erasure,
    Found,
    InvalidSpec,
    Key,
    Rejected,
    SchemaMismatch,
    Strategy,
    SystemSpec,
    Timeout,
    Unreachable,
    Value,
)
from ombud.connectors.retry import RetryPolicy

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TOLERANCE_SECONDS",
    "HttpConnector",
    "sign",
    "verify_signature",
]

TIMESTAMP_HEADER = "X-Ombud-Timestamp"
SIGNATURE_HEADER = "X-Ombud-Signature"
#: How far a request's timestamp may be from the receiver's clock.
TOLERANCE_SECONDS = 300
#: Values or keys per request.
BATCH_SIZE = 500

T = TypeVar("T")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Ombud-Signature`` value: ``sha256=`` and the hex HMAC-SHA256, keyed with the
    UTF-8 secret, of the timestamp, a full stop and the body.
    """
    message = timestamp.encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    now: float,
    *,
    tolerance: float = TOLERANCE_SECONDS,
) -> bool:
    """Whether a request is Ombud's: the signature matches (compared in constant time) and
    the timestamp is within ``tolerance`` seconds of ``now`` (replays of old requests fail).

    For implementers of the protocol: pass the raw body bytes as received, before
    parsing the JSON.
    """
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


class _Retryable(Exception):  # noqa: N818  internal: carries the error to raise when retries end
    def __init__(self, error: ConnectorError, retry_after: float | None = None) -> None:
        self.error = error
        self.retry_after = retry_after
        super().__init__(str(error))


class HttpConnector:
    """A system behind Ombud's HTTP protocol (see the module docstring).

    ``transport`` is the seam for tests (``httpx2.MockTransport``) and for
    special set-ups (a proxy, client certificates); ``clock`` gives the
    timestamp that is signed.
    """

    def __init__(
        self,
        spec: SystemSpec,
        *,
        transport: httpx2.BaseTransport | None = None,
        timeout: float = 10.0,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        if not spec.url:
            raise InvalidSpec(spec.id, "an http system needs `url:` (its base URL)")
        if not spec.secret:
            raise InvalidSpec(
                spec.id,
                f"an http system needs `secret:` to sign requests (secret: env:"
                f"{spec.id.upper().replace('-', '_')}_SECRET)",
            )
        self._spec = spec
        self._secret = spec.secret
        self._policy = policy if policy is not None else RetryPolicy()
        self._clock = clock
        self._batch_size = batch_size
        self._client = httpx2.Client(
            base_url=spec.url.rstrip("/") + "/ombud/",
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": "ombud", "X-Ombud-System": spec.id},
        )

    @property
    def spec(self) -> SystemSpec:
        return self._spec

    def close(self) -> None:
        self._client.close()

    # --- the protocol -------------------------------------------------------------------------

    def check(self) -> None:
        declared = {name: list(self._spec.columns(name)) for name in self._spec.collections}
        answer = self._post("check", {"collections": declared}, None)
        missing = answer.get("missing") or {}
        if not isinstance(missing, dict):
            raise self._malformed("check", None)
        for collection, columns in sorted(missing.items()):
            if columns:
                column = str(columns[0]) if isinstance(columns, list) else None
                raise SchemaMismatch(
                    self._spec.id,
                    f"the system does not know column `{column}`"
                    if column
                    else "the system does not know the collection",
                    collection=str(collection),
                    column=column,
                )

    def find(self, collection: str, column: str, values: Values[Value]) -> list[Found]:
        self._spec.collection(collection)
        found: list[Found] = []
        for batch in _batches(list(dict.fromkeys(values)), self._batch_size):
            answer = self._post(
                "find", {"collection": collection, "column": column, "values": batch}, collection
            )
            rows = answer.get("rows")
            if not isinstance(rows, list):
                raise self._malformed("find", collection)
            for row in rows:
                if not (
                    isinstance(row, dict)
                    and isinstance(row.get("key"), list)
                    and isinstance(row.get("values"), dict)
                ):
                    raise self._malformed("find", collection)
                found.append(Found(collection, tuple(row["key"]), row["values"]))
        return found

    def erase(
        self, collection: str, keys: Sequence[Key], strategy: Erasure, *, hash_key: bytes
    ) -> Counts:
        spec = self._spec.collection(collection)
        if spec.held:  # never ask the system to erase what a legal hold keeps
            counts = (
                self.restrict(collection, keys, on=True) if spec.restrict else Counts(collection)
            )
            return Counts(collection, restricted=counts.restricted, held=len(set(map(tuple, keys))))
        payload: dict[str, Any] = {
            "erasure": strategy
            if isinstance(strategy, str)
            else {column: Strategy(s).value for column, s in strategy.items()}
        }
        if not isinstance(strategy, str) and Strategy.HASH in strategy.values():
            payload["hash_key"] = hash_key.hex()
        return self._counted("erase", collection, keys, payload)

    def restrict(self, collection: str, keys: Sequence[Key], *, on: bool) -> Counts:
        self._spec.collection(collection)
        return self._counted("restrict", collection, keys, {"on": on})

    def rectify(self, collection: str, key: Key, changes: Mapping[str, Value]) -> Counts:
        spec = self._spec.collection(collection)
        for column in changes:
            if column not in spec.fields:
                raise Rejected(
                    self._spec.id,
                    f"column `{column}` is not a declared field; rectification changes only "
                    f"the columns under `fields:` ({', '.join(spec.fields) or 'none'})",
                    collection=collection,
                )
        answer = self._post(
            "rectify",
            {"collection": collection, "key": list(key), "changes": dict(changes)},
            collection,
        )
        return self._counts(answer, collection, "rectify")

    # --- requests -----------------------------------------------------------------------------

    def _counted(
        self, endpoint: str, collection: str, keys: Sequence[Key], extra: Mapping[str, Any]
    ) -> Counts:
        total = Counts(collection)
        unique = list(dict.fromkeys(tuple(key) for key in keys))
        for batch in _batches(unique, self._batch_size):
            payload = {"collection": collection, "keys": [list(k) for k in batch], **extra}
            answer = self._post(endpoint, payload, collection)
            total += self._counts(answer, collection, endpoint)
        return total

    def _counts(self, answer: Mapping[str, Any], collection: str, endpoint: str) -> Counts:
        names = ("matched", "deleted", "updated", "restricted", "held")
        values = [answer.get(name, 0) for name in names]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            raise self._malformed(endpoint, collection)
        return Counts(collection, *values)

    def _post(self, endpoint: str, payload: Mapping[str, Any], collection: str | None) -> Any:
        body = json.dumps(payload, separators=(",", ":"), default=str).encode("utf-8")

        def attempt() -> Any:
            timestamp = str(int(self._clock()))
            headers = {
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            }
            try:
                response = self._client.post(endpoint, content=body, headers=headers)
            except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
                raise _Retryable(
                    Unreachable(
                        self._spec.id,
                        f"cannot connect to {self._client.base_url.host} ({type(exc).__name__})",
                        collection=collection,
                    )
                ) from None
            except httpx2.TimeoutException as exc:
                raise Timeout(
                    self._spec.id,
                    f"no answer from /ombud/{endpoint} in time ({type(exc).__name__})",
                    collection=collection,
                ) from None
            except httpx2.TransportError as exc:
                raise _Retryable(
                    Unreachable(
                        self._spec.id,
                        f"the connection failed ({type(exc).__name__})",
                        collection=collection,
                    )
                ) from None
            return self._answer(endpoint, response, collection)

        try:
            return self._policy.call(
                attempt,
                retry_on=lambda exc: isinstance(exc, _Retryable),
                retry_after=lambda exc: exc.retry_after if isinstance(exc, _Retryable) else None,
            )
        except _Retryable as exc:
            raise exc.error from None

    def _answer(self, endpoint: str, response: httpx2.Response, collection: str | None) -> Any:
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Retryable(
                Unreachable(
                    self._spec.id,
                    f"/ombud/{endpoint} answered {status} until the retries ran out; "
                    "try again later",
                    collection=collection,
                ),
                _retry_after(response.headers.get("Retry-After"), self._clock()),
            )
        if status >= 400:
            raise self._refusal(endpoint, response, collection)
        try:
            answer = response.json()
        except ValueError:
            raise self._malformed(endpoint, collection) from None
        if not isinstance(answer, dict):
            raise self._malformed(endpoint, collection)
        return answer

    def _refusal(
        self, endpoint: str, response: httpx2.Response, collection: str | None
    ) -> ConnectorError:
        status = response.status_code
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        if code in ("unknown_column", "unknown_collection"):
            column = error.get("column")
            return SchemaMismatch(
                self._spec.id,
                f"the system does not know column `{column}`"
                if column
                else "the system does not know the collection",
                collection=error.get("collection") or collection,
                column=column if isinstance(column, str) else None,
            )
        if status in (401, 403):
            return Rejected(
                self._spec.id,
                f"/ombud/{endpoint} refused the signature ({status}); check that both sides "
                "have the same secret and that their clocks agree",
                collection=collection,
            )
        # The system's own message may quote what it was sent: show only its code.
        return Rejected(
            self._spec.id,
            f"/ombud/{endpoint} refused the request ({status}"
            + (f", {code}" if isinstance(code, str) else "")
            + ")",
            collection=collection,
        )

    def _malformed(self, endpoint: str, collection: str | None) -> Rejected:
        return Rejected(
            self._spec.id,
            f"/ombud/{endpoint} answered with JSON that does not follow the protocol "
            "(docs/connectors.md)",
            collection=collection,
        )


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a Retry-After header: a number of seconds, or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
