"""Engines and transactions for Ombud's own database (SQLite or PostgreSQL)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from ombud.store.errors import StoreError

#: How long a SQLite writer waits for another one before giving up.
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def parse_url(url: str) -> URL:
    """``url`` as a SQLAlchemy URL; ``postgresql://`` means the psycopg 3 driver.

    Raises :class:`StoreError` for text that is not a database URL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"{url!r} is not a database URL; set OMBUD_DATABASE_URL to e.g. "
            "sqlite:///./ombud.db or postgresql+psycopg://user@host/ombud"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def display_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    if isinstance(url, str):
        try:
            url = parse_url(url)
        except StoreError:
            return "<not a database URL>"
    return url.render_as_string(hide_password=True)


def make_engine(url: str) -> Engine:
    """An engine for Ombud's database at ``url``; connects lazily.

    SQLite gets foreign keys on, WAL, a busy timeout, the parent directory of a
    file database created, and transactions that begin ``IMMEDIATE``: a
    transaction takes the write lock when it starts, so one that reads and then
    writes never fails half-way because another writer got in between (the
    choice Rails and Django made too). The price is that transactions take
    turns, read-only ones included: keep them short.

    Raises :class:`StoreError` for a URL that is not usable.
    """
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(
            f"Ombud keeps its own data in SQLite or PostgreSQL, not {backend} "
            f"({display_url(parsed)}); set OMBUD_DATABASE_URL to sqlite:///PATH or "
            "postgresql+psycopg://..."
        )
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed)
        # No server-side prepared statements: PostgreSQL would keep the generic plan it
        # chose for each while the tables were still small (a consent_state lookup that
        # scans the table, forever, on the writer's long-lived connection; found by
        # bench/consent_ingest.py), and they do not survive a transaction-mode pooler.
        engine = create_engine(parsed, pool_pre_ping=True, connect_args={"prepare_threshold": None})
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StoreError(
            f"cannot use the database URL {display_url(parsed)}: {exc}; Ombud supports "
            "sqlite:///PATH and postgresql+psycopg://..."
        ) from None
    event.listen(engine, "connect", _iso_dates)
    return engine


def _iso_dates(dbapi_connection: Any, _record: Any) -> None:
    """Dates in ISO style on every PostgreSQL connection.

    psycopg reads times only in that style: a server or database set to another
    ``DateStyle`` (``SQL, DMY``, say) would make every read of a time fail, and
    in autocommit (the consent writer) fail after the statement had committed.
    """
    style = dbapi_connection.info.parameter_status("DateStyle") or ""
    if not style.startswith("ISO"):
        dbapi_connection.execute("SET DateStyle TO ISO")
        dbapi_connection.commit()


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    if not in_memory and not database.startswith("file:"):
        try:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the directory for the SQLite database {database}: {exc}"
            ) from None
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from pysqlite (which would defer it to the first write,
        # leaving reads outside the transaction and SAVEPOINT broken); see below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        if not in_memory:
            _use_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")  # durable enough with WAL
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the database to WAL (once; the mode is kept in the file).

    Two connections switching a new file at the same moment deadlock and one
    gets "database is locked" at once, without the busy timeout: it retries,
    and then finds the file already switched.
    """
    for attempt in range(_WAL_ATTEMPTS):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == _WAL_ATTEMPTS - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
        else:
            return


_WAL_ATTEMPTS = 20


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on error."""
    with session_factory(engine).begin() as session:
        yield session
