"""The demo's tables on PostgreSQL and MariaDB: the same rows as on SQLite for the same seed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, delete, func, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from ombud.demo import build_database, build_demo
from ombud.demo.schema import METADATA, TABLES

SIZE = 200
TODAY = date(2025, 6, 30)
FIRST = 25  # persons compared row by row


def snapshot(
    url: str, tables: Iterable[str] = TABLES
) -> tuple[dict[str, int], list[Any], list[Any]]:
    """Row counts of ``tables``, the first persons and the first cases, read through
    SQLAlchemy's types (so that SQLite's text timestamps compare with the servers' own).
    """
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            counts = {
                name: connection.execute(
                    select(func.count()).select_from(TABLES[name])
                ).scalar_one()
                for name in tables
            }
            persons, cases = TABLES["persons"], TABLES["cases"]
            first = select(persons).order_by(persons.c.id).limit(FIRST)
            cases_first = select(cases).order_by(cases.c.id).limit(FIRST)
            return (
                counts,
                [tuple(r) for r in connection.execute(first)],
                [tuple(r) for r in connection.execute(cases_first)],
            )
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def sqlite_snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ...]:
    directory = tmp_path_factory.mktemp("sqlite")
    build_database(f"sqlite:///{directory / 'all.db'}", size=SIZE, today=TODAY)
    return snapshot(f"sqlite:///{directory / 'all.db'}")


def test_build_database_matches_the_demo_files(
    tmp_path: Path, sqlite_snapshot: tuple[Any, ...]
) -> None:
    build_demo(tmp_path, size=SIZE, today=TODAY)
    crm = METADATA["crm"].tables
    counts, persons, cases = snapshot(f"sqlite:///{tmp_path / 'crm.db'}", crm)
    assert counts == {name: sqlite_snapshot[0][name] for name in crm}
    assert persons == sqlite_snapshot[1]
    assert cases == sqlite_snapshot[2]


def _same_as_sqlite(url: str, expected: tuple[Any, ...]) -> Engine:
    counts = build_database(url, size=SIZE, today=TODAY)
    found = snapshot(url)
    assert counts == expected[0]
    assert found[0] == expected[0]
    assert found[1] == expected[1]
    assert found[2] == expected[2]
    return create_engine(url)


def _foreign_keys_hold(engine: Engine) -> None:
    """Every foreign key is in place, and the referral cycle makes a plain DELETE fail."""
    inspector = inspect(engine)
    assert {t: len(inspector.get_foreign_keys(t)) for t in TABLES} == {
        name: len(table.foreign_key_constraints) for name, table in TABLES.items()
    }
    persons = TABLES["persons"]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(delete(persons).where(persons.c.id == 6))


def _inserts_continue_after_the_demo(engine: Engine) -> None:
    """Ids were given explicitly; the next row without one still gets a fresh id."""
    persons = TABLES["persons"]
    try:
        with engine.begin() as connection:
            new_id = connection.execute(
                insert(persons).values(
                    first_name="Ny",
                    last_name="Kund",
                    protected_identity=False,
                    restricted=False,
                    created_at=TODAY,
                    last_activity_at=TODAY,
                )
            ).inserted_primary_key[0]
        assert new_id == SIZE + 1
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_gets_the_same_rows(
    scratch_postgres_url: str, sqlite_snapshot: tuple[Any, ...]
) -> None:
    engine = _same_as_sqlite(scratch_postgres_url, sqlite_snapshot)
    _foreign_keys_hold(engine)
    _inserts_continue_after_the_demo(engine)


@pytest.mark.mariadb
def test_mariadb_gets_the_same_rows(
    scratch_mariadb_url: str, sqlite_snapshot: tuple[Any, ...]
) -> None:
    engine = _same_as_sqlite(scratch_mariadb_url, sqlite_snapshot)
    _foreign_keys_hold(engine)
    _inserts_continue_after_the_demo(engine)


@pytest.mark.postgres
def test_building_again_replaces_only_the_demo_tables(scratch_postgres_url: str) -> None:
    engine = create_engine(scratch_postgres_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE unrelated (n integer)")
            connection.exec_driver_sql("INSERT INTO unrelated VALUES (1)")
        build_database(scratch_postgres_url, size=20, today=TODAY)
        counts = build_database(scratch_postgres_url, size=10, today=TODAY)
        assert counts["persons"] == 10
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT n FROM unrelated").scalars().all() == [1]
            tables = set(
                connection.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                ).scalars()
            )
        assert tables == {"unrelated", *TABLES}
        assert set(METADATA) == {"crm", "newsletter", "survey", "accounting", "telemarketing"}
    finally:
        engine.dispose()
