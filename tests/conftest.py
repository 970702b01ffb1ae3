"""Shared fixtures: Ombud's database on SQLite and on the PostgreSQL server of this machine.

A test that takes ``database_url`` (or ``engine``) runs twice, on a fresh
SQLite file and on a fresh PostgreSQL schema, both migrated with
:func:`ombud.store.upgrade`. The PostgreSQL runs carry the ``postgres``
marker: ``pytest -m "not postgres"`` runs without the server.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from ombud.store import make_engine, upgrade
from smtp_server import Inbox, running_smtp

#: The server and role the tests use; trust authentication, no password.
POSTGRES = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file (not created yet) in the test's temporary directory."""
    return f"sqlite:///{tmp_path / 'ombud.db'}"


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[psycopg.Connection]:
    """An autocommit connection to the server's ``postgres`` database, to create databases."""
    try:
        connection = psycopg.connect(POSTGRES, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable ({POSTGRES}): {exc}. Start it, or deselect these "
            'tests with -m "not postgres"'
        )
    with connection:
        yield connection


@pytest.fixture(scope="session")
def postgres_url(postgres_admin: psycopg.Connection) -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at its end.

    One per pytest-xdist worker: the name carries the process id and a random
    part, so parallel and concurrent runs never share a database.
    """
    name = f"ombud_test_{os.getpid()}_{secrets.token_hex(4)}"
    postgres_admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.format(name=name)
    finally:
        postgres_admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """``postgres_url`` with a fresh, empty schema of its own as the search path.

    Tests get PostgreSQL to themselves this way in a few milliseconds; creating
    a database per test would take a quarter of a second.
    """
    schema = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh, migrated database: SQLite in one run of the test, PostgreSQL in the other."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_schema_url"
    url: str = request.getfixturevalue(fixture)
    upgrade(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on ``database_url``, disposed after the test."""
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1; ``.messages`` is its inbox."""
    with running_smtp() as inbox:
        yield inbox
