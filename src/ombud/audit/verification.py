"""Verifying the audit chain: is the log exactly what Ombud wrote?

The walk goes through the entries in seq order, recomputing each hash and
checking each link, and stops at the first entry that is wrong, saying what
happened to it: changed, deleted, inserted or moved. The entries are read
with plain SQL rows, never through the ORM, so objects a session already
holds cannot hide what the database says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Row, Table, select
from sqlalchemy.orm import Session

from ombud.audit.log import Head, canonical_entry, entry_hash
from ombud.store.models import GENESIS_HASH, AuditEntry, AuditHead

_ENTRIES = cast(Table, AuditEntry.__table__)
_HEAD = cast(Table, AuditHead.__table__)
_BATCH = 1000


@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify`.

    ``checked`` counts the entries read, up to and including the first bad one;
    ``first_bad_seq`` and ``reason`` say where and how the chain breaks.
    """

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class _Break:
    """Where the walk stopped: the entry at ``row`` does not continue the chain."""

    row: Row[Any]
    expected_seq: int
    content_ok: bool
    #: The hash of the last intact entry.
    previous: str


def verify(session: Session, *, anchor: Head | None = None) -> Verification:
    """Walk the whole chain and report the first entry that is not as written.

    ``anchor`` is a :class:`Head` recorded earlier outside the database (see
    :func:`ombud.audit.head`); with it, removing the newest entries and
    rewriting the chain from some entry on are caught too.
    """
    checked = 0
    expected_seq = 1
    previous = GENESIS_HASH
    anchored: str | None = None
    stop: _Break | None = None
    result = session.execute(
        select(_ENTRIES).order_by(_ENTRIES.c.seq), execution_options={"yield_per": _BATCH}
    )
    try:
        for row in result:
            checked += 1
            content_ok = _recomputed(row) == row.hash
            if row.seq != expected_seq or row.prev_hash != previous or not content_ok:
                stop = _Break(row, expected_seq, content_ok, previous)
                break
            if anchor is not None and row.seq == anchor.seq:
                anchored = row.hash
            previous = row.hash
            expected_seq += 1
    finally:
        result.close()
    if stop is not None:
        first_bad, reason = _diagnose(session, stop)
        return Verification(ok=False, checked=checked, first_bad_seq=first_bad, reason=reason)
    last_seq = expected_seq - 1
    problem = _check_head(session, last_seq, previous)
    if problem is None and anchor is not None:
        problem = _check_anchor(anchor, last_seq, anchored)
    if problem is not None:
        return Verification(ok=False, checked=checked, first_bad_seq=problem[0], reason=problem[1])
    return Verification(ok=True, checked=checked)


def _recomputed(row: Row[Any]) -> str:
    canonical = canonical_entry(
        seq=row.seq,
        time=row.time,
        actor=row.actor,
        action=row.action,
        object_id=row.object_id,
        counts=row.counts,
    )
    return entry_hash(row.prev_hash, canonical)


def _diagnose(session: Session, stop: _Break) -> tuple[int, str]:  # noqa: PLR0911 - a return per kind of tampering
    """The first bad seq and what happened, from the entry where the walk stopped."""
    row, expected = stop.row, stop.expected_seq
    seq = row.seq
    if seq != expected:
        # Lower than expected: only with the primary key or check constraint dropped.
        if seq < 1:
            return seq, f"entry {seq} was inserted before the start of the chain (entry 1)"
        if seq < expected:
            return seq, f"entry {seq} occurs twice: one was inserted with an existing number"
        found = f"entry {expected - 1} is followed by" if expected > 1 else "the log starts with"
        return expected, f"{_span(expected, seq - 1)} missing (deleted): {found} entry {seq}"
    if row.prev_hash == stop.previous:
        return seq, f"entry {seq} was changed: its hash does not match its content"
    # The link to the previous entry is broken: find the entry this one was written after.
    # first(), not one(): an attacker may have dropped the unique constraints too.
    origin = session.scalars(
        select(_ENTRIES.c.seq).where(_ENTRIES.c.hash == row.prev_hash).limit(1)
    ).first()
    if origin is None and row.prev_hash == GENESIS_HASH:
        origin = 0
    if origin is not None and origin > seq:
        return seq, (
            f"entries are out of order: the entry at {seq} was written after the entry "
            f"now at {origin}"
        )
    if origin is not None and origin < seq - 1:
        if origin == seq - 2:
            return seq - 1, (
                f"entry {seq - 1} was inserted: the entry at {seq} was written right after "
                f"entry {seq - 2}"
            )
        return origin + 1, (
            f"entries {origin + 1} to {seq - 1} were inserted: the entry at {seq} was written "
            f"right after entry {origin}"
        )
    successor_prev = session.scalars(
        select(_ENTRIES.c.prev_hash).where(_ENTRIES.c.seq == seq + 1).limit(1)
    ).first()
    if successor_prev is not None and successor_prev == stop.previous:
        return seq, (
            f"entry {seq} was inserted: the entry at {seq + 1} was written right after "
            f"entry {seq - 1}"
        )
    if not stop.content_ok:
        return seq, (
            f"entry {seq} was changed or moved: its hash matches neither its content nor "
            "its place in the chain"
        )
    if seq == 1:
        return 1, (
            "entry 1 does not start the chain (its prev_hash is not the genesis hash): "
            "earlier entries were deleted and the rest renumbered"
        )
    return seq - 1, (
        f"entry {seq - 1} was rewritten: entry {seq} was written after an entry {seq - 1} "
        "with a different hash"
    )


def _check_head(session: Session, last_seq: int, last_hash: str) -> tuple[int | None, str] | None:
    """A problem if the chain does not end where the head record says it does."""
    recorded = session.execute(
        select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)
    ).one_or_none()
    if recorded is None:
        return None, "the chain head record (table audit_head) is missing: it was deleted"
    if recorded.seq > last_seq:
        return last_seq + 1, (
            f"{_span(last_seq + 1, recorded.seq)} missing (deleted): the log ends at "
            f"entry {last_seq} but Ombud wrote up to entry {recorded.seq}"
        )
    if recorded.seq < last_seq:
        return recorded.seq + 1, (
            f"{_span(recorded.seq + 1, last_seq, past=True)} added outside Ombud: Ombud wrote "
            f"up to entry {recorded.seq}"
        )
    if recorded.hash != last_hash:
        return (last_seq or None), (
            f"entry {last_seq} was rewritten: its hash differs from the one Ombud recorded"
        )
    return None


def _check_anchor(anchor: Head, last_seq: int, anchored: str | None) -> tuple[int, str] | None:
    """A problem if the chain does not contain the anchored entry unchanged."""
    if anchor.seq > last_seq:
        return last_seq + 1, (
            f"{_span(last_seq + 1, anchor.seq)} missing (deleted): the log ends at "
            f"entry {last_seq} but the anchor records entry {anchor.seq}"
        )
    if anchor.seq > 0 and anchored != anchor.hash:
        return anchor.seq, (
            f"entry {anchor.seq} differs from the anchor: the log was rewritten at or before "
            f"entry {anchor.seq}"
        )
    return None


def _span(first: int, last: int, *, past: bool = False) -> str:
    """ "entry 5 is" or "entries 5 to 7 are" (or "was", "were")."""
    if first == last:
        return f"entry {first} {'was' if past else 'is'}"
    return f"entries {first} to {last} {'were' if past else 'are'}"
