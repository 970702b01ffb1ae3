"""Consent webhooks: which systems hear of a change, signed delivery to a real HTTP server,
retries with exponential backoff, giving up, and the inline worker's periodic round.

The receiver is a real ``http.server`` on 127.0.0.1 that checks every request's
signature with :func:`ombud.connectors.http.verify_signature`, as an
implementer of the protocol would.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from ombud import store
from ombud.audit import AuditEntry
from ombud.connectors.http import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from ombud.consent import ledger, webhooks
from ombud.consent.models import ConsentWebhook, Method
from ombud.register import load
from ombud.register.model import Register
from ombud.store.crypto import Keys
from ombud.worker import InlineWorker

ALMI = Path(__file__).resolve().parents[2] / "examples" / "almi" / "ombud.yaml"
SECRET = "webhook-shared-secret-for-tests"
EMAIL = "anna.andersson@example.se"
T0 = dt.datetime(2025, 4, 3, 10, 0, tzinfo=dt.UTC)

#: Systems added to Almi's register: one holds both lists, one the network only, one is an
#: http system for another activity, one a manual system for the newsletter.
SYSTEMS = """\
  - id: mailing-tool
    name: Mailing tool
    connector: http
    url: env:MAILING_TOOL_URL
    secret: env:MAILING_TOOL_SECRET
    controller: almi-ab
    activities: [newsletter, network]
  - id: network-crm
    name: Network CRM
    connector: http
    url: env:NETWORK_CRM_URL
    secret: env:NETWORK_CRM_SECRET
    controller: almi-ab
    activities: [network]
  - id: analytics-hub
    name: Analytics hub
    connector: http
    url: env:ANALYTICS_URL
    secret: env:ANALYTICS_SECRET
    controller: almi-ab
    activities: [website-analytics]
  - id: newsletter-binder
    name: Newsletter binder
    connector: manual
    owner: kommunikation@almi.se
    controller: almi-ab
    activities: [newsletter]
"""


def register_with_systems(tmp_path: Path) -> Path:
    """A copy of Almi's register with the list-holding systems above."""
    path = tmp_path / "ombud.yaml"
    text = ALMI.read_text(encoding="utf-8")
    assert "\nsystems:\n" in text
    path.write_text(text.replace("\nsystems:\n", "\nsystems:\n" + SYSTEMS, 1), encoding="utf-8")
    return path


@dataclass
class Receiver:
    """What the receiving system saw: accepted payloads, refused signatures, planned failures."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    bad_signatures: int = 0
    #: Answer this many requests with ``failure_status`` before accepting.
    failures: int = 0
    failure_status: int = 503


@contextmanager
def running_receiver(secret: str = SECRET) -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 implementing ``POST /ombud/consent``."""
    receiver = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            signed = verify_signature(
                secret,
                self.headers.get(TIMESTAMP_HEADER, ""),
                body,
                self.headers.get(SIGNATURE_HEADER, ""),
                time.time(),
            )
            with lock:
                if self.path != "/ombud/consent" or not signed:
                    receiver.bad_signatures += 1
                    status = 401
                elif receiver.failures:
                    receiver.failures -= 1
                    status = receiver.failure_status
                else:
                    receiver.received.append(json.loads(body))
                    receiver.headers.append(dict(self.headers))
                    status = 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def register(tmp_path: Path) -> Register:
    return load(register_with_systems(tmp_path)).register


@pytest.fixture
def keys() -> Keys:
    return Keys.from_secret("test-secret-key-of-enough-length")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def environ(receiver: Receiver, secret: str = SECRET) -> dict[str, str]:
    return {
        "MAILING_TOOL_URL": receiver.url,
        "MAILING_TOOL_SECRET": secret,
        "NETWORK_CRM_URL": receiver.url,
        "NETWORK_CRM_SECRET": secret,
    }


def record(
    engine: Engine,
    register: Register,
    keys: Keys,
    purpose: str,
    *,
    answer: bool = True,
    now: dt.datetime = T0,
) -> list[webhooks.ConsentChange]:
    """Record a choice for EMAIL in the ledger and queue its webhooks, as signup.py does."""
    with store.transaction(engine) as session:
        version = store.record_served(session, register).content_hash
        choice = ledger.record_choice(
            session,
            keys=keys,
            register=register,
            register_version=version,
            subject=("email", EMAIL),
            choices={purpose: answer},
            method=Method.FORM,
            language="sv",
            text={"kind": "form", "form": purpose, "text": "Ja tack"},
            now=now,
        )
        changes = [
            webhooks.ConsentChange(e.purpose, e.event.value, e.receipt_id, now)
            for e in choice.events
        ]
        webhooks.queue_events(
            session,
            register=register,
            keys=keys,
            subject_digest=choice.subject_digest,
            email=EMAIL,
            events=changes,
            now=now,
        )
    return changes


def rows(engine: Engine) -> list[ConsentWebhook]:
    with store.transaction(engine) as session:
        return list(session.scalars(select(ConsentWebhook).order_by(ConsentWebhook.id)))


