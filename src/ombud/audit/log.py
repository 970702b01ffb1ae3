"""Appending to the hash-chained audit log (format: docs/audit.md).

Each entry's hash covers the previous entry's hash and the entry's own
canonical JSON, so changing, removing, inserting or reordering entries breaks
the chain where it happened (:func:`ombud.audit.verify` finds it).

The log is append-only: this module has no way to change or remove an entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from ombud.audit.errors import AuditChainError, AuditEntryError, PersonalDataInAuditError
from ombud.audit.personal_data import find_personal_data
from ombud.store.models import AuditEntry, AuditHead

#: The longest actor, action or object id the table holds.
MAX_LENGTH = 200

_HEAD = cast(Table, AuditHead.__table__)
_ENTRIES = cast(Table, AuditEntry.__table__)
# The three statements of an append, built once (appends are on every hot path).
_TAKE_SEQ = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=_HEAD.c.seq + 1)
    .returning(_HEAD.c.seq, _HEAD.c.hash)
)
_INSERT_ENTRY = insert(_ENTRIES)
_SET_HEAD_HASH = update(_HEAD).where(_HEAD.c.id == 1).values(hash=bindparam("head_hash"))


class Head(NamedTuple):
    """Where the chain ends: the last entry's seq and hash; (0, GENESIS_HASH) when empty."""

    seq: int
    hash: str


def canonical_entry(
    *,
    seq: int,
    time: dt.datetime,
    actor: str,
    action: str,
    object_id: str | None,
    counts: Mapping[str, int] | None,
) -> str:
    """The entry as canonical JSON: sorted keys, no spaces, UTF-8 as is, time in UTC ISO 8601."""
    return json.dumps(
        {
            "seq": seq,
            "time": time.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "object_id": object_id,
            "counts": None if counts is None else dict(counts),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def entry_hash(prev_hash: str, canonical: str) -> str:
    """SHA-256 hex of the previous entry's hash followed by this entry's canonical JSON."""
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    object_id: str | None = None,
    counts: dict[str, int] | None = None,
) -> AuditEntry:
    """Write an audit entry in the caller's transaction and return it (as written; the
    object is not in the session).

    The entry commits or rolls back with the change it records. Appends are
    serialised by locking the chain head until the transaction ends, so call
    this late in the transaction to keep that lock short.

    Raises :class:`PersonalDataInAuditError` when a field looks like personal
    data and :class:`AuditEntryError` for any other unusable field; nothing is
    written then.
    """
    _check_text("actor", actor)
    _check_text("action", action)
    if object_id is not None:
        _check_text("object_id", object_id)
    if counts is not None:
        counts = _checked_counts(counts)
    # Taking the next seq locks the head row (PostgreSQL) or the database (SQLite)
    # until commit: a concurrent append waits here and then reads our entry as head.
    taken = session.execute(_TAKE_SEQ).one_or_none()
    if taken is None:
        raise AuditChainError(_NO_HEAD)
    seq, prev_hash = taken
    time = dt.datetime.now(dt.UTC)
    canonical = canonical_entry(
        seq=seq, time=time, actor=actor, action=action, object_id=object_id, counts=counts
    )
    values = {
        "seq": seq,
        "time": time,
        "actor": actor,
        "action": action,
        "object_id": object_id,
        "counts": counts,
        "prev_hash": prev_hash,
        "hash": entry_hash(prev_hash, canonical),
    }
    # A plain INSERT, not the ORM's unit of work: appends are on every hot path.
    session.execute(_INSERT_ENTRY, values)
    session.execute(_SET_HEAD_HASH, {"head_hash": values["hash"]})
    return AuditEntry(**values)


def head(session: Session) -> Head:
    """Where the chain ends now; record it elsewhere as an anchor for :func:`verify`."""
    row = session.execute(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)).one_or_none()
    if row is None:
        raise AuditChainError(_NO_HEAD)
    return Head(row.seq, row.hash)


_NO_HEAD = (
    "the audit log's chain head is missing from the database; run `ombud db upgrade`, "
    "or if the database was migrated, the audit_head row was deleted (run `ombud audit verify`)"
)


def _check_text(field: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise AuditEntryError(f"audit entry {field} must be a non-empty string")
    if len(value) > MAX_LENGTH:
        raise AuditEntryError(
            f"audit entry {field} is {len(value)} characters; the limit is {MAX_LENGTH}"
        )
    kind = find_personal_data(value)
    if kind is not None:
        raise PersonalDataInAuditError(
            f"audit entry {field} contains what looks like {kind}; audit entries name "
            "actors and objects by id (e.g. 'user:42', 'request:abc123'), never personal "
            "data (DESIGN §5)"
        )


def _checked_counts(counts: object) -> dict[str, int]:
    if not isinstance(counts, Mapping):
        raise AuditEntryError("audit entry counts must be a mapping of name to count")
    checked: dict[str, int] = {}
    for key, value in counts.items():
        if not isinstance(key, str) or not key.strip():
            raise AuditEntryError("audit entry counts keys must be non-empty strings")
        kind = find_personal_data(key)
        if kind is not None:
            raise PersonalDataInAuditError(
                f"an audit entry counts key contains what looks like {kind}; count by "
                "category (e.g. 'rows_deleted'), never by person (DESIGN §5)"
            )
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise AuditEntryError(f"audit entry count {key!r} must be a whole number of at least 0")
        checked[key] = value
    return checked
