"""The demo systems as a test bed for requests: built once, copied for each test."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest
from sqlalchemy import Engine, create_engine, select, text

from ombud import store
from ombud.audit import AuditEntry
from ombud.connectors import Lookup, connect, spec_from_register, traverse
from ombud.demo import SYSTEM_FILES, build_database, build_demo, demo_register
from ombud.mail import MemoryTransport
from ombud.register import load
from ombud.register.model import Register
from ombud.rights import decisions
from ombud.rights.answer import send_link
from ombud.rights.execution import Runtime, run
from ombud.rights.intake import NewRequest, create_request, get_request
from ombud.rights.models import Channel, DataRequest, ManualTask
from ombud.rights.outcome import send_outcome
from ombud.store.crypto import Keys

KEYS = Keys.from_secret("demo systems test secret key")
NOW = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


@dataclass
class Demo:
    """A built demo: its register, Ombud's store, and the people of the manifest."""

    directory: Path
    engine: Engine
    manifest: dict[str, Any]
    mail: MemoryTransport

    @property
    def register_path(self) -> Path:
        return self.directory / "ombud.yaml"

    @property
    def register(self) -> Register:
        """The register as the file reads now (tests edit it), parsed once per change."""
        stat = self.register_path.stat()
        return _parsed(self.register_path, stat.st_mtime_ns, stat.st_size)

    def person(self, name: str) -> dict[str, Any]:
        edge: dict[str, Any] = self.manifest["edge_cases"][name]
        return edge

    def runtime(self, **changes: Any) -> Runtime:
        mail = self.mail

        def deliver(session: Any, request: DataRequest) -> None:
            send_link(session, request, keys=KEYS, mail=mail, base_url="https://o.test", now=NOW)

        def tell(session: Any, request: DataRequest) -> None:
            send_outcome(request, keys=KEYS, mail=mail, register=self.register)

        fields: dict[str, Any] = {
            "on_complete": tell,
            "register": self.register,
            "register_dir": self.directory,
            "keys": KEYS,
            "environ": {},
            "on_package": deliver,
            "clock": lambda: NOW,
        }
        fields.update(changes)
        return Runtime(**fields)

    def request(self, kind: str, identifiers: list[tuple[str, str]], **extra: Any) -> str:
        with store.transaction(self.engine) as session:
            return create_request(
                session,
                NewRequest(
                    type=kind,
                    identifiers=identifiers,
                    channel=Channel.HANDLER,
                    verified_note="verified in the test",
                    **extra,
                ),
                register=self.register,
                register_version="d" * 64,
                keys=KEYS,
                actor="user:1",
                now=NOW,
            ).id

    def run(self, request_id: str, **changes: Any) -> DataRequest:
        return run(self.engine, request_id, self.runtime(**changes))

    def load(self, request_id: str) -> DataRequest:
        with store.transaction(self.engine) as session:
            return get_request(session, request_id)

    def scan(self, identifiers: Mapping[str, str]) -> dict[str, dict[str, int]]:
        """Rows matching the identifiers in every automated system: system -> collection -> n."""
        found: dict[str, dict[str, int]] = {}
        lookup = Lookup.of(**identifiers)
        for system in self.register.systems:
            if system.connector.value == "manual":
                continue
            spec = spec_from_register(system, environ={}, base_dir=self.directory)
            connector = connect(spec)
            try:
                rows = traverse(connector, lookup).found
            finally:
                connector.close()
            counts = {c: len(r) for c, r in rows.items() if r}
            if counts:
                found[system.id] = counts
        return found

    def sql(self, system_id: str, query: str) -> list[Any]:
        url = next(s.url for s in self.register.systems if s.id == system_id)
        assert url is not None
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            url = f"sqlite:///{self.directory / url.removeprefix('sqlite:///')}"
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(query)))
        finally:
            engine.dispose()


@functools.lru_cache(maxsize=64)
def _parsed(path: Path, mtime_ns: int, size: int) -> Register:
    del mtime_ns, size  # the cache key: a changed file is parsed again
    return load(path).register


def copy_demo(built: Path, target: Path, store_url: str) -> Demo:
    shutil.copytree(built, target)
    store.upgrade(store_url)
    manifest = json.loads((target / "demo.json").read_text(encoding="utf-8"))
    return Demo(target, store.make_engine(store_url), manifest, MemoryTransport())