def deliver(
    engine: Engine, register: Register, keys: Keys, env: dict[str, str], now: dt.datetime
) -> webhooks.Delivery:
    return webhooks.deliver_due(
        store.session_factory(engine), now, register=register, keys=keys, environ=env
    )


# --- who hears of a change ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("purpose", "systems"),
    [
        ("newsletter", ["mailing-tool"]),  # not the manual binder: a person is not a webhook
        ("network", ["mailing-tool", "network-crm"]),
        ("statistics", ["analytics-hub"]),
        ("marketing", []),
        ("no-such-purpose", []),
    ],
)
def test_the_http_systems_whose_activities_rest_on_the_purpose_hold_its_list(
    register: Register, purpose: str, systems: list[str]
) -> None:
    assert [s.id for s in webhooks.list_systems(register, purpose)] == systems


@pytest.mark.parametrize(
    ("attempts", "wait"),
    [
        (1, dt.timedelta(seconds=30)),
        (2, dt.timedelta(minutes=1)),
        (3, dt.timedelta(minutes=2)),
        (5, dt.timedelta(minutes=8)),
        (10, dt.timedelta(seconds=30 * 2**9)),
        (11, dt.timedelta(hours=6)),  # 30 s * 2**10 would be 8.5 h: capped
        (100, dt.timedelta(hours=6)),
    ],
)
def test_backoff_doubles_from_thirty_seconds_up_to_six_hours(
    attempts: int, wait: dt.timedelta
) -> None:
    assert webhooks.backoff(attempts) == wait


def test_refusals_are_not_sent_and_each_list_holder_gets_its_own_delivery(
    engine: Engine, register: Register, keys: Keys
) -> None:
    record(engine, register, keys, "newsletter", answer=False)  # refused: nobody joined a list
    assert rows(engine) == []
    record(engine, register, keys, "network")
    assert sorted(r.system_id for r in rows(engine)) == ["mailing-tool", "network-crm"]


def test_the_stored_delivery_holds_no_plaintext_address(
    engine: Engine, register: Register, keys: Keys
) -> None:
    record(engine, register, keys, "newsletter")
    (row,) = rows(engine)
    assert EMAIL not in json.dumps(row.payload)
    assert row.email_ciphertext is not None
    assert EMAIL.encode() not in row.email_ciphertext
    assert row.subject_digest == keys.identifier("email", EMAIL)
    assert row.next_attempt_at == T0


# --- delivery ----------------------------------------------------------------------------


def test_a_delivery_is_a_signed_post_with_event_purpose_subject_event_id_and_time(
    engine: Engine, register: Register, keys: Keys, receiver: Receiver
) -> None:
    (change,) = record(engine, register, keys, "newsletter")

    done = deliver(engine, register, keys, environ(receiver), T0)

    assert done == webhooks.Delivery(delivered=1)
    assert receiver.bad_signatures == 0
    assert receiver.received == [
        {
            "event": "given",
            "purpose": "newsletter",
            "subject": EMAIL,
            "event_id": change.event_id,
            "time": T0.isoformat(),
        }
    ]
    assert receiver.headers[0]["X-Ombud-System"] == "mailing-tool"
    (row,) = rows(engine)
    assert row.delivered_at == T0
    assert row.attempts == 1
    assert row.email_ciphertext is None  # delivered: the address is not kept
    assert row.next_attempt_at is None
    # Nothing is due any more.
    assert deliver(engine, register, keys, environ(receiver), T0 + dt.timedelta(days=1)) == (
        webhooks.Delivery()
    )
    assert len(receiver.received) == 1


def test_a_failed_delivery_is_retried_with_exponential_backoff_until_it_goes_through(
    engine: Engine, register: Register, keys: Keys, receiver: Receiver
) -> None:
    record(engine, register, keys, "newsletter", answer=False, now=T0 - dt.timedelta(days=1))
    record(engine, register, keys, "newsletter")
    receiver.failures = 2
    env = environ(receiver)

    assert deliver(engine, register, keys, env, T0) == webhooks.Delivery(failed=1)
    (row,) = rows(engine)
    assert (row.attempts, row.last_error) == (1, "HTTP 503")
    assert row.next_attempt_at == T0 + dt.timedelta(seconds=30)

    # Not due before its time.
    assert deliver(engine, register, keys, env, T0 + dt.timedelta(seconds=29)).attempted == 0
    assert deliver(engine, register, keys, env, T0 + dt.timedelta(seconds=30)).failed == 1
    (row,) = rows(engine)
    assert row.next_attempt_at == T0 + dt.timedelta(seconds=30 + 60)

    later = T0 + dt.timedelta(seconds=90)
    assert deliver(engine, register, keys, env, later) == webhooks.Delivery(delivered=1)
    (row,) = rows(engine)
    assert (row.attempts, row.delivered_at, row.last_error) == (3, later, None)
    assert [p["event"] for p in receiver.received] == ["given"]


def test_a_wrong_secret_is_refused_by_the_receiver_and_retried(
    engine: Engine, register: Register, keys: Keys, receiver: Receiver
) -> None:
    record(engine, register, keys, "newsletter")

    done = deliver(engine, register, keys, environ(receiver, secret="not-the-shared-one"), T0)

    assert done.failed == 1
    assert receiver.bad_signatures == 1
    assert receiver.received == []
    assert rows(engine)[0].last_error == "HTTP 401"


