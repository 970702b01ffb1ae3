"""The scenarios of test_execution.py with the demo's SQL systems in PostgreSQL and MariaDB.

Each test runs one scenario of ``test_execution.py`` as it is (``scenarios.test_...``:
the bodies are called, not copied) on a demo whose CRM, newsletter, survey, accounting and
telemarketing tables are in a scratch database of the server, filled by
:func:`ombud.demo.build_database` with the demo's size, seed and day; the website's log
files stay files. Ombud's own store is SQLite. Afterwards the server's tables are read
with plain SQL: what must have changed did, and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import test_execution as scenarios
from demo_systems import Demo, build_like, build_once, copy_demo, point_at, scratch_database
from sqlalchemy import MetaData, Row, create_engine, delete, insert, select, text
from sqlalchemy.pool import NullPool

from ombud import store
from ombud.demo import MANIFEST, METADATA
from ombud.rights.intake import list_requests
from ombud.rights.models import DataRequest

#: Every demo table on the server, and the ones with a restriction flag.
TABLES = sorted(name for metadata in METADATA.values() for name in metadata.tables)
FLAGGED = ("persons", "cases", "invoices")


class Server:
    """The scratch database on one server, filled once with the demo's rows; read with plain
    SQL, and put back as it was filled before each test (quicker than building it again).
    """

    def __init__(self, url: str, manifest: Mapping[str, Any]) -> None:
        self.url = url
        self.engine = create_engine(url, poolclass=NullPool)
        build_like(manifest, url)
        self.tables = MetaData()
        self.tables.reflect(self.engine, only=TABLES)
        with self.engine.connect() as connection:
            self.filled = {
                table.name: [dict(row._mapping) for row in connection.execute(select(table))]
                for table in self.tables.sorted_tables
            }

    def reset(self) -> None:
        """Every demo table back to the rows it was filled with."""
        mariadb = self.engine.dialect.name != "postgresql"
        with self.engine.begin() as connection:
            # the rows are put back as they were; checking their references one by one
            # would need the referral cycle (persons 6 and 7) broken and mended again
            connection.execute(
                text(
                    "SET FOREIGN_KEY_CHECKS = 0"
                    if mariadb
                    else "SET LOCAL session_replication_role = replica"
                )
            )
            for table in reversed(self.tables.sorted_tables):
                connection.execute(delete(table))
            for table in self.tables.sorted_tables:
                connection.execute(insert(table), self.filled[table.name])
            if mariadb:
                connection.execute(text("SET FOREIGN_KEY_CHECKS = 1"))

    def rows(self, query: str) -> list[Row[Any]]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(query)))

    def one(self, query: str) -> Any:
        ((value,),) = self.rows(query)
        return value

    def counts(self) -> dict[str, int]:
        """Rows per table, and restricted rows per flagged table: what a request may change."""
        query = " UNION ALL ".join(
            [
                *(f"SELECT '{t}', COUNT(*) FROM {t}" for t in TABLES),
                *(f"SELECT '{t}.restricted', COUNT(*) FROM {t} WHERE restricted" for t in FLAGGED),
            ]
        )
        return {str(name): int(n) for name, n in self.rows(query)}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_once(tmp_path_factory)


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def server(request: pytest.FixtureRequest, built: Path) -> Iterator[Server]:
    """A scratch database on the server with the demo's rows, for this module."""
    manifest = json.loads((built / MANIFEST).read_text(encoding="utf-8"))
    with scratch_database(request.param) as url:
        server = Server(url, manifest)
        yield server
        server.engine.dispose()


@pytest.fixture
def demo(built: Path, server: Server, tmp_path: Path, sqlite_url: str) -> Iterator[Demo]:
    server.reset()
    copied = copy_demo(built, tmp_path / "demo", sqlite_url)
    point_at(copied, server.url)
    yield copied
    copied.engine.dispose()


def _the_request(demo: Demo) -> DataRequest:
    with store.transaction(demo.engine) as session:
        (request,) = list_requests(session)
        return request


def test_the_systems_are_on_the_server(demo: Demo, server: Server) -> None:
    urls = {s.id: s.url for s in demo.register.systems if s.connector.value == "sql"}
    assert set(urls) == {"crm", "newsletter", "survey", "accounting", "telemarketing"}
    assert all(url and url.startswith(("postgresql", "mysql")) for url in urls.values())
    person = demo.person("everywhere")
    # the same people as the demo's SQLite files: the manifest's person is where it says
    query = f"SELECT email FROM persons WHERE id = {person['person_id']}"
    assert server.one(query) == person["email"]


