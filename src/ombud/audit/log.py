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
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ombud.audit.errors import AuditChainError, AuditEntryError, PersonalDataInAuditError
from ombud.audit.personal_data import find_personal_data
from ombud.store.models import AuditEntry, AuditHead

#: The longest actor, action or object id the table holds.
MAX_LENGTH = 200

_HEAD = cast(Table, AuditHead.__table__)
_ENTRIES = cast(Table, AuditEntry.__table__)
# The three statements of an append on SQLite, built once (appends are on every hot path).
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
    return append_prepared(
        session, prepare_entry(actor=actor, action=action, object_id=object_id, counts=counts)
    )


def append_prepared(session: Session, entry: PreparedEntry) -> AuditEntry:
    """:func:`append` of an entry :func:`prepare_entry` has checked already."""
    if session.get_bind().dialect.name == "postgresql":
        return entry.written(run_append(session, _APPEND_POSTGRESQL, entry.parameters()))
    # Taking the next seq locks the database (SQLite) until commit: a concurrent
    # append waits here and then reads our entry as head.
    taken = session.execute(_TAKE_SEQ).one_or_none()
    if taken is None:
        raise AuditChainError(_NO_HEAD)
    seq, prev_hash = taken
    time = dt.datetime.now(dt.UTC)
    canonical = canonical_entry(
        seq=seq,
        time=time,
        actor=entry.actor,
        action=entry.action,
        object_id=entry.object_id,
        counts=entry.counts,
    )
    written = entry.written((seq, time, prev_hash, entry_hash(prev_hash, canonical)))
    # A plain INSERT, not the ORM's unit of work: appends are on every hot path.
    session.execute(
        _INSERT_ENTRY,
        {column: getattr(written, column) for column in _ENTRIES.c.keys()},  # noqa: SIM118
    )
    session.execute(_SET_HEAD_HASH, {"head_hash": written.hash})
    return written


class PreparedEntry(NamedTuple):
    """An entry checked, waiting for the chain to give it a seq (:func:`prepare_entry`)."""

    actor: str
    action: str
    object_id: str | None
    counts: dict[str, int] | None

    def parameters(self) -> dict[str, object]:
        """The ``audit_*`` parameters of a :func:`postgresql_append` statement."""
        fields = json.dumps(
            {
                "action": self.action,
                "actor": self.actor,
                "counts": self.counts,
                "object_id": self.object_id,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return {
            # The canonical JSON up to the seq; the server adds the seq and the time.
            "audit_fields": fields[:-1] + ',"seq":',
            "audit_actor": self.actor,
            "audit_action": self.action,
            "audit_object_id": self.object_id,
            "audit_counts": None if self.counts is None else json.dumps(self.counts),
        }

    def written(self, row: Sequence[Any]) -> AuditEntry:
        """The entry as written, from its (seq, time, prev_hash, hash); in no session."""
        seq, time, prev_hash, hash_ = row
        return AuditEntry(
            seq=seq,
            time=time.astimezone(dt.UTC),  # PostgreSQL answers in the session's zone
            actor=self.actor,
            action=self.action,
            object_id=self.object_id,
            counts=self.counts,
            prev_hash=prev_hash,
            hash=hash_,
        )


def prepare_entry(
    *, actor: str, action: str, object_id: str | None, counts: Mapping[str, int] | None
) -> PreparedEntry:
    """Check an entry's fields (raising what :func:`append` raises) before it is written."""
    _check_text("actor", actor)
    _check_text("action", action)
    if object_id is not None:
        _check_text("object_id", object_id)
    return PreparedEntry(
        actor, action, object_id, None if counts is None else _checked_counts(counts)
    )


def postgresql_append(after: Sequence[str] = ()) -> str:
    """The append on PostgreSQL as the end of one statement: ``audit_*`` CTEs, then the
    UPDATE of the head, returning (seq, time, prev_hash, hash). Put ``WITH`` and the
    statement's own CTEs, each followed by a comma, before it.

    The server takes the head (locked until commit), the time and the hash, so an
    append is one round trip and a statement that writes and appends is atomic by
    itself. ``after`` names CTEs of the statement (each with a RETURNING) that must
    have run before the head is locked: a statement that also locks other rows locks
    them first, in the order every other transaction does (writes, then the append).
    The parameters are :meth:`PreparedEntry.parameters`.
    """
    wait = ""
    if after:
        if not all(name.isidentifier() for name in after):
            raise ValueError(f"not CTE names: {after!r}")
        # Names checked above, from Ombud's own statements; no value is ever in the SQL.
        written = " + ".join(f"(SELECT count(*) FROM {name})" for name in after)  # noqa: S608
        wait = f" AND {written} >= 0"
    # A condition of the scan that FOR UPDATE locks: the CTEs in ``after`` run to the
    # end before the head is locked. (An unused column would never be evaluated, and
    # the CTEs would run last, after the head was locked: found by a test.)
    # The time is taken once the head is locked, so times increase with seq.
    # A missing head leaves seq NULL, which the INSERT refuses: the whole statement fails.
    return f"""
audit_prev AS (
    SELECT seq + 1 AS seq, hash AS prev_hash
    FROM audit_head WHERE id = 1{wait} FOR UPDATE
),
audit_new AS MATERIALIZED (
    SELECT p.seq, p.prev_hash, clock_timestamp() AS time
    FROM (SELECT 1) AS one LEFT JOIN audit_prev AS p ON true
),
audit_entry AS (
    INSERT INTO audit_entries (seq, time, actor, action, object_id, counts, prev_hash, hash)
    SELECT seq, time, :audit_actor, :audit_action, :audit_object_id,
        CAST(:audit_counts AS json), prev_hash,
        encode(sha256(convert_to(
            prev_hash || :audit_fields || seq::text || ',"time":"'
            || to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00"}}',
            'UTF8'
        )), 'hex')
    FROM audit_new
    RETURNING seq, time, prev_hash, hash
)
UPDATE audit_head SET seq = e.seq, hash = e.hash FROM audit_entry AS e WHERE audit_head.id = 1
RETURNING e.seq, e.time, e.prev_hash, e.hash"""  # noqa: S608 - see above


_APPEND_POSTGRESQL = text("WITH " + postgresql_append())


def run_append(session: Session, statement: Any, parameters: Mapping[str, object]) -> Any:
    """Run a statement ending in :func:`postgresql_append`; return its one row.

    Raises :class:`AuditChainError` when the chain head is missing (the statement
    then failed whole).
    """
    try:
        return session.execute(statement, parameters).one()
    except IntegrityError as exc:
        diag = getattr(exc.orig, "diag", None)
        if (getattr(diag, "table_name", None), getattr(diag, "column_name", None)) == (
            "audit_entries",
            "seq",
        ):
            raise AuditChainError(_NO_HEAD) from None
        raise


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
    if not value.isprintable() and not _storable(value):
        raise AuditEntryError(
            f"audit entry {field} holds a NUL or a lone surrogate, which no database stores"
        )
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


def _storable(value: str) -> bool:
    """Whether a text column of every backend takes ``value``: no NUL, valid UTF-8."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
