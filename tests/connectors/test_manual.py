"""Manual tasks: who does what, in which language, with only the identifiers needed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ombud.connectors import (
    Action,
    InvalidSpec,
    Lookup,
    ManualConnector,
    TaskStatus,
    spec_from_register,
)
from ombud.register.model import System

SUBJECT = Lookup.of(email="anna@example.se", personnummer="198001011234", visitor_id="v-123")


def analytics(**fields: object) -> ManualConnector:
    system = System.model_validate(
        {
            "id": "google-analytics",
            "name": "Google Analytics",
            "connector": "manual",
            "owner": "webbteamet@example.se",
            "instructions": {
                "sv": "Logga in i Analytics och använd verktyget för borttagning av användare.",
                "en": "Sign in to Analytics and use the user deletion tool.",
            },
        }
        | fields
    )
    return ManualConnector(spec_from_register(system, environ={}, base_dir=Path("/")))


def test_an_erasure_task_in_swedish_is_pending() -> None:
    task = analytics().task(Action.ERASE, SUBJECT, request="R-2024-17", language="sv")
    assert task.pending
    assert ManualConnector.status(task) is TaskStatus.PENDING
    assert task.owner == "webbteamet@example.se"
    assert task.summary == (
        "Radera alla personuppgifter om den registrerade i ärende R-2024-17 ur "
        "google-analytics och rapportera hur många poster du raderade."
    )
    assert task.instructions.startswith("Logga in i Analytics")
    # the texts can be mailed and logged: no identifier is in them, nor in the repr
    for text in (task.summary, task.instructions, repr(task)):
        assert "anna@example.se" not in text
        assert "198001011234" not in text


def test_only_the_identifiers_the_system_holds_are_given() -> None:
    connector = analytics(collections={"users": {"identity": {"visitor_id": "client_id"}}})
    task = connector.task(Action.FIND, SUBJECT, request="R-1", language="en")
    assert task.identifiers == {"visitor_id": frozenset({"v-123"})}
    assert task.summary.startswith("Find all personal data about the data subject of request R-1")


def test_a_system_declaring_no_identity_gets_every_identifier() -> None:
    task = analytics().task(Action.RESTRICT, SUBJECT, request="R-1", language="en")
    assert set(task.identifiers) == {"email", "personnummer", "visitor_id"}


def test_instructions_fall_back_to_the_registers_first_language() -> None:
    task = analytics().task(Action.UNRESTRICT, SUBJECT, request="R-1", language="de")
    assert task.instructions.startswith("Logga in")
    assert task.summary.startswith("Lift the restriction")  # Ombud's texts: sv, en


def test_completing_a_task() -> None:
    task = analytics().task(Action.ERASE, SUBJECT, request="R-1", language="en")
    at = datetime(2024, 7, 3, 10, 0, tzinfo=UTC)
    done = task.complete(by="handler@example.se", at=at, records=1, note="user deleted")
    assert (done.status, done.completed_by, done.records) == (
        TaskStatus.DONE,
        "handler@example.se",
        1,
    )
    assert task.pending  # tasks are values: the original is unchanged
    with pytest.raises(ValueError, match="already done"):
        done.complete(by="someone", at=at)
    failed = task.complete(by="handler@example.se", at=at, failed=True, note="no access")
    assert failed.status is TaskStatus.FAILED


def test_a_rectification_task_carries_the_changes() -> None:
    connector = analytics()
    task = connector.task(
        Action.RECTIFY, SUBJECT, request="R-1", language="sv", changes={"name": "Anna Berg"}
    )
    assert task.changes == {"name": "Anna Berg"}
    assert "Anna Berg" not in repr(task)
    with pytest.raises(InvalidSpec, match="needs the changes"):
        connector.task(Action.RECTIFY, SUBJECT, request="R-1", language="sv")
