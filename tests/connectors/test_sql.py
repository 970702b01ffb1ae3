"""The sql connector against real SQLite, PostgreSQL and MariaDB databases."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from typing import Any

import pytest
from connectors_crm import Crm, StatementCounter, cases, companies, crm_spec, persons
from sqlalchemy import insert

from ombud.connectors import (
    REDACTED,
    Counts,
    Lookup,
    Rejected,
    RetryPolicy,
    SchemaMismatch,
    SqlConnector,
    Strategy,
    Timeout,
    Unreachable,
    erasure_order,
    traverse,
)
from ombud.connectors.sql import BATCH_SIZE

HASH_KEY = b"per-system key"
EVERY_STRATEGY = {
    "email": Strategy.HASH,
    "phone": Strategy.NULL,
    "first_name": Strategy.REDACT,
    "ip": Strategy.TRUNCATE_IP,
}


def keys(*ids: int) -> list[tuple[Any, ...]]:
    return [(i,) for i in ids]


# --- find and traverse --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("email", "anna@example.se"),
        ("phone", "070-123 45 67"),
        ("personal_number", "19800101-1234"),
    ],
)
def test_find_by_identity_column(crm: Crm, column: str, value: str) -> None:
    connector = crm.connector()
    rows = connector.find("persons", column, [value, "nobody@example.se"])
    assert [row.key for row in rows] == [(1,)]
    assert rows[0].values["first_name"] == "Anna"
    assert rows[0].values["restricted"] is False
    # only declared columns are read: short_code is in the table but not in the register
    assert "short_code" not in rows[0].values


def test_find_with_text_in_a_number_column_finds_nothing_instead_of_failing(crm: Crm) -> None:
    assert crm.connector().find("persons", "id", ["19800101-1234", "1"])[0].key == (1,)


def test_traverse_follows_references_down_and_ends_cycles(crm: Crm) -> None:
    result = traverse(crm.connector(), Lookup.of(email="anna@example.se"))
    assert {name: sorted(result.keys(name)) for name in result.found} == {
        "persons": [(1,)],
        "companies": [(10,)],
        "cases": [(100,), (101,)],  # 101 answers 100, and 100 answers 101: the cycle
    }
    # Bertil's row points at Anna (she referred him): a mention, not Anna's row; Cecilia,
    # who referred Anna, is not reached at all (references are not followed up)
    assert [(m.key, m.column) for m in result.mentions["persons"]] == [((2,), "referred_by")]


@pytest.mark.parametrize(
    "lookup",
    [
        Lookup.of(phone="+46701234567"),  # stored as 070-123 45 67
        Lookup.of(personnummer="198001011234"),  # stored as 19800101-1234
        Lookup(columns={"cases": {"id": frozenset({100})}}),
    ],
    ids=["phone", "personnummer", "known-case"],
)
def test_traverse_finds_written_forms_of_normalised_identifiers(crm: Crm, lookup: Lookup) -> None:
    result = traverse(crm.connector(), lookup)
    assert (101,) in result.keys("cases")


def test_traverse_issues_one_statement_per_collection_column_and_level(
    crm: Crm, count_statements: type[StatementCounter]
) -> None:
    connector = crm.connector()
    connector.check()  # reflection happens once, here
    counter = count_statements(connector.engine)
    traverse(connector, Lookup.of(email="anna@example.se"))
    # persons.email; then referred_by, contact_person_id, person_id; then parent_id twice
    assert counter.statements == ["SELECT"] * 6


# --- erase -------------------------------------------------------------------------------------


def test_erase_with_every_column_strategy_then_again_changes_nothing(crm: Crm) -> None:
    connector = crm.connector()
    counts = connector.erase("persons", keys(1), EVERY_STRATEGY, hash_key=HASH_KEY)
    assert counts == Counts("persons", matched=1, updated=1)
    row = crm.row(persons, 1)
    assert row is not None
    expected_hash = hmac.new(HASH_KEY, b"anna@example.se", hashlib.sha256).hexdigest()
    assert (row["email"], row["phone"], row["first_name"], row["ip"]) == (
        expected_hash,
        None,
        REDACTED,
        "192.0.2.0",
    )
    assert row["last_name"] == "Andersson"  # not named by the strategy

    again = connector.erase("persons", keys(1), EVERY_STRATEGY, hash_key=HASH_KEY)
    assert again == Counts("persons", matched=1, updated=0)
    assert crm.row(persons, 1) == row


def test_truncate_ip_of_ipv6_to_48_bits(crm: Crm) -> None:
    crm.connector().erase("persons", keys(2), {"ip": Strategy.TRUNCATE_IP}, hash_key=HASH_KEY)
    assert (crm.row(persons, 2) or {})["ip"] == "2001:db8:abcd::"


def test_erase_in_erasure_order_deletes_and_sets_references_null(crm: Crm) -> None:
    connector = crm.connector()
    found = traverse(connector, Lookup.of(email="anna@example.se"))
    order = erasure_order(crm.spec)
    assert order.index("companies") < order.index("persons")
    assert order.index("cases") < order.index("persons")
    outcome = {
        name: connector.erase(
            name, found.keys(name), crm.spec.collections[name].erasure, hash_key=HASH_KEY
        )
        for name in order
        if name in found.found
    }
    assert outcome["companies"] == Counts("companies", matched=1, updated=1)
    assert outcome["cases"] == Counts("cases", matched=2, restricted=2, held=2)  # legal hold
    assert outcome["persons"] == Counts("persons", matched=1, deleted=1)

    assert crm.row(persons, 1) is None
    assert (crm.row(persons, 2) or {})["referred_by"] is None  # ON DELETE SET NULL
    company = crm.row(companies, 10) or {}
    assert (company["contact_email"], company["contact_person_id"]) == (REDACTED, None)
    assert (crm.row(cases, 100) or {})["restricted"]  # kept, restricted instead
    assert (crm.row(cases, 100) or {})["body"] == "About the loan"

    for name in order:  # the whole erasure again: nothing more changes
        if name in found.found:
            again = connector.erase(
                name, found.keys(name), crm.spec.collections[name].erasure, hash_key=HASH_KEY
            )
            assert again.changed == 0


def test_deleting_rows_still_referenced_is_rejected_without_personal_data(crm: Crm) -> None:
    connector = crm.connector()
    with pytest.raises(Rejected) as caught:
        connector.erase("persons", keys(1), "delete", hash_key=HASH_KEY)
    message = str(caught.value)
    assert "system `crm`, collection `persons`" in message
    assert "erase those first" in message
    assert "anna" not in message.lower()
    assert crm.row(persons, 1) is not None  # the transaction was rolled back


def test_a_strategy_the_column_cannot_take_is_a_schema_mismatch(crm: Crm) -> None:
    connector = crm.connector()
    with pytest.raises(SchemaMismatch) as caught:
        connector.erase("persons", keys(1), {"short_code": Strategy.HASH}, hash_key=HASH_KEY)
    assert caught.value.column == "short_code"
    assert "8 characters" in str(caught.value)
    with pytest.raises(SchemaMismatch, match="NOT NULL"):
        connector.erase("companies", keys(10), {"name": Strategy.NULL}, hash_key=HASH_KEY)
    assert (crm.row(persons, 1) or {})["short_code"] == "A1"


# --- restrict and rectify ----------------------------------------------------------------------


def test_restrict_on_and_off(crm: Crm) -> None:
    connector = crm.connector()
    assert connector.restrict("persons", keys(1, 2), on=True).restricted == 2
    assert connector.restrict("persons", keys(1, 2), on=True).restricted == 0
    assert (crm.row(persons, 1) or {})["restricted"]
    assert connector.find("persons", "id", [1])[0].values["restricted"] is True
    assert connector.restrict("persons", keys(1, 2, 99), on=False).restricted == 2
    assert not (crm.row(persons, 2) or {})["restricted"]


def test_restrict_needs_a_declared_column(crm: Crm) -> None:
    with pytest.raises(Rejected, match="no restrict column"):
        crm.connector().restrict("companies", keys(10), on=True)


def test_rectify_by_primary_key(crm: Crm) -> None:
    connector = crm.connector()
    changes = {"last_name": "Andersson Berg", "email": "anna.berg@example.se"}
    assert connector.rectify("persons", (1,), changes).updated == 1
    assert connector.rectify("persons", (1,), changes).updated == 0
    row = crm.row(persons, 1) or {}
    assert (row["last_name"], row["email"]) == ("Andersson Berg", "anna.berg@example.se")
    assert connector.rectify("persons", (99,), changes) == Counts("persons")


def test_rectify_changes_only_declared_fields(crm: Crm) -> None:
    with pytest.raises(Rejected, match="`referred_by` is not a declared field"):
        crm.connector().rectify("persons", (1,), {"referred_by": None})


# --- check -------------------------------------------------------------------------------------


def test_check_names_a_declared_column_missing_from_the_table(crm: Crm) -> None:
    spec = crm_spec(crm.url)
    persons_spec = spec.collections["persons"]
    broken = type(spec)(
        id=spec.id,
        connector="sql",
        url=spec.url,
        collections=dict(spec.collections)
        | {
            "persons": type(persons_spec)(
                name="persons",
                primary_key=("id",),
                fields={**persons_spec.fields, "nickname": "identity"},
            )
        },
    )
    connector = crm.connector(broken)
    with pytest.raises(SchemaMismatch) as caught:
        connector.check()
    assert caught.value.column == "nickname"
    assert caught.value.collection == "persons"
    assert "column `nickname` is declared but table `persons` has no such column" in str(
        caught.value
    )


def test_check_names_a_missing_table(crm: Crm) -> None:
    spec = crm_spec(crm.url)
    renamed = type(spec)(
        id="crm",
        connector="sql",
        url=spec.url,
        collections={"people": type(spec.collections["persons"])(name="people")},
    )
    with pytest.raises(SchemaMismatch, match="table `people` does not exist"):
        crm.connector(renamed).check()


def test_check_passes_on_the_declared_schema(crm: Crm) -> None:
    crm.connector().check()


# --- scale: statements grow with batches, not rows ---------------------------------------------

MANY = 2_000


def test_finding_and_erasing_2000_persons_takes_a_few_statements_per_batch(
    crm: Crm, count_statements: type[StatementCounter], record_property: Any
) -> None:
    with crm.engine.begin() as connection:
        connection.execute(
            insert(persons),
            [
                {"id": 1000 + i, "email": f"p{i}@example.se", "ip": f"198.51.100.{i % 250}"}
                for i in range(MANY)
            ],
        )
    connector = crm.connector()
    connector.check()
    counter = count_statements(connector.engine)
    batches = math.ceil(MANY / BATCH_SIZE)
    figures: dict[str, int] = {}

    found = connector.find("persons", "email", [f"p{i}@example.se" for i in range(MANY)])
    assert len(found) == MANY
    figures["find"] = len(counter)
    assert counter.statements == ["SELECT"] * batches
    wanted = [row.key for row in found]

    counter.reset()
    strategy = {"email": Strategy.HASH, "ip": Strategy.TRUNCATE_IP, "first_name": Strategy.NULL}
    assert connector.erase("persons", wanted, strategy, hash_key=HASH_KEY).updated == MANY
    figures["erase columns"] = len(counter)
    assert counter.statements == ["SELECT", "UPDATE"] * batches

    counter.reset()
    assert connector.erase("persons", wanted, strategy, hash_key=HASH_KEY).updated == 0
    figures["erase columns again"] = len(counter)
    assert counter.statements == ["SELECT"] * batches

    counter.reset()
    assert connector.restrict("persons", wanted, on=True).restricted == MANY
    figures["restrict"] = len(counter)
    assert counter.statements == ["UPDATE"] * batches

    counter.reset()
    assert connector.erase("persons", wanted, "delete", hash_key=HASH_KEY).deleted == MANY
    figures["delete"] = len(counter)
    assert counter.statements == ["DELETE"] * batches
    record_property("statements_for_2000_rows", figures)


# --- unreachable ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:1/crm",
        "mysql+pymysql://root:s3cret-pw@127.0.0.1:1/crm",
    ],
)
def test_an_unreachable_database_fails_quickly_with_the_password_hidden(url: str) -> None:
    sleeps: list[float] = []
    connector = SqlConnector(crm_spec(url), policy=RetryPolicy(attempts=3, sleep=sleeps.append))
    started = time.monotonic()
    with pytest.raises(Unreachable) as caught:
        connector.check()
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert message.startswith("system `crm`: cannot connect to ")
    assert "s3cret-pw" not in message
    assert "***" in message
    assert len(sleeps) == 2  # three attempts, with backoff between them
    connector.close()


def _impatient(url: str) -> str:
    """The URL with a short lock wait, so that a held lock ends the wait quickly."""
    if url.startswith("postgresql"):
        return url + "?options=-c%20lock_timeout%3D200"
    if url.startswith("mysql"):
        return url + "&init_command=SET%20innodb_lock_wait_timeout%3D1"
    return url + "?timeout=0.2"


def test_a_row_locked_by_another_transaction_ends_in_timeout(crm: Crm) -> None:
    sleeps: list[float] = []
    connector = crm.connector(
        crm_spec(_impatient(crm.url)), policy=RetryPolicy(attempts=2, sleep=sleeps.append)
    )
    connector.check()
    with crm.engine.connect() as other, other.begin():
        other.execute(persons.update().where(persons.c.id == 1).values(last_name="Busy"))
        with pytest.raises(Timeout) as caught:
            connector.erase("persons", keys(1), {"phone": Strategy.NULL}, hash_key=HASH_KEY)
    assert "gave up waiting" in str(caught.value)
    assert len(sleeps) == 1  # a lock wait is transient: tried again once
    assert (crm.row(persons, 1) or {})["phone"] == "070-123 45 67"
