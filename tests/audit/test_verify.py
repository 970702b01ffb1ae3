"""Verifying the audit chain: every kind of tampering is found and the first bad entry named.

The tampering is done the way an attacker with database access would: raw SQL
through SQLAlchemy Core, bypassing Ombud.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, Table, delete, insert, select, text, update

from ombud.audit import (
    GENESIS_HASH,
    AuditEntry,
    Head,
    Verification,
    append,
    canonical_entry,
    entry_hash,
    head,
    verify,
)
from ombud.store import transaction

ENTRIES: Table = AuditEntry.metadata.tables["audit_entries"]
HEAD: Table = AuditEntry.metadata.tables["audit_head"]


@pytest.fixture
def five(engine: Engine) -> Engine:
    """The engine, with five entries in the log."""
    for n in range(1, 6):
        with transaction(engine) as session:
            append(session, actor=f"user:{n}", action="request.created", object_id=f"request:{n}")
    return engine


def verified(engine: Engine, anchor: Head | None = None) -> Verification:
    with transaction(engine) as session:
        return verify(session, anchor=anchor)


def hash_of(connection: Connection, seq: int) -> str:
    return str(connection.execute(select(ENTRIES.c.hash).where(ENTRIES.c.seq == seq)).scalar())


def forged(seq: int, prev_hash: str, actor: str = "user:666") -> dict[str, object]:
    """A well-formed entry with a correct hash over its own content."""
    time = dt.datetime.now(dt.UTC)
    canonical = canonical_entry(
        seq=seq, time=time, actor=actor, action="request.created", object_id=None, counts=None
    )
    return {
        "seq": seq,
        "time": time,
        "actor": actor,
        "action": "request.created",
        "object_id": None,
        "counts": None,
        "prev_hash": prev_hash,
        "hash": entry_hash(prev_hash, canonical),
    }


def renumber_from(connection: Connection, seq: int, by: int) -> None:
    """Move entries seq..999 by ``by`` places (in two steps: seq is the primary key)."""
    moving = ENTRIES.c.seq.between(seq, 999)
    connection.execute(update(ENTRIES).where(moving).values(seq=ENTRIES.c.seq + 10_000))
    parked = ENTRIES.c.seq >= 10_000
    connection.execute(update(ENTRIES).where(parked).values(seq=ENTRIES.c.seq - 10_000 + by))


def test_an_untouched_log_verifies(five: Engine) -> None:
    assert verified(five) == Verification(ok=True, checked=5)


def test_an_empty_log_verifies(engine: Engine) -> None:
    assert verified(engine) == Verification(ok=True, checked=0)


def edit_actor(c: Connection) -> None:
    c.execute(text("UPDATE audit_entries SET actor = 'user:666' WHERE seq = 3"))


def edit_time(c: Connection) -> None:
    earlier = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    c.execute(update(ENTRIES).where(ENTRIES.c.seq == 3).values(time=earlier))


def edit_counts(c: Connection) -> None:
    c.execute(update(ENTRIES).where(ENTRIES.c.seq == 3).values(counts={"rows": 9}))


def edit_prev_hash(c: Connection) -> None:
    c.execute(update(ENTRIES).where(ENTRIES.c.seq == 3).values(prev_hash="f" * 64))


def edit_hash(c: Connection) -> None:
    c.execute(update(ENTRIES).where(ENTRIES.c.seq == 3).values(hash="f" * 64))


def rewrite_with_a_new_hash(c: Connection) -> None:
    # The attacker recomputes entry 3's hash, but cannot change what entry 4 was chained to.
    row = forged(3, hash_of(c, 2))
    c.execute(update(ENTRIES).where(ENTRIES.c.seq == 3).values(**row))


def rewrite_the_newest(c: Connection) -> None:
    row = forged(5, hash_of(c, 4))
    c.execute(update(ENTRIES).where(ENTRIES.c.seq == 5).values(**row))


def delete_middle(c: Connection) -> None:
    c.execute(text("DELETE FROM audit_entries WHERE seq = 3"))


def delete_two(c: Connection) -> None:
    c.execute(delete(ENTRIES).where(ENTRIES.c.seq.in_([2, 3])))


def delete_first(c: Connection) -> None:
    c.execute(delete(ENTRIES).where(ENTRIES.c.seq == 1))


def delete_newest(c: Connection) -> None:
    c.execute(delete(ENTRIES).where(ENTRIES.c.seq == 5))


def delete_and_renumber(c: Connection) -> None:
    c.execute(delete(ENTRIES).where(ENTRIES.c.seq == 3))
    renumber_from(c, 4, -1)


def insert_middle(c: Connection) -> None:
    # A forged entry 3 with a made-up predecessor; the old 3..5 become 4..6.
    renumber_from(c, 3, 1)
    c.execute(insert(ENTRIES).values(forged(3, hashlib.sha256(b"made up").hexdigest())))


def insert_chained_to_predecessor(c: Connection) -> None:
    # The cleverest insertion: chained to entry 2 like the real entry 3. The unique
    # prev_hash forbids that, so the attacker drops the constraint first.
    with Operations(MigrationContext.configure(c)).batch_alter_table("audit_entries") as batch:
        batch.drop_constraint("uq_audit_entries_prev_hash", type_="unique")
    prev = hash_of(c, 2)
    renumber_from(c, 3, 1)
    c.execute(insert(ENTRIES).values(forged(3, prev)))


def insert_after_newest(c: Connection) -> None:
    c.execute(insert(ENTRIES).values(forged(6, hash_of(c, 5))))


def swap(c: Connection) -> None:
    c.execute(update(ENTRIES).where(ENTRIES.c.seq == 2).values(seq=1002))
    c.execute(update(ENTRIES).where(ENTRIES.c.seq == 3).values(seq=2))
    c.execute(update(ENTRIES).where(ENTRIES.c.seq == 1002).values(seq=3))


def move_newest_first(c: Connection) -> None:
    c.execute(update(ENTRIES).where(ENTRIES.c.seq == 5).values(seq=1005))
    renumber_from(c, 1, 1)
    c.execute(update(ENTRIES).where(ENTRIES.c.seq == 1005).values(seq=1))


@pytest.mark.parametrize(
    ("tamper", "first_bad", "words"),
    [
        (edit_actor, 3, "entry 3 was changed"),
        (edit_time, 3, "entry 3 was changed"),
        (edit_counts, 3, "entry 3 was changed"),
        (edit_prev_hash, 3, "entry 3 was changed"),
        (edit_hash, 3, "entry 3 was changed"),
        (rewrite_with_a_new_hash, 3, "entry 3 was rewritten"),
        (rewrite_the_newest, 5, "entry 5 was rewritten"),
        (delete_middle, 3, "entry 3 is missing (deleted)"),
        (delete_two, 2, "entries 2 to 3 are missing (deleted)"),
        (delete_first, 1, "entry 1 is missing (deleted)"),
        (delete_newest, 5, "entry 5 is missing (deleted)"),
        (delete_and_renumber, 3, "entry 3 was changed or moved"),
        (insert_middle, 3, "entry 3 was inserted"),
        (insert_chained_to_predecessor, 3, "entry 3 was inserted"),
        (insert_after_newest, 6, "entry 6 was added outside Ombud"),
        (swap, 2, "out of order"),
        (move_newest_first, 1, "out of order"),
    ],
)
def test_tampering_is_found_at_the_first_bad_entry(
    five: Engine, tamper: Callable[[Connection], None], first_bad: int, words: str
) -> None:
    with five.begin() as connection:
        tamper(connection)
    result = verified(five)
    assert not result.ok
    assert result.first_bad_seq == first_bad, result.reason
    assert result.reason is not None
    assert words in result.reason


def test_a_deleted_chain_head_is_reported(five: Engine) -> None:
    with five.begin() as connection:
        connection.execute(delete(HEAD))
    result = verified(five)
    assert (result.ok, result.first_bad_seq) == (False, None)
    assert result.reason is not None
    assert "head" in result.reason


def test_an_anchor_catches_a_truncated_tail_with_a_forged_head(five: Engine) -> None:
    with transaction(five) as session:
        anchor = head(session)
    with five.begin() as connection:
        connection.execute(delete(ENTRIES).where(ENTRIES.c.seq >= 4))
        connection.execute(update(HEAD).values(seq=3, hash=hash_of(connection, 3)))
    assert verified(five).ok, "without an anchor the truncation cannot be seen"
    result = verified(five, anchor=anchor)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert result.reason is not None
    assert "the anchor records entry 5" in result.reason


def test_an_anchor_catches_a_chain_rewritten_from_some_entry_on(five: Engine) -> None:
    with transaction(five) as session:
        anchor = head(session)
    with five.begin() as connection:
        # Rewrite entries 3..5 consistently and forge the head to match.
        prev = hash_of(connection, 2)
        for seq in (3, 4, 5):
            row = forged(seq, prev, actor=f"user:{seq}0")
            connection.execute(delete(ENTRIES).where(ENTRIES.c.seq == seq))
            connection.execute(insert(ENTRIES).values(row))
            prev = str(row["hash"])
        connection.execute(update(HEAD).values(seq=5, hash=prev))
    assert verified(five).ok, "without an anchor a consistent rewrite cannot be seen"
    result = verified(five, anchor=anchor)
    assert (result.ok, result.first_bad_seq) == (False, 5)
    assert result.reason is not None
    assert "differs from the anchor" in result.reason


def test_an_anchor_of_an_earlier_entry_holds_while_the_log_grows(five: Engine) -> None:
    with transaction(five) as session:
        anchor = head(session)
        append(session, actor="system", action="sweep.ran")
    assert verified(five, anchor=anchor).ok
    assert verified(five, anchor=Head(0, GENESIS_HASH)).ok
