"""Ombud's own tables as typed SQLAlchemy 2 models.

Every schema change here needs a migration in ``migrations/versions``;
``tests/store/test_migrations.py`` fails while the two disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Connection,
    DateTime,
    Dialect,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Constraint names are spelled out so that migrations can name what they alter,
#: and so SQLite (which would leave them anonymous) and PostgreSQL agree.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: A SHA-256 digest in lower-case hex.
HEX_DIGEST_LENGTH = 64

#: The prev_hash of the first audit entry, and the hash the empty chain ends in.
GENESIS_HASH = "0" * HEX_DIGEST_LENGTH


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware datetime, always UTC in and out.

    PostgreSQL returns ``timestamptz`` in the session's time zone and SQLite
    keeps no zone at all; both come back here as UTC, so a value read equals
    the value written (the audit chain hashes it).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        # SQLite stores text without an offset: write UTC wall time.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self,
        value: Any,
        dialect: Dialect,  # noqa: ARG002 - SQLAlchemy's signature
    ) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """The declarative base of every Ombud table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}  # noqa: RUF012 - SQLAlchemy's own hook


class RegisterVersion(Base):
    """A version of the register that was served, stored once by its content hash."""

    __tablename__ = "register_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 hex of ``content``.
    content_hash: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), unique=True)
    #: The register as canonical JSON (sorted keys, aliases as in the YAML).
    content: Mapped[str] = mapped_column(Text)
    first_served_at: Mapped[dt.datetime]
    #: ``notice.updated`` of this version.
    updated: Mapped[dt.date]

    def __repr__(self) -> str:
        return f"RegisterVersion({self.content_hash[:12]}, updated={self.updated})"


class AuditEntry(Base):
    """One link of the hash-chained audit log (see :mod:`ombud.audit`).

    Rows are only ever inserted, through :func:`ombud.audit.append`.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (CheckConstraint("seq >= 1", name="seq_positive"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(200))
    object_id: Mapped[str | None] = mapped_column(String(200), index=True)
    counts: Mapped[dict[str, int] | None] = mapped_column(JSON(none_as_null=True))
    # Unique: two entries can never follow the same one, so the chain cannot fork
    # even if appends were not serialised.
    prev_hash: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), unique=True)
    hash: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH), unique=True)

    def __repr__(self) -> str:
        return f"AuditEntry(seq={self.seq}, action={self.action!r}, hash={self.hash[:12]})"


class AuditHead(Base):
    """The single row naming the chain's last entry.

    Appends lock this row, which serialises them on every backend, and
    :func:`ombud.audit.verify` checks that the chain really ends here, so
    deleting the newest entries is noticed unless the head is forged too.
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(HEX_DIGEST_LENGTH))


@event.listens_for(AuditHead.__table__, "after_create")
def _seed_head(table: Table, connection: Connection, **_: Any) -> None:
    """Seed the empty chain for ``metadata.create_all``, as the migration does."""
    connection.execute(table.insert().values(id=1, seq=0, hash=GENESIS_HASH))


def all_tables() -> MetaData:
    """Ombud's whole schema: these tables and the domain packages' own models."""
    import ombud.consent.models  # noqa: PLC0415 - registering its tables is the point
    import ombud.rights.models  # noqa: PLC0415 - registering its tables is the point
    import ombud.store.apikeys  # noqa: PLC0415 - registering its tables is the point
    import ombud.store.limits  # noqa: PLC0415 - registering its tables is the point
    import ombud.store.users  # noqa: F401, PLC0415 - registering its tables is the point

    return Base.metadata
