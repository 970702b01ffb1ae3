"""From the register's systems to the plain specs connectors take; the public API."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

import ombud.connectors
from ombud.connectors import (
    Counts,
    InvalidSpec,
    Outcome,
    Reference,
    Strategy,
    connect,
    spec_from_register,
)
from ombud.register.model import System


def system(**fields: object) -> System:
    return System.model_validate({"id": "crm", "name": "CRM", "connector": "sql"} | fields)


def test_env_references_are_resolved_and_hidden_from_repr() -> None:
    spec = spec_from_register(
        system(url="env:CRM_URL", secret="env:CRM_SECRET"),
        environ={"CRM_URL": "postgresql://u:pw@db/crm", "CRM_SECRET": "s3cret"},
        base_dir=Path("/srv"),
    )
    assert (spec.url, spec.secret) == ("postgresql://u:pw@db/crm", "s3cret")
    assert "pw" not in repr(spec)
    assert "s3cret" not in repr(spec)


def test_an_unset_variable_names_it_and_the_system() -> None:
    with pytest.raises(InvalidSpec, match=r"system `crm`: environment variable CRM_URL is not set"):
        spec_from_register(system(url="env:CRM_URL"), environ={}, base_dir=Path("/"))


def test_collections_become_specs() -> None:
    spec = spec_from_register(
        system(
            url="sqlite:///crm.db",
            collections={
                "persons": {"primary_key": "id", "identity": {"email": "email"}},
                "orders": {
                    "primary_key": ["shop", "number"],
                    "references": {"person_id": "persons.id"},
                    "erasure": {"address": "redact", "ip": "truncate_ip"},
                    "restrict": {"column": "on_hold"},
                    "legal_hold": "bookkeeping",
                },
            },
        ),
        environ={},
        base_dir=Path("/srv/ombud"),
    )
    # a relative SQLite file is relative to the register's folder
    assert spec.url == "sqlite:////srv/ombud/crm.db"
    orders = spec.collections["orders"]
    assert orders.primary_key == ("shop", "number")
    assert orders.references == {"person_id": Reference("persons", "id")}
    assert orders.erasure == {"address": Strategy.REDACT, "ip": Strategy.TRUNCATE_IP}
    assert (orders.restrict, orders.held) == ("on_hold", True)
    # persons.id is read too: orders point at it
    assert spec.columns("persons") == ("id", "email")


def test_file_paths_are_relative_to_the_register() -> None:
    spec = spec_from_register(
        system(
            connector="files",
            collections={"access": {"path": "logs/access.log*", "format": "log"}},
        ),
        environ={},
        base_dir=Path("/srv/ombud"),
    )
    assert spec.collections["access"].path == Path("/srv/ombud/logs/access.log*")


@pytest.mark.parametrize(
    ("references", "message"),
    [
        ({"person_id": "persons"}, "not of the form collection.column"),
        ({"person_id": "people.id"}, "points at collection `people`"),
    ],
)
def test_bad_references_are_invalid(references: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidSpec, match=message):
        spec_from_register(
            system(url="sqlite://", collections={"cases": {"references": references}}),
            environ={},
            base_dir=Path("/"),
        )


def test_a_sql_system_needs_a_url() -> None:
    with pytest.raises(InvalidSpec, match="needs `url:`"):
        spec_from_register(system(), environ={}, base_dir=Path("/"))


def test_a_manual_system_is_not_connected() -> None:
    spec = spec_from_register(
        system(connector="manual", owner="web@example.se"), environ={}, base_dir=Path("/")
    )
    with pytest.raises(InvalidSpec, match="ManualConnector"):
        connect(spec)


def test_outcome_adds_counts_per_collection() -> None:
    outcome = (
        Outcome("crm")
        .add(Counts("persons", matched=2, deleted=2))
        .add(Counts("cases", matched=1, restricted=1, held=1))
        .add(Counts("persons", matched=1, deleted=1))
    )
    assert outcome.counts["persons"] == Counts("persons", matched=3, deleted=3)
    assert outcome.total == Counts("*", matched=4, deleted=3, restricted=1, held=1)


def test_the_public_api_is_exported() -> None:
    exported = set(ombud.connectors.__all__)
    public = {
        name
        for name, value in vars(ombud.connectors).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert public == exported
