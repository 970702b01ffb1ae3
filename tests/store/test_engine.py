"""Engines and transactions: SQLite is set up for safe concurrent use, transactions are atomic."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select, text

from ombud import audit
from ombud.store import make_engine, transaction, upgrade
from ombud.store.models import AuditEntry


def test_sqlite_enforces_foreign_keys_and_uses_wal(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        engine.dispose()


def test_postgresql_urls_use_psycopg_3() -> None:
    engine = make_engine("postgresql://ombud@db.example/ombud")
    assert engine.dialect.driver == "psycopg"


def test_a_transaction_commits_when_the_block_ends(engine: Engine) -> None:
    with transaction(engine) as session:
        session.execute(text("CREATE TABLE scratch (n INTEGER)"))
        session.execute(text("INSERT INTO scratch VALUES (1)"))
    with transaction(engine) as session:
        assert session.execute(text("SELECT n FROM scratch")).scalars().all() == [1]


def test_a_transaction_rolls_back_everything_on_error(engine: Engine) -> None:
    with transaction(engine) as session:
        session.execute(text("CREATE TABLE scratch (n INTEGER)"))

    def insert_then_fail() -> None:
        with transaction(engine) as session:
            session.execute(text("INSERT INTO scratch VALUES (1)"))
            # A savepoint works on SQLite too (pysqlite's own BEGIN handling is off).
            with session.begin_nested():
                session.execute(text("INSERT INTO scratch VALUES (2)"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        insert_then_fail()
    with transaction(engine) as session:
        assert session.execute(text("SELECT count(*) FROM scratch")).scalar() == 0


@pytest.mark.postgres
def test_postgresql_reads_times_whatever_the_servers_date_style(postgres_schema_url: str) -> None:
    # psycopg parses only ISO dates; a database set to another DateStyle must not matter.
    url = postgres_schema_url + "%20-cDateStyle%3DSQL%2CDMY%20-cTimeZone%3DAmerica%2FNew_York"
    upgrade(url)
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            entry = audit.append(session, actor="system", action="x.done")
            assert entry.time.utcoffset() == dt.timedelta(0)
        with transaction(engine) as session:
            (stored,) = session.scalars(select(AuditEntry)).all()
            assert stored.time == entry.time
            assert audit.verify(session).ok
    finally:
        engine.dispose()
