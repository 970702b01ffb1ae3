"""Real databases for the connector tests: SQLite, and PostgreSQL and MariaDB on this machine.

``backend_url`` is a fresh, empty database per test module and backend, dropped
at the end of the module; ``crm`` builds the small CRM schema of the tests in it
(persons, companies and cases, with a self-reference and a reply cycle) and drops
it after each test. MariaDB runs carry the ``mariadb`` marker, PostgreSQL runs
the ``postgres`` one: ``-m "not mariadb and not postgres"`` runs on SQLite only.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pymysql
import pytest
from connectors_crm import (
    ANNA,
    BERTIL,
    CASES,
    CECILIA,
    COMPANIES,
    Crm,
    StatementCounter,
    cases,
    companies,
    crm_spec,
    metadata,
    persons,
)
from sqlalchemy import create_engine, event, insert

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Marked here, not in the fixture's params: `pytest.mark.mariadb` at import time fails
    # under --strict-markers when this conftest is imported before its pytest_configure ran.
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend_url") == "mariadb":
            item.add_marker("mariadb")


def _name() -> str:
    return f"ombud_conn_{os.getpid()}_{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def mariadb_database() -> Iterator[str]:
    """A fresh MariaDB database for one test module."""
    name = _name()
    try:
        connection = pymysql.connect(**MARIADB, autocommit=True)
    except pymysql.err.OperationalError as exc:
        pytest.fail(f'MariaDB is not reachable (127.0.0.1:3306): {exc}; or -m "not mariadb"')
    with connection:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        try:
            yield MARIADB_URL.format(name=name)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture(scope="module")
def postgres_database(postgres_admin: psycopg.Connection) -> Iterator[str]:
    """A fresh PostgreSQL database for one test module."""
    name = _name()
    postgres_admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.format(name=name)
    finally:
        postgres_admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb"),  # marked `mariadb` by pytest_collection_modifyitems
    ],
)
def backend_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'crm.db'}"
    url: str = request.getfixturevalue(f"{request.param}_database")
    return url


@pytest.fixture
def crm(backend_url: str) -> Iterator[Crm]:
    """The CRM tables with Anna, Bertil and Cecilia, their companies and cases."""
    engine = create_engine(backend_url)
    if backend_url.startswith("sqlite"):
        event.listen(engine, "connect", lambda c, _: c.execute("PRAGMA foreign_keys=ON"))
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(persons), [CECILIA])
        connection.execute(insert(persons), [ANNA, BERTIL])
        connection.execute(insert(companies), COMPANIES)
        connection.execute(insert(cases), CASES)
    crm = Crm(backend_url, engine, crm_spec(backend_url))
    try:
        yield crm
    finally:
        crm.close()
        metadata.drop_all(engine)
        engine.dispose()


@pytest.fixture
def count_statements() -> type[StatementCounter]:
    """``count_statements(engine)``: a counter of the statements the engine sends from now."""
    return StatementCounter
