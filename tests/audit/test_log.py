"""Appending to the audit log: the chain, its format, its refusals and its transactions."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

import ombud.audit
from ombud.audit import (
    GENESIS_HASH,
    AuditChainError,
    AuditEntry,
    AuditEntryError,
    Head,
    PersonalDataInAuditError,
    append,
    canonical_entry,
    entry_hash,
    head,
    verify,
)
from ombud.audit.log import postgresql_append, prepare_entry
from ombud.store import make_engine, transaction, upgrade


def entries(engine: Engine) -> list[AuditEntry]:
    with transaction(engine) as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_entries_form_a_chain_from_the_genesis_hash(engine: Engine) -> None:
    for n in range(3):
        with transaction(engine) as session:
            append(session, actor="user:42", action="request.created", object_id=f"request:r{n}")
    chain = entries(engine)
    assert [e.seq for e in chain] == [1, 2, 3]
    assert [e.prev_hash for e in chain] == [GENESIS_HASH, chain[0].hash, chain[1].hash]
    with transaction(engine) as session:
        assert head(session) == Head(3, chain[2].hash)
        assert verify(session).ok


def test_the_hash_is_sha256_of_prev_hash_and_canonical_json(engine: Engine) -> None:
    # The format operators rely on to verify the log without Ombud (docs/audit.md).
    with transaction(engine) as session:
        append(session, actor="system", action="sweep.ran", counts={"rows": 3, "files": 1})
        append(session, actor="cli", action="Ändring granskad", object_id="case:å1")
    for entry in entries(engine):
        canonical = json.dumps(
            {
                "seq": entry.seq,
                "time": entry.time.isoformat(timespec="microseconds"),
                "actor": entry.actor,
                "action": entry.action,
                "object_id": entry.object_id,
                "counts": entry.counts,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        assert entry.time.utcoffset() == dt.timedelta(0)
        assert entry.hash == hashlib.sha256((entry.prev_hash + canonical).encode()).hexdigest()


ODD_FIELDS = [
    pytest.param({"actor": "user:42", "action": "x.done"}, id="no-object-no-counts"),
    pytest.param(
        {
            "actor": 'cli "quoted" \\ back',
            "action": "granskad \N{SNOWMAN} \N{GRINNING FACE}",
            "object_id": "case:\u00e5\u00e4\u00f6\t1",
        },
        id="quotes-backslash-non-ascii-tab",
    ),
    pytest.param(
        {"actor": "system", "action": "x.done", "counts": {"seq": 0, "time": 2, "\u00e5": 1}},
        id="counts-named-like-fields",
    ),
]


@pytest.mark.parametrize("fields", ODD_FIELDS)
def test_the_entry_returned_is_the_entry_stored_and_verifies(
    engine: Engine, fields: dict[str, object]
) -> None:
    # On PostgreSQL the server computes the hash; the Python verifier must agree.
    with transaction(engine) as session:
        first = append(session, **fields)  # type: ignore[arg-type]
        second = append(session, **fields)  # type: ignore[arg-type]
    stored = entries(engine)
    for returned, row in zip([first, second], stored, strict=True):
        assert (returned.seq, returned.prev_hash, returned.hash) == (
            row.seq,
            row.prev_hash,
            row.hash,
        )
        assert (returned.actor, returned.action, returned.object_id, returned.counts) == (
            row.actor,
            row.action,
            row.object_id,
            row.counts,
        )
        assert returned.time.astimezone(dt.UTC) == row.time.replace(
            tzinfo=row.time.tzinfo or dt.UTC
        ).astimezone(dt.UTC)
        canonical = canonical_entry(
            seq=row.seq,
            time=row.time.replace(tzinfo=row.time.tzinfo or dt.UTC),
            actor=row.actor,
            action=row.action,
            object_id=row.object_id,
            counts=row.counts,
        )
        assert row.hash == entry_hash(row.prev_hash, canonical)
    with transaction(engine) as session:
        assert verify(session).ok


def test_the_example_in_the_docs_is_what_ombud_computes() -> None:
    canonical = canonical_entry(
        seq=1,
        time=dt.datetime(2024, 7, 2, 10, 15, 0, 123456, tzinfo=dt.UTC),
        actor="user:42",
        action="request.erasure.completed",
        object_id="request:7f3a9c",
        counts={"systems": 3, "rows_deleted": 12},
    )
    docs = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text(encoding="utf-8")
    assert canonical in docs
    assert entry_hash(GENESIS_HASH, canonical) in docs


def test_an_entry_commits_with_the_change_it_records(engine: Engine) -> None:
    def change_then_fail() -> None:
        with transaction(engine) as session:
            append(session, actor="user:7", action="consent.withdrawn", object_id="consent:c1")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert entries(engine) == []
    with transaction(engine) as session:
        assert head(session) == Head(0, GENESIS_HASH)
        entry = append(session, actor="user:7", action="consent.withdrawn")
    assert (entry.seq, entry.prev_hash) == (1, GENESIS_HASH)


def test_concurrent_writers_never_fork_the_chain(engine: Engine) -> None:
    # 8 writers x 50 appends, each in its own transaction and connection.
    def writer(number: int) -> None:
        for n in range(50):
            with transaction(engine) as session:
                append(session, actor=f"user:{number}", action="test.append", counts={"n": n})

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(writer, number) for number in range(8)]:
            future.result()
    chain = entries(engine)
    assert [e.seq for e in chain] == list(range(1, 401))
    assert len({e.prev_hash for e in chain}) == 400
    # The time is taken once the head is locked.
    assert [e.time for e in chain] == sorted(e.time for e in chain)
    with transaction(engine) as session:
        result = verify(session)
    assert (result.ok, result.checked) == (True, 400)


@pytest.mark.postgres
def test_a_statement_that_writes_and_appends_locks_its_rows_before_the_head(
    postgres_schema_url: str,
) -> None:
    # Every transaction locks what it changes, then the head (the append comes last),
    # so the one-statement form must too, or two such transactions could deadlock.
    upgrade(postgres_schema_url)
    engine = make_engine(postgres_schema_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE scratch (id int PRIMARY KEY, n int)"))
        connection.execute(text("INSERT INTO scratch VALUES (1, 0)"))
    write_and_append = text(
        "WITH bumped AS (UPDATE scratch SET n = n + 1 WHERE id = 1 RETURNING 1), "
        + postgresql_append(after=("bumped",))
    )
    entry = prepare_entry(actor="system", action="x.bumped", object_id=None, counts={"rows": 1})

    def write_then_append() -> None:
        with transaction(engine) as session:
            session.execute(write_and_append, entry.parameters()).one()

    with ThreadPoolExecutor(max_workers=1) as pool:
        holder = engine.connect()
        try:
            holder.begin()
            holder.execute(text("UPDATE scratch SET n = 10 WHERE id = 1"))  # holds the row
            blocked = pool.submit(write_then_append)
            wait_for_lock_wait(engine, "WITH bumped%")
            # It waits for the row without holding the head: another append goes through.
            with transaction(engine) as session:
                session.execute(text("SET LOCAL lock_timeout = '2s'"))
                append(session, actor="system", action="x.other")
            holder.commit()
        finally:
            holder.close()  # rolls back what is left: the thread is never stuck
        blocked.result(timeout=10)
    chain = entries(engine)
    assert [(e.seq, e.action) for e in chain] == [(1, "x.other"), (2, "x.bumped")]
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT n FROM scratch")) == 11
    with transaction(engine) as session:
        assert verify(session).ok
    engine.dispose()


def wait_for_lock_wait(engine: Engine, query: str) -> None:
    """Return once a statement like ``query`` waits for a lock (fail after 10 s)."""
    deadline = time.monotonic() + 10
    # Autocommit: a transaction would keep its first snapshot of pg_stat_activity.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
        while not watcher.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND query LIKE :query"
            ),
            {"query": query},
        ):
            assert time.monotonic() < deadline, f"no statement like {query!r} waited for a lock"
            time.sleep(0.02)


PERSONAL_DATA = [
    pytest.param("alice@example.com", id="e-mail"),
    pytest.param("subscriber:alice%40example.com", id="e-mail-url-encoded"),
    pytest.param("19811218-9876", id="personnummer-12-dash"),
    pytest.param("811218-9876", id="personnummer-10-dash"),
    pytest.param("198112189876", id="personnummer-12"),
    pytest.param("8112189876", id="personnummer-10"),
    pytest.param("811218+9876", id="personnummer-over-100"),
    pytest.param("subject:19811278-9876", id="samordningsnummer"),
    pytest.param("+46701234567", id="phone-e164"),
    pytest.param("+46 70 123 45 67", id="phone-spaced"),
    pytest.param("070-123 45 67", id="phone-national"),
    pytest.param("0046701234567", id="phone-00"),
    pytest.param("192.168.1.20", id="ipv4"),
    pytest.param("client:2001:db8::1", id="ipv6"),
]


@pytest.mark.parametrize("value", PERSONAL_DATA)
@pytest.mark.parametrize("field", ["actor", "action", "object_id", "counts"])
def test_personal_data_is_refused_and_nothing_written(
    engine: Engine, field: str, value: str
) -> None:
    fields: dict[str, object] = {"actor": "user:42", "action": "request.created"}
    fields[field] = {value: 1} if field == "counts" else value
    with transaction(engine) as session, pytest.raises(PersonalDataInAuditError) as caught:
        append(session, **fields)  # type: ignore[arg-type]
    assert value not in str(caught.value), "the error must not repeat the personal data"
    assert isinstance(caught.value, ValueError)
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
        assert head(session) == Head(0, GENESIS_HASH)


@pytest.mark.parametrize(
    "object_id",
    [
        "request:abc123",
        "request:550e8400-e29b-41d4-a716-446655440000",
        "register:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "sweep:2024-07-02",
        "job:17200000001",
        "user:1234567",
    ],
)
def test_opaque_ids_are_accepted(engine: Engine, object_id: str) -> None:
    with transaction(engine) as session:
        assert append(session, actor="user:42", action="x.done", object_id=object_id).seq == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"actor": ""}, "actor must be a non-empty string"),
        ({"action": "x" * 201}, "the limit is 200"),
        ({"counts": {"rows": -1}}, "at least 0"),
        ({"counts": {"rows": True}}, "whole number"),
        ({"counts": {"rows": "3"}}, "whole number"),
    ],
)
def test_malformed_entries_are_refused(
    engine: Engine, fields: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"actor": "user:42", "action": "x.done", **fields}
    with transaction(engine) as session, pytest.raises(AuditEntryError, match=message):
        append(session, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["user:\x00", "user:\ud800"], ids=["nul", "lone-surrogate"])
def test_text_no_database_stores_is_refused_before_anything_is_written(
    engine: Engine, value: str
) -> None:
    for field in ("actor", "action", "object_id"):
        arguments = {"actor": "system", "action": "x.done", field: value}
        with transaction(engine) as session, pytest.raises(AuditEntryError, match=field):
            append(session, **arguments)  # type: ignore[arg-type]
    assert entries(engine) == []


def test_appending_without_the_chain_head_is_a_clear_error(engine: Engine) -> None:
    with transaction(engine) as session:
        session.execute(AuditEntry.metadata.tables["audit_head"].delete())
    with transaction(engine) as session, pytest.raises(AuditChainError, match="db upgrade"):
        append(session, actor="system", action="x.done")


def test_the_public_api_can_only_add_entries() -> None:
    assert set(ombud.audit.__all__) == {
        "GENESIS_HASH",
        "AuditChainError",
        "AuditEntry",
        "AuditEntryError",
        "Head",
        "PersonalDataInAuditError",
        "Verification",
        "append",
        "canonical_entry",
        "entry_hash",
        "find_personal_data",
        "head",
        "verify",
    }
