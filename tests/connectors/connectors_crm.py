"""The small CRM of the connector tests: its tables, people and register entry.

Kept apart from conftest.py so that test modules can import the tables and
people to check real rows against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
)

from ombud.connectors import SqlConnector, SystemSpec, spec_from_register
from ombud.register.model import System

# --- the CRM of the tests -------------------------------------------------------------------

metadata = MetaData()
persons = Table(
    "persons",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("email", String(255)),
    Column("phone", String(32)),
    Column("personal_number", String(13)),
    Column("first_name", String(100)),
    Column("last_name", String(100)),
    Column("ip", String(45)),
    Column("short_code", String(8)),
    # who referred this person: a reference to another person's row
    Column("referred_by", Integer, ForeignKey("persons.id", ondelete="SET NULL")),
    Column("restricted", Boolean, nullable=False, default=False),
)
companies = Table(
    "companies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("contact_person_id", Integer, ForeignKey("persons.id")),  # NO ACTION
    Column("contact_email", String(255)),
)
cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("person_id", Integer),  # no foreign key, as in many older systems
    Column("parent_id", Integer),
    Column("subject", String(200)),
    Column("body", Text),
    Column("restricted", Boolean, nullable=False, default=False),
)

ANNA = {
    "id": 1,
    "email": "anna@example.se",
    "phone": "070-123 45 67",
    "personal_number": "19800101-1234",
    "first_name": "Anna",
    "last_name": "Andersson",
    "ip": "192.0.2.17",
    "short_code": "A1",
    "referred_by": 3,
}
BERTIL = {
    "id": 2,
    "email": "bertil@example.se",
    "phone": "+46 70 765 43 21",
    "personal_number": "19790202-4321",
    "first_name": "Bertil",
    "last_name": "Berg",
    "ip": "2001:db8:abcd:12::7",
    "short_code": "B2",
    "referred_by": 1,  # Anna referred Bertil: Bertil's row mentions Anna
}
CECILIA = {
    "id": 3,
    "email": "cecilia@example.se",
    "phone": None,
    "personal_number": None,
    "first_name": "Cecilia",
    "last_name": "Carlsson",
    "ip": None,
    "short_code": None,
    "referred_by": None,  # Cecilia referred Anna
}
COMPANIES = [
    {"id": 10, "name": "Anna AB", "contact_person_id": 1, "contact_email": "anna@example.se"},
    {"id": 11, "name": "Berg HB", "contact_person_id": 2, "contact_email": "bertil@example.se"},
]
CASES = [
    # 100 and 101 reply to each other: a cycle through cases.parent_id
    {"id": 100, "person_id": 1, "parent_id": 101, "subject": "Loan", "body": "About the loan"},
    {"id": 101, "person_id": None, "parent_id": 100, "subject": "Re: Loan", "body": "Answer"},
    {"id": 102, "person_id": 2, "parent_id": None, "subject": "Advice", "body": "Question"},
]

REGISTER_SYSTEM = {
    "id": "crm",
    "name": "CRM",
    "connector": "sql",
    "url": "env:CRM_URL",
    "collections": {
        "persons": {
            "primary_key": "id",
            "identity": {"email": "email", "phone": "phone", "personnummer": "personal_number"},
            "references": {"referred_by": "persons.id"},
            "fields": {
                "first_name": "identity",
                "last_name": "identity",
                "email": "contact",
                "phone": "contact",
                "ip": "technical",
            },
            "erasure": "delete",
            "restrict": {"column": "restricted"},
        },
        "companies": {
            "primary_key": "id",
            "references": {"contact_person_id": "persons.id"},
            "fields": {"contact_email": "contact"},
            "erasure": {"contact_email": "redact", "contact_person_id": "null"},
        },
        "cases": {
            "primary_key": "id",
            "references": {"person_id": "persons.id", "parent_id": "cases.id"},
            "fields": {"subject": "communication", "body": "communication"},
            "restrict": {"column": "restricted"},
            "legal_hold": "bookkeeping",
        },
    },
}


def crm_spec(url: str, **changes: object) -> SystemSpec:
    """The CRM's spec as the register describes it, with top-level ``changes``."""
    system = System.model_validate(REGISTER_SYSTEM | changes)
    return spec_from_register(system, environ={"CRM_URL": url}, base_dir=Path("/"))


@dataclass
class Crm:
    url: str
    engine: Engine
    spec: SystemSpec

    opened: list[SqlConnector] = field(default_factory=list)

    def connector(self, spec: SystemSpec | None = None, **kwargs: object) -> SqlConnector:
        """A connector to the CRM, closed when the test ends."""
        connector = SqlConnector(spec or self.spec, **kwargs)  # type: ignore[arg-type]
        self.opened.append(connector)
        return connector

    def close(self) -> None:
        for connector in self.opened:
            connector.close()
        self.engine.dispose()

    def row(self, table: Table, key: int) -> dict[str, object] | None:
        with self.engine.connect() as connection:
            row = connection.execute(table.select().where(table.c.id == key)).first()
        return None if row is None else dict(row._mapping)


class StatementCounter:
    """Counts the statements an engine sends (an executemany counts once)."""

    def __init__(self, engine: Engine) -> None:
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, *args: object) -> None:
        self.statements.append(str(args[2]).split(None, 1)[0].upper())

    def reset(self) -> None:
        self.statements.clear()

    def __len__(self) -> int:
        return len(self.statements)
