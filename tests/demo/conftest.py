"""Scratch databases on the PostgreSQL and MariaDB servers of this machine, created and dropped
around each test that asks for one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pymysql
import pytest

#: The MariaDB server and user the tests use; no password.
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root"}


def _name() -> str:
    # one per process and call: parallel and concurrent runs never share a database
    return f"ombud_demo_{os.getpid()}_{secrets.token_hex(4)}"


@pytest.fixture
def scratch_postgres_url(postgres_admin: psycopg.Connection) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped after the test."""
    name = _name()
    postgres_admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        postgres_admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def mariadb_admin() -> Iterator[pymysql.connections.Connection[pymysql.cursors.Cursor]]:
    """An autocommit connection to the MariaDB server, to create and drop databases."""
    try:
        connection = pymysql.connect(**MARIADB, autocommit=True)  # type: ignore[arg-type]
    except pymysql.err.OperationalError as exc:
        pytest.fail(
            f"MariaDB is not reachable ({MARIADB['host']}:{MARIADB['port']}): {exc}. Start it, "
            'or deselect these tests with -m "not mariadb"'
        )
    with connection:
        yield connection


@pytest.fixture
def scratch_mariadb_url(
    mariadb_admin: pymysql.connections.Connection[pymysql.cursors.Cursor],
) -> Iterator[str]:
    """A new, empty MariaDB database (utf8mb4), dropped after the test."""
    name = _name()
    with mariadb_admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    try:
        yield f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    finally:
        with mariadb_admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