def test_access(demo: Demo, server: Server) -> None:
    before = server.counts()
    scenarios.test_access_finds_the_person_everywhere_and_delivers_once(demo)
    assert server.counts() == before  # an access reads and changes nothing


def test_erasure_with_legal_hold(demo: Demo, server: Server) -> None:
    person = demo.person("everywhere")
    pid, number, email = person["person_id"], person["personal_number"], person["email"]
    invoices = server.one(f"SELECT COUNT(*) FROM invoices WHERE personal_number = '{number}'")
    assert invoices
    before = server.counts()

    scenarios.test_erasure_leaves_nothing_outside_legal_holds(demo)

    # What the steps say they deleted is what went from the tables, and nothing more.
    deleted: dict[str, int] = {}
    for step in _the_request(demo).steps:
        for table, counts in ((step.result or {}).get("erased") or {}).items():
            deleted[table] = deleted.get(table, 0) + counts.get("deleted", 0)
    assert {"persons", "cases", "newsletter_subscribers"} <= {t for t, n in deleted.items() if n}
    assert deleted["persons"] == 1
    after = server.counts()
    assert after == {
        **{name: n - deleted.get(name, 0) for name, n in before.items()},
        "invoices.restricted": before["invoices.restricted"] + invoices,
    }
    assert server.one(f"SELECT COUNT(*) FROM persons WHERE id = {pid}") == 0
    for table in ("cases", "meetings", "company_contacts", "network_members"):
        assert server.one(f"SELECT COUNT(*) FROM {table} WHERE person_id = {pid}") == 0, table
    subscribed = f"SELECT COUNT(*) FROM newsletter_subscribers WHERE LOWER(email) = '{email}'"
    assert server.one(subscribed) == 0
    # The invoices are kept under the legal hold, restricted.
    held = server.rows(f"SELECT restricted FROM invoices WHERE personal_number = '{number}'")
    assert len(held) == invoices
    assert all(bool(r) for (r,) in held)


def test_ambiguity_decided_by_a_handler(demo: Demo, server: Server) -> None:
    before = server.counts()
    scenarios.test_ambiguous_email_waits_for_a_handler(demo)
    assert server.counts() == before


def test_strong_identifier_settles_a_shared_email(demo: Demo) -> None:
    scenarios.test_strong_identifier_settles_a_shared_email(demo)


def test_restriction(demo: Demo, server: Server) -> None:
    person = demo.person("everywhere")
    pid, number = person["person_id"], person["personal_number"]
    before = server.counts()
    scenarios.test_restriction_sets_the_flags_and_records_it(demo)
    after = server.counts()
    cases = server.one(f"SELECT COUNT(*) FROM cases WHERE person_id = {pid}")
    invoices = server.one(f"SELECT COUNT(*) FROM invoices WHERE personal_number = '{number}'")
    assert after == {
        **before,
        "persons.restricted": before["persons.restricted"] + 1,
        "cases.restricted": before["cases.restricted"] + cases,
        "invoices.restricted": before["invoices.restricted"] + invoices,
    }
    flags = server.rows(f"SELECT restricted FROM cases WHERE person_id = {pid}")
    assert all(bool(f) for (f,) in flags)


def test_objection(demo: Demo, server: Server) -> None:
    before = server.counts()
    scenarios.test_objection_to_marketing_is_immediate_and_to_other_waits_for_the_dpo(demo)
    # Objections live in Ombud (suppression list, restrictions), not in the systems.
    assert server.counts() == before


def test_portability(demo: Demo, server: Server) -> None:
    before = server.counts()
    scenarios.test_portability_holds_only_consent_data(demo)
    assert server.counts() == before


def test_withdraw_consent(demo: Demo, server: Server) -> None:
    person = demo.person("everywhere")
    before = server.counts()
    scenarios.test_withdrawing_consent_erases_what_rested_on_it(demo)
    after = server.counts()
    assert after == {
        **before,
        "newsletter_subscribers": before["newsletter_subscribers"] - 1,
    }
    subscribed = "SELECT COUNT(*) FROM newsletter_subscribers WHERE LOWER(email) = '{}'"
    assert server.one(subscribed.format(person["email"])) == 0


def test_rectification(demo: Demo, server: Server) -> None:
    person = demo.person("everywhere")
    before = server.rows(f"SELECT * FROM persons WHERE id = {person['person_id']}")
    scenarios.test_rectification_applies_the_handlers_correction(demo)
    (after,) = server.rows(f"SELECT * FROM persons WHERE id = {person['person_id']}")
    (old,) = before
    changed = {
        column: value for column, value in after._mapping.items() if old._mapping[column] != value
    }
    assert changed == {"last_name": "Rättad"}
