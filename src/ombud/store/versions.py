"""Every version of the register that was ever served, kept once by its content hash.

The published notice must be provable later ("what did the notice say on
3 March?"), so each distinct register is stored the first time it is served.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ombud.register.model import Register
from ombud.store.models import RegisterVersion


def canonical_content(register: Register) -> str:
    """The register as canonical JSON: field aliases as in the YAML, keys sorted, compact."""
    return json.dumps(
        register.model_dump(mode="json", by_alias=True),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def content_hash(register: Register) -> str:
    """SHA-256 hex of :func:`canonical_content`: the version's identity."""
    return hashlib.sha256(canonical_content(register).encode("utf-8")).hexdigest()


def record_served(
    session: Session,
    register: Register,
    *,
    on_new: Callable[[Session, RegisterVersion], object] | None = None,
) -> RegisterVersion:
    """The stored version of ``register``, stored now if it is new.

    Idempotent, also across processes: when two store the same version at
    once, both get the one row (the database settles the race through the
    unique content hash). ``on_new`` runs in the same transaction, once, by
    the caller that stored the version (e.g. to write the audit entry).
    """
    content = canonical_content(register)
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
    existing = get_version(session, digest)
    if existing is not None:
        return existing
    values = {
        "content_hash": digest,
        "content": content,
        "first_served_at": dt.datetime.now(dt.UTC),
        "updated": register.notice.updated,
    }
    # ON CONFLICT DO NOTHING waits for a concurrent insert of the same hash and then
    # skips it, inside the caller's transaction: no unique violation, no savepoint.
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = session.execute(
        insert(RegisterVersion)
        .values(values)
        .on_conflict_do_nothing(index_elements=[RegisterVersion.content_hash])
    )
    stored = get_version(session, digest)
    assert stored is not None, "inserted just now or by the concurrent writer"
    if on_new is not None and getattr(result, "rowcount", 0) == 1:
        on_new(session, stored)
    return stored


def list_versions(session: Session) -> list[RegisterVersion]:
    """Every served version, newest first."""
    return list(
        session.scalars(
            select(RegisterVersion).order_by(
                RegisterVersion.first_served_at.desc(), RegisterVersion.id.desc()
            )
        )
    )


def get_version(session: Session, content_hash: str) -> RegisterVersion | None:
    """The version with this content hash, or None."""
    return session.scalars(
        select(RegisterVersion).where(RegisterVersion.content_hash == content_hash)
    ).one_or_none()


def load_version(version: RegisterVersion) -> Register:
    """The register exactly as it was served in ``version``."""
    return Register.model_validate_json(version.content)
