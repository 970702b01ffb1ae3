"""Group commit (ombud.consent.writer): many choices, one transaction, nothing answered early.

The writer runs on the real ledger (SQLite and PostgreSQL, the ``engine``
fixture) and behind the real HTTP route. A database failure is a real one: a
trigger that refuses the batch's audit entry, after its events and state rows
were written in the same transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from consent_ledger import Ledger, visitor
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select, text

from loops import run
from ombud import audit, store
from ombud.consent import ConsentEvent, ConsentStateRow, EventType
from ombud.consent.ledger import PendingChoice, prepare_choice
from ombud.consent.writer import ConsentWriter, WriteFailedError
from ombud.settings import Settings
from ombud.store.models import AuditEntry
from ombud.web import create_app

ALMI = Path(__file__).resolve().parents[2] / "examples" / "almi" / "ombud.yaml"
SITE = "https://www.almi.se"
EVENTS = "/api/v1/consent/events"
BOTH = {"statistics": True, "marketing": True}
NONE = {"statistics": False, "marketing": False}


def pending(ledger: Ledger, who: str, choices: dict[str, bool]) -> PendingChoice:
    return prepare_choice(
        keys=ledger.keys,
        register=ledger.register,
        register_version=ledger.version,
        subject=("visitor_id", who),
        choices=choices,
        method="banner",
        language="sv",
        text_digest=ledger.texts["sv"],
        now=dt.datetime.now(dt.UTC),
    )


def batches(engine: Engine) -> list[AuditEntry]:
    with store.transaction(engine) as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "consent.recorded")
                .order_by(AuditEntry.seq)
            )
        )


def stored(engine: Engine, receipt_ids: set[str]) -> set[str]:
    with store.transaction(engine) as session:
        return set(session.scalars(select(ConsentEvent.id).where(ConsentEvent.id.in_(receipt_ids))))


def count(engine: Engine, table: Any) -> int:
    with store.transaction(engine) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def chain_intact(engine: Engine) -> bool:
    with store.transaction(engine) as session:
        return audit.verify(session).ok


@contextmanager
def refusing_audit(engine: Engine) -> Iterator[None]:
    """The database refuses every audit entry (a trigger) inside the block."""
    if engine.dialect.name == "sqlite":
        create = [
            (
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entries "
                "BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"
            )
        ]
        drop = ["DROP TRIGGER refuse_audit"]
    else:
        create = [
            (
                "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'the disk is full'; END $$"
            ),
            (
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entries "
                "FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
            ),
        ]
        drop = ["DROP TRIGGER refuse_audit ON audit_entries", "DROP FUNCTION refuse_audit()"]
    with engine.begin() as connection:
        for statement in create:
            connection.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as connection:
            for statement in drop:
                connection.execute(text(statement))


# --- the writer --------------------------------------------------------------------------------


def test_concurrent_choices_share_a_transaction_and_an_audit_entry(ledger: Ledger) -> None:
    writer = ConsentWriter(ledger.engine, max_wait=0.5)
    choices = [pending(ledger, visitor(), BOTH if i % 2 else NONE) for i in range(40)]

    async def record_all() -> list[Any]:
        return list(await asyncio.gather(*(writer.record(c) for c in choices)))

    try:
        recorded = run(record_all())
    finally:
        writer.close()
    assert [r.choice_id for r in recorded] == [c.choice_id for c in choices]
    receipts = {e.receipt_id for r in recorded for e in r.events}
    assert len(receipts) == 80
    assert stored(ledger.engine, receipts) == receipts
    (entry,) = batches(ledger.engine)
    assert entry.object_id is not None
    assert entry.object_id.startswith("batch:")
    assert entry.counts == {"choices": 40, "given": 40, "refused": 40}
    assert count(ledger.engine, ConsentStateRow) == 80
    assert chain_intact(ledger.engine)


def test_a_batch_is_two_statements_in_autocommit_on_postgresql(
    ledger: Ledger,
) -> None:
    # The writer's throughput rests on this: the state lookup, then one statement
    # that writes events, state rows and the audit entry, with no BEGIN or COMMIT.
    executed: list[tuple[str, bool]] = []

    def seen(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        dbapi = connection.connection.driver_connection
        autocommit = getattr(dbapi, "autocommit", None)
        executed.append((statement.split(None, 1)[0].upper(), bool(autocommit)))

    writer = ConsentWriter(ledger.engine, max_wait=0.5)
    choices = [pending(ledger, visitor(), BOTH) for _ in range(20)]

    async def record_all() -> list[Any]:
        return list(await asyncio.gather(*(writer.record(c) for c in choices)))

    event.listen(ledger.engine, "before_cursor_execute", seen)
    try:
        run(record_all())
    finally:
        writer.close()
        event.remove(ledger.engine, "before_cursor_execute", seen)
    assert len(batches(ledger.engine)) == 1
    if ledger.engine.dialect.name == "postgresql":
        assert executed == [("SELECT", True), ("WITH", True)]
    else:
        # SQLite: a transaction of the lookup, two executemany and the append's three.
        assert [kind for kind, _ in executed] == [
            "BEGIN",
            "SELECT",
            "INSERT",
            "INSERT",
            "UPDATE",
            "INSERT",
            "UPDATE",
        ]
    assert count(ledger.engine, ConsentEvent) == 40
    assert chain_intact(ledger.engine)


def test_a_later_choice_in_the_same_batch_sees_the_earlier_one(ledger: Ledger) -> None:
    anna, bertil = visitor(), visitor()
    writer = ConsentWriter(ledger.engine, max_wait=0.5)
    choices = [
        pending(ledger, anna, BOTH),
        pending(ledger, bertil, NONE),
        pending(ledger, anna, {"statistics": True, "marketing": False}),
    ]

    async def record_all() -> list[Any]:
        return list(await asyncio.gather(*(writer.record(c) for c in choices)))

    try:
        first, _, then = run(record_all())
    finally:
        writer.close()
    assert len(batches(ledger.engine)) == 1
    assert {(e.purpose, e.event) for e in first.events} == {
        ("statistics", EventType.GIVEN),
        ("marketing", EventType.GIVEN),
    }
    # "No" after a "yes" in the same transaction is a withdrawal, and the latest state wins.
    assert {(e.purpose, e.event) for e in then.events} == {
        ("statistics", EventType.GIVEN),
        ("marketing", EventType.WITHDRAWN),
    }
    assert ledger.state(anna, at=dt.datetime.now(dt.UTC)) == {
        "statistics": "given",
        "marketing": "withdrawn",
        "newsletter": "none",
    }
    assert ledger.state(bertil)["marketing"] == "refused"


def test_a_failed_batch_fails_every_choice_in_it_and_stores_nothing(ledger: Ledger) -> None:
    writer = ConsentWriter(ledger.engine, max_wait=0.5)

    async def record_all(count: int) -> list[Any]:
        choices = [pending(ledger, visitor(), BOTH) for _ in range(count)]
        return list(
            await asyncio.gather(*(writer.record(c) for c in choices), return_exceptions=True)
        )

    try:
        with refusing_audit(ledger.engine):
            outcomes = run(record_all(10))
        assert all(isinstance(o, WriteFailedError) for o in outcomes)
        assert "the disk is full" in str(outcomes[0].__cause__)
        assert count(ledger.engine, ConsentEvent) == 0
        assert count(ledger.engine, ConsentStateRow) == 0
        assert batches(ledger.engine) == []
        # The same writer records the next batch.
        again = run(record_all(3))
    finally:
        writer.close()
    assert not any(isinstance(o, BaseException) for o in again)
    assert count(ledger.engine, ConsentEvent) == 6
    assert chain_intact(ledger.engine)


def test_closing_writes_everything_queued_and_refuses_the_rest(ledger: Ledger) -> None:
    writer = ConsentWriter(ledger.engine, max_batch=7, max_wait=0.05)

    async def scenario() -> tuple[list[Any], BaseException | None]:
        tasks = [
            asyncio.create_task(writer.record(pending(ledger, visitor(), BOTH))) for _ in range(30)
        ]
        await asyncio.sleep(0)  # every task has queued its choice
        await asyncio.to_thread(writer.close)
        done = await asyncio.gather(*tasks)
        try:
            await writer.record(pending(ledger, visitor(), BOTH))
        except WriteFailedError as exc:
            return list(done), exc
        return list(done), None

    recorded, refused = run(scenario())
    assert len(recorded) == 30
    receipts = {e.receipt_id for r in recorded for e in r.events}
    assert stored(ledger.engine, receipts) == receipts
    assert isinstance(refused, WriteFailedError)
    # At most 7 choices a transaction.
    assert [entry.counts["choices"] for entry in batches(ledger.engine)] == [7, 7, 7, 7, 2]
    assert chain_intact(ledger.engine)


# --- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        register_path=ALMI,
        database_url=database_url,
        secret_key="test-secret-key-of-enough-length",
        mail_url=f"file:{tmp_path / 'outbox'}",
        allowed_origins=[SITE],
        worker="none",
    )
    with TestClient(create_app(settings)) as client:
        yield client


def body(web: TestClient, **change: Any) -> dict[str, Any]:
    shown = web.get("/consent/banner.json", params={"lang": "sv"}).json()
    return {
        "visitor_id": str(uuid.uuid4()),
        "choices": {"statistics": True, "marketing": False},
        "language": "sv",
        "register_version": shown["register_version"],
        "text_digest": shown["text_digest"],
        **change,
    }


def post_all(web: TestClient, bodies: list[dict[str, Any]]) -> list[Any]:
    """POST every body at once, from as many threads."""
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(lambda b: web.post(EVENTS, json=b, headers={"Origin": SITE}), bodies))


def engine_of(web: TestClient) -> Engine:
    found: Engine = web.app.state.engine  # type: ignore[attr-defined]
    return found


def test_concurrent_posts_are_committed_in_fewer_transactions_than_posts(
    web: TestClient,
) -> None:
    template = body(web)
    answers = post_all(web, [{**template, "visitor_id": str(uuid.uuid4())} for _ in range(40)])
    assert [a.status_code for a in answers] == [201] * 40
    receipts = {r["receipt_id"] for a in answers for r in a.json()["receipts"]}
    assert len(receipts) == 80
    # Each 201 came after the commit: every receipt is there, read on another connection.
    other = store.make_engine(str(engine_of(web).url.render_as_string(hide_password=False)))
    try:
        assert stored(other, receipts) == receipts
    finally:
        other.dispose()
    entries = batches(engine_of(web))
    assert len(entries) < 40
    assert sum(e.counts["choices"] for e in entries if e.counts) == 40
    assert chain_intact(engine_of(web))


def test_a_bad_choice_is_refused_alone_and_never_fails_the_others(web: TestClient) -> None:
    good = [body(web) for _ in range(12)]
    bad = [body(web, choices={"statistics": True, "ads": True}) for _ in range(4)]
    bad += [body(web, visitor_id="not-a-uuid") for _ in range(4)]
    answers = post_all(web, good + bad)
    assert [a.status_code for a in answers] == [201] * 12 + [422] * 8
    assert count(engine_of(web), ConsentEvent) == 24


def test_a_database_failure_is_503_for_its_batch_and_nothing_is_stored(web: TestClient) -> None:
    with refusing_audit(engine_of(web)):
        answers = post_all(web, [body(web) for _ in range(10)])
    assert [a.status_code for a in answers] == [503] * 10
    assert answers[0].headers["retry-after"] == "1"
    assert answers[0].headers["access-control-allow-origin"] == SITE
    assert "nothing of it was stored" in answers[0].json()["detail"][0]["msg"]
    assert count(engine_of(web), ConsentEvent) == 0
    assert count(engine_of(web), ConsentStateRow) == 0
    assert batches(engine_of(web)) == []
    # The database well again, the next choices are recorded.
    again = post_all(web, [body(web) for _ in range(5)])
    assert [a.status_code for a in again] == [201] * 5
    assert count(engine_of(web), ConsentEvent) == 10
    assert chain_intact(engine_of(web))