def test_a_missing_environment_variable_is_an_error_of_the_delivery_not_of_the_round(
    engine: Engine, register: Register, keys: Keys, receiver: Receiver
) -> None:
    record(engine, register, keys, "network")
    env = {"NETWORK_CRM_URL": receiver.url, "NETWORK_CRM_SECRET": SECRET}  # not the tool's

    done = deliver(engine, register, keys, env, T0)

    assert done == webhooks.Delivery(delivered=1, failed=1)
    errors = {r.system_id: r.last_error for r in rows(engine)}
    assert errors["network-crm"] is None
    assert "MAILING_TOOL_URL is not set" in str(errors["mailing-tool"])


def test_an_unreachable_system_is_retried(engine: Engine, register: Register, keys: Keys) -> None:
    with running_receiver() as gone:
        env = environ(gone)
    record(engine, register, keys, "newsletter")

    done = webhooks.deliver_due(
        store.session_factory(engine), T0, register=register, keys=keys, environ=env, timeout=2
    )

    assert done.failed == 1
    (row,) = rows(engine)
    assert row.last_error is not None
    assert row.last_error.startswith("ConnectError")
    assert EMAIL not in row.last_error


def test_a_delivery_is_given_up_after_max_attempts_with_an_audit_entry(
    engine: Engine, register: Register, keys: Keys, receiver: Receiver
) -> None:
    record(engine, register, keys, "newsletter")
    receiver.failures = webhooks.MAX_ATTEMPTS + 5
    receiver.failure_status = 500
    env = environ(receiver)
    now = T0
    for attempt in range(1, webhooks.MAX_ATTEMPTS + 1):
        done = deliver(engine, register, keys, env, now)
        assert done.attempted == 1
        (row,) = rows(engine)
        assert row.attempts == attempt
        if row.next_attempt_at is None:
            break
        now = row.next_attempt_at

    assert done == webhooks.Delivery(given_up=1)
    (row,) = rows(engine)
    assert row.attempts == webhooks.MAX_ATTEMPTS
    assert (row.next_attempt_at, row.delivered_at, row.email_ciphertext) == (None, None, None)
    # About two days of trying, in all.
    assert dt.timedelta(days=1) < now - T0 < dt.timedelta(days=3)
    assert deliver(engine, register, keys, env, now + dt.timedelta(days=30)).attempted == 0
    with store.transaction(engine) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "consent.webhook_given_up")
        ).one()
    assert entry.object_id == f"webhook:{row.id}"
    assert entry.counts == {"attempts": webhooks.MAX_ATTEMPTS}


def test_a_system_removed_from_the_register_is_not_sent_to(
    engine: Engine, register: Register, keys: Keys, receiver: Receiver
) -> None:
    record(engine, register, keys, "newsletter")
    without = register.model_copy(update={"systems": []})

    assert deliver(engine, without, keys, environ(receiver), T0).failed == 1
    assert receiver.received == []
    assert "no longer in the register" in str(rows(engine)[0].last_error)


def test_a_claimed_delivery_is_leased_so_a_second_worker_skips_it(
    engine: Engine, register: Register, keys: Keys, receiver: Receiver
) -> None:
    record(engine, register, keys, "newsletter")
    with store.transaction(engine) as session:
        row = session.scalars(select(ConsentWebhook)).one()
        # What a worker that died mid-send leaves: an attempt counted, a lease running.
        row.attempts = 1
        row.next_attempt_at = T0 + webhooks.LEASE

    env = environ(receiver)
    assert deliver(engine, register, keys, env, T0 + dt.timedelta(minutes=1)).attempted == 0
    assert deliver(engine, register, keys, env, T0 + webhooks.LEASE).delivered == 1


# --- the inline worker's periodic round --------------------------------------------------


def test_the_inline_worker_runs_a_periodic_task_now_on_wake_and_stops_at_shutdown(
    engine: Engine,
) -> None:
    runs: list[float] = []
    ran = threading.Event()

    def task() -> None:
        runs.append(time.monotonic())
        ran.set()

    worker = InlineWorker(engine, lambda: pytest.fail("no request runs here"))
    periodic = worker.every(3600, task, name="test-periodic")
    assert ran.wait(5)
    ran.clear()
    periodic.wake()
    assert ran.wait(5)
    worker.shutdown()
    count = len(runs)
    periodic.wake()
    time.sleep(0.2)
    assert len(runs) == count == 2


def test_a_failing_periodic_task_is_logged_and_runs_again(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    calls = threading.Semaphore(0)

    def task() -> None:
        calls.release()
        raise RuntimeError("boom")

    worker = InlineWorker(engine, lambda: pytest.fail("no request runs here"))
    periodic = worker.every(0.01, task, name="test-failing")
    assert calls.acquire(timeout=5)
    assert calls.acquire(timeout=5)
    worker.shutdown()
    del periodic
    assert "periodic task test-failing failed" in caplog.text