# --- shared by the tests of execution on servers, resumption, routing and suppression -----

#: The size and seed every test of the rights engine builds the demo with.
SIZE = 120
SEED = 3
#: The day the demo's dates count back from: Ombud's clock in these tests, so the data
#: and the requests agree on what "today" is, and a build at midnight changes nothing.
TODAY = NOW.date()

_built: dict[tuple[int, int, dt.date], Path] = {}


def build_once(
    factory: pytest.TempPathFactory, *, size: int = SIZE, seed: int = SEED, today: dt.date = TODAY
) -> Path:
    """The directory of a demo built with these arguments, built once per test session."""
    key = (size, seed, today)
    if key not in _built:
        directory = factory.mktemp("demo") / "built"
        build_demo(directory, size=size, seed=seed, today=today)
        _built[key] = directory
    return _built[key]


def everywhere(demo: Demo, *, phone: bool = False) -> list[tuple[str, str]]:
    """The identifiers of the demo's person who is in every system (edge case 9)."""
    person = demo.person("everywhere")
    identifiers = [
        ("email", person["email"]),
        ("personnummer", person["personal_number"]),
        ("visitor_id", person["visitor_id"]),
        ("ip", person["ip"]),
    ]
    return [*identifiers, ("phone", person["phone"])] if phone else identifiers


def audit_trail(engine: Engine, request_id: str) -> list[tuple[str, dict[str, int] | None]]:
    """The request's audit entries in order: (action, counts)."""
    with store.transaction(engine) as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_id == f"request:{request_id}")
            .order_by(AuditEntry.seq)
        )
        return [(entry.action, entry.counts) for entry in entries]


def complete_tasks(demo: Demo, request_id: str) -> list[str]:
    """Report every open manual task of the request done; returns their systems."""
    with store.transaction(demo.engine) as session:
        request = get_request(session, request_id)
        systems = list(
            session.scalars(
                select(ManualTask.system_id)
                .where(ManualTask.request_id == request_id, ManualTask.state == "pending")
                .order_by(ManualTask.system_id)
            )
        )
        for system_id in systems:
            decisions.complete_task(session, request, system_id=system_id, actor="user:2", now=NOW)
    return systems


#: The demo's SQL systems: each gets the url of a server's scratch database.
SQL_SYSTEMS = tuple(SYSTEM_FILES)
#: Servers on this machine: trust or no password (tests/conftest.py, tests/connectors).
SERVER_URLS = {
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4",
}


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """A new, empty database on the ``postgres`` or ``mariadb`` server; dropped afterwards."""
    name = f"ombud_rights_{os.getpid()}_{secrets.token_hex(4)}"
    if server == "postgres":
        try:
            admin = psycopg.connect(
                "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
            )
        except psycopg.OperationalError as exc:
            pytest.fail(
                f'PostgreSQL is not reachable (127.0.0.1:5432): {exc}; or -m "not postgres"'
            )
        with admin:
            admin.execute(f'CREATE DATABASE "{name}"')
            try:
                yield SERVER_URLS[server].format(name=name)
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    try:
        connection = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    except pymysql.err.OperationalError as exc:
        pytest.fail(f'MariaDB is not reachable (127.0.0.1:3306): {exc}; or -m "not mariadb"')
    with connection:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        try:
            yield SERVER_URLS[server].format(name=name)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


def build_like(manifest: Mapping[str, Any], url: str) -> dict[str, int]:
    """Fill the database at ``url`` with the rows of the demo of ``manifest`` (its size, seed
    and day: the same people); returns the row counts.
    """
    return build_database(
        url,
        size=manifest["size"],
        seed=manifest["seed"],
        today=dt.date.fromisoformat(manifest["today"]),
    )


def point_at(demo: Demo, url: str) -> None:
    """Point the demo register's SQL systems at the database at ``url`` (filled with
    :func:`build_like`); the website's log files stay in the demo's directory.
    """
    demo.register_path.write_text(_register_for(url), encoding="utf-8")


@functools.cache
def _register_for(url: str) -> str:
    return demo_register(dict.fromkeys(SQL_SYSTEMS, url))
