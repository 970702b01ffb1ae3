"""The http connector against a real HTTP server that implements the protocol.

The server (stdlib http.server in a thread, on a free port of 127.0.0.1) is the
kind of system a third party would write from docs/connectors.md: it checks
every signature with :func:`verify_signature` and keeps its rows in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest

from ombud.connectors import (
    REDACTED,
    CollectionSpec,
    Counts,
    HttpConnector,
    Lookup,
    Reference,
    Rejected,
    RetryPolicy,
    SchemaMismatch,
    Strategy,
    SystemSpec,
    Timeout,
    Unreachable,
    mask,
    sign,
    traverse,
    verify_signature,
)

SECRET = "a shared secret of the two systems"
Table = dict[int, dict[str, Any]]
HASH_KEY = bytes(range(32))


@dataclass
class FakeSystem:
    """A third party's implementation of the protocol, with rows in memory."""

    rows: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {
            "members": {
                1: {"id": 1, "email": "anna@example.se", "name": "Anna", "on_hold": False},
                2: {"id": 2, "email": "bertil@example.se", "name": "Bertil", "on_hold": False},
            },
            "invoices": {50: {"id": 50, "member_id": 1, "on_hold": False}},
        }
    )
    #: answers to give before the real ones: (status, headers)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0
    requests: list[str] = field(default_factory=list)
    refused_signatures: int = 0

    def answer(self, endpoint: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if endpoint == "check":
            missing = {
                name: [c for c in columns if name not in self.rows or not self._has(name, c)]
                for name, columns in body["collections"].items()
            }
            return 200, {"missing": {k: v for k, v in missing.items() if v}}
        table = self.rows.get(body.get("collection", ""))
        if table is None:
            return 422, {"error": {"code": "unknown_collection"}}
        handlers = {
            "find": self._find,
            "erase": self._erase,
            "restrict": self._restrict,
            "rectify": self._rectify,
        }
        if endpoint not in handlers:
            return 404, {"error": {"code": "unknown_endpoint"}}
        return handlers[endpoint](table, body)

    def _find(self, table: Table, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not self._has(body["collection"], body["column"]):
            error = {"code": "unknown_column"} | {k: body[k] for k in ("collection", "column")}
            return 422, {"error": error}
        rows = [r for r in table.values() if r.get(body["column"]) in body["values"]]
        return 200, {"rows": [{"key": [r["id"]], "values": r} for r in rows]}

    def _erase(self, table: Table, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        present = [key[0] for key in body["keys"] if key[0] in table]
        if body["erasure"] == "delete":
            for key in present:
                del table[key]
            return 200, {"matched": len(present), "deleted": len(present)}
        hash_key = bytes.fromhex(body.get("hash_key", ""))
        updated = 0
        for key in present:
            row = table[key]
            new = row | {
                c: mask(Strategy(s), row.get(c), hash_key=hash_key)
                for c, s in body["erasure"].items()
            }
            updated += new != row
            table[key] = new
        return 200, {"matched": len(present), "updated": updated}

    def _restrict(self, table: Table, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        present = [key[0] for key in body["keys"] if key[0] in table]
        changed = [key for key in present if table[key]["on_hold"] != body["on"]]
        for key in changed:
            table[key]["on_hold"] = body["on"]
        return 200, {"matched": len(present), "restricted": len(changed)}

    def _rectify(self, table: Table, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        row = table.get(body["key"][0])
        if row is None:
            return 200, {"matched": 0}
        new = row | body["changes"]
        table[body["key"][0]] = new
        return 200, {"matched": 1, "updated": int(new != row)}

    def _has(self, collection: str, column: str) -> bool:
        return any(column in row for row in self.rows[collection].values())


class Handler(BaseHTTPRequestHandler):
    system: FakeSystem

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        endpoint = self.path.removeprefix("/api/ombud/")
        self.server.system.requests.append(endpoint)  # type: ignore[attr-defined]
        system: FakeSystem = self.server.system  # type: ignore[attr-defined]
        if not verify_signature(
            SECRET,
            self.headers.get("X-Ombud-Timestamp", ""),
            body,
            self.headers.get("X-Ombud-Signature", ""),
            time.time(),
        ):
            system.refused_signatures += 1
            self._send(401, {"error": {"code": "bad_signature"}})
            return
        if system.failures:
            status, headers = system.failures.pop(0)
            self._send(status, {"error": {"code": "busy"}}, headers)
            return
        time.sleep(system.delay)
        try:
            payload = json.loads(body)
        except ValueError:
            self._send(400, {"error": {"code": "bad_request"}})
            return
        self._send(*system.answer(endpoint, payload))

    def _send(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        # the client may have given up waiting (the timeout test)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass  # quiet


@dataclass
class Server:
    url: str
    system: FakeSystem


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.system = FakeSystem()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}/api", httpd.system)  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def spec(url: str, secret: str = SECRET) -> SystemSpec:
    return SystemSpec(
        id="members",
        connector="http",
        url=url,
        secret=secret,
        collections={
            "members": CollectionSpec(
                "members",
                primary_key=("id",),
                identity={"email": "email"},
                fields={"name": "identity", "email": "contact"},
                erasure={"email": Strategy.HASH, "name": Strategy.REDACT},
                restrict="on_hold",
            ),
            "invoices": CollectionSpec(
                "invoices",
                primary_key=("id",),
                references={"member_id": Reference("members", "id")},
                restrict="on_hold",
                legal_hold="bookkeeping",
            ),
        },
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def connect(server: Server, sleeps: list[float]) -> Iterator[Any]:
    opened: list[HttpConnector] = []

    def make(url: str | None = None, **kwargs: Any) -> HttpConnector:
        kwargs.setdefault("policy", RetryPolicy(attempts=3, sleep=sleeps.append))
        secret = kwargs.pop("secret", SECRET)
        connector = HttpConnector(spec(url or server.url, secret), **kwargs)
        opened.append(connector)
        return connector

    yield make
    for connector in opened:
        connector.close()


# --- the protocol --------------------------------------------------------------------------------


def test_check_find_and_traverse(connect: Any, server: Server) -> None:
    connector = connect()
    connector.check()
    rows = connector.find("members", "email", ["anna@example.se"])
    assert [(r.key, r.values["name"]) for r in rows] == [((1,), "Anna")]
    result = traverse(connector, Lookup.of(email="anna@example.se"))
    assert result.keys("invoices") == [(50,)]
    assert server.system.refused_signatures == 0


def test_erase_with_hash_and_redact_then_again(connect: Any, server: Server) -> None:
    connector = connect()
    strategy = connector.spec.collections["members"].erasure
    assert connector.erase("members", [(1,)], strategy, hash_key=HASH_KEY) == Counts(
        "members", matched=1, updated=1
    )
    row = server.system.rows["members"][1]
    assert row["email"] == hmac.new(HASH_KEY, b"anna@example.se", hashlib.sha256).hexdigest()
    assert row["name"] == REDACTED
    assert connector.erase("members", [(1,)], strategy, hash_key=HASH_KEY).changed == 0


def test_a_held_collection_is_restricted_not_erased(connect: Any, server: Server) -> None:
    connector = connect()
    counts = connector.erase("invoices", [(50,)], "delete", hash_key=HASH_KEY)
    assert counts == Counts("invoices", restricted=1, held=1)
    assert server.system.requests == ["restrict"]
    assert server.system.rows["invoices"][50]["on_hold"] is True


def test_restrict_and_rectify(connect: Any, server: Server) -> None:
    connector = connect()
    assert connector.restrict("members", [(1,), (2,)], on=True).restricted == 2
    assert connector.restrict("members", [(1,), (2,)], on=True).restricted == 0
    assert connector.rectify("members", (2,), {"name": "Bertil Berg"}).updated == 1
    assert server.system.rows["members"][2]["name"] == "Bertil Berg"
    with pytest.raises(Rejected, match="`on_hold` is not a declared field"):
        connector.rectify("members", (2,), {"on_hold": False})


def test_check_names_a_column_the_system_lacks(connect: Any, server: Server) -> None:
    for row in server.system.rows["members"].values():
        del row["name"]
    with pytest.raises(SchemaMismatch) as caught:
        connect().check()
    assert (caught.value.collection, caught.value.column) == ("members", "name")


def test_an_unknown_column_is_a_schema_mismatch(connect: Any) -> None:
    with pytest.raises(SchemaMismatch, match="does not know column `email`"):
        connect().find("invoices", "email", ["anna@example.se"])


# --- failures and retries ------------------------------------------------------------------------


def test_5xx_is_retried_with_backoff_then_succeeds(
    connect: Any, server: Server, sleeps: list[float]
) -> None:
    server.system.failures = [(503, {}), (502, {})]
    rows = connect().find("members", "email", ["anna@example.se"])
    assert len(rows) == 1
    assert server.system.requests == ["find", "find", "find"]
    assert len(sleeps) == 2
    assert 0.1 <= sleeps[0] <= 0.2 <= sleeps[1] <= 0.4  # base 0.2 s, doubling, jittered


def test_429_retry_after_is_respected(connect: Any, server: Server, sleeps: list[float]) -> None:
    server.system.failures = [(429, {"Retry-After": "3"})]
    connect().find("members", "email", ["anna@example.se"])
    assert sleeps == [3.0]


def test_retry_after_as_an_http_date(connect: Any, server: Server, sleeps: list[float]) -> None:
    server.system.failures = [(503, {"Retry-After": formatdate(time.time() + 3, usegmt=True)})]
    connect().find("members", "email", ["anna@example.se"])
    assert len(sleeps) == 1
    assert 1.5 <= sleeps[0] <= 3.0


def test_a_retry_after_beyond_max_delay_is_not_waited(connect: Any, server: Server) -> None:
    server.system.failures = [(503, {"Retry-After": "3600"})]
    with pytest.raises(Unreachable, match="answered 503"):
        connect().find("members", "email", ["anna@example.se"])
    assert server.system.requests == ["find"]


def test_5xx_until_the_retries_run_out_is_unreachable(connect: Any, server: Server) -> None:
    server.system.failures = [(503, {})] * 3
    with pytest.raises(Unreachable, match=r"/ombud/find answered 503 until the retries ran out"):
        connect().find("members", "email", ["anna@example.se"])
    assert len(server.system.requests) == 3


def test_4xx_is_not_retried(connect: Any, server: Server, sleeps: list[float]) -> None:
    server.system.failures = [(400, {})]
    with pytest.raises(Rejected, match=r"refused the request \(400, busy\)"):
        connect().find("members", "email", ["anna@example.se"])
    assert (server.system.requests, sleeps) == (["find"], [])


def test_a_wrong_secret_is_refused(connect: Any, server: Server) -> None:
    with pytest.raises(Rejected, match="refused the signature"):
        connect(secret="not the secret").find("members", "email", ["anna@example.se"])
    assert server.system.refused_signatures == 1


def test_a_slow_answer_is_a_timeout_and_not_retried(
    connect: Any, server: Server, sleeps: list[float]
) -> None:
    server.system.delay = 0.5
    started = time.monotonic()
    with pytest.raises(Timeout, match="no answer from /ombud/find in time"):
        connect(timeout=0.1).find("members", "email", ["anna@example.se"])
    assert time.monotonic() - started < 0.45
    assert (server.system.requests, sleeps) == (["find"], [])


def test_no_server_is_unreachable_after_retries(connect: Any, sleeps: list[float]) -> None:
    with pytest.raises(Unreachable, match=r"system `members`.*cannot connect to 127.0.0.1"):
        connect("http://127.0.0.1:1/api").check()
    assert len(sleeps) == 2


# --- signatures and the transport seam -----------------------------------------------------------


def test_verify_signature() -> None:
    body = b'{"collection":"members"}'
    header = sign(SECRET, "1700000000", body)
    assert header.startswith("sha256=")
    assert verify_signature(SECRET, "1700000000", body, header, now=1700000100)
    assert not verify_signature("other", "1700000000", body, header, now=1700000100)
    assert not verify_signature(SECRET, "1700000000", body + b" ", header, now=1700000100)
    assert not verify_signature(SECRET, "1700000001", body, header, now=1700000100)
    assert not verify_signature(SECRET, "1700000000", body, header, now=1700000000 + 301)
    assert not verify_signature(SECRET, "yesterday", body, header, now=1700000100)


def test_the_documented_test_vector() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "connectors.md").read_text(encoding="utf-8")
    assert sign("s", "1700000000", b"{}") in docs


def test_requests_as_sent_on_the_wire() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json={"rows": []})

    connector = HttpConnector(
        spec("https://members.example.se/api/"),
        transport=httpx2.MockTransport(handler),
        clock=lambda: 1700000000.5,
    )
    connector.find("members", "email", ["anna@example.se"])
    connector.close()
    request = seen[0]
    assert str(request.url) == "https://members.example.se/api/ombud/find"
    assert json.loads(request.content) == {
        "collection": "members",
        "column": "email",
        "values": ["anna@example.se"],
    }
    assert request.headers["X-Ombud-Timestamp"] == "1700000000"
    assert request.headers["X-Ombud-Signature"] == sign(SECRET, "1700000000", request.content)
    assert request.headers["X-Ombud-System"] == "members"
