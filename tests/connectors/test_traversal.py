"""Written forms of identifiers, erasure order, and traversal over a connector in memory.

Traversal over real databases is in test_sql.py; here an in-memory system
implements the Connector protocol (the seam), to test cycles and mentions alone.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import pytest

from ombud.connectors import (
    CollectionSpec,
    Counts,
    Erasure,
    Found,
    Key,
    Lookup,
    Reference,
    SystemSpec,
    Value,
    erasure_order,
    traverse,
    written_forms,
)


@pytest.mark.parametrize(
    ("kind", "value", "forms"),
    [
        ("phone", "+46701234567", {"070-123 45 67", "0701234567", "+46 70 123 45 67"}),
        ("phone", "+46701234567", {"070-1234567", "0046701234567", "+46701234567"}),
        ("personnummer", "198001011234", {"19800101-1234", "800101-1234", "8001011234"}),
        ("orgnr", "5560360793", {"556036-0793", "165560360793"}),
        ("email", "anna@example.se", {"anna@example.se"}),
    ],
)
def test_written_forms(kind: str, value: str, forms: set[str]) -> None:
    assert forms <= written_forms(kind, value)
    assert value in written_forms(kind, value)


def test_email_is_searched_only_as_normalised() -> None:
    assert written_forms("email", "anna@example.se") == frozenset({"anna@example.se"})


def ref(text: str) -> Reference:
    return Reference.parse(text)


SPEC = SystemSpec(
    id="shop",
    connector="sql",
    collections={
        "customers": CollectionSpec(
            "customers",
            primary_key=("id",),
            identity={"email": "email"},
            references={"partner_id": ref("customers.id"), "account_id": ref("accounts.id")},
        ),
        "accounts": CollectionSpec(
            "accounts",
            primary_key=("id",),
            references={"owner_id": ref("customers.id")},
        ),
        "orders": CollectionSpec(
            "orders", primary_key=("id",), references={"customer_id": ref("customers.id")}
        ),
        "lines": CollectionSpec(
            "lines", primary_key=("id",), references={"order_id": ref("orders.id")}
        ),
    },
)


class MemorySystem:
    """Rows in dicts; records every find, to count them."""

    def __init__(self, rows: Mapping[str, list[dict[str, Value]]]) -> None:
        self.rows = rows
        self.finds: list[tuple[str, str, int]] = []

    @property
    def spec(self) -> SystemSpec:
        return SPEC

    def check(self) -> None:
        pass

    def find(self, collection: str, column: str, values: Collection[Value]) -> list[Found]:
        self.finds.append((collection, column, len(values)))
        wanted = set(values)
        return [
            Found(collection, (row["id"],), row)
            for row in self.rows[collection]
            if row.get(column) in wanted
        ]

    def erase(
        self, collection: str, keys: Sequence[Key], strategy: Erasure, *, hash_key: bytes
    ) -> Counts:
        raise NotImplementedError

    def restrict(self, collection: str, keys: Sequence[Key], *, on: bool) -> Counts:
        raise NotImplementedError

    def rectify(self, collection: str, key: Key, changes: Mapping[str, Value]) -> Counts:
        raise NotImplementedError

    def close(self) -> None:
        pass


def shop() -> MemorySystem:
    return MemorySystem(
        {
            "customers": [
                {"id": 1, "email": "a@example.se", "partner_id": 2, "account_id": None},
                {"id": 2, "email": "b@example.se", "partner_id": 1, "account_id": None},
                {"id": 3, "email": "c@example.se", "partner_id": None, "account_id": 7},
            ],
            # account 7 is owned by customer 1 and used by customer 3
            "accounts": [{"id": 7, "owner_id": 1}],
            "orders": [
                {"id": 10, "customer_id": 1},
                {"id": 11, "customer_id": 1},
                {"id": 12, "customer_id": 2},
            ],
            "lines": [{"id": 100 + i, "order_id": 10 + i % 3} for i in range(9)],
        }
    )


def test_traverse_collects_the_subjects_rows_and_mentions() -> None:
    system = shop()
    result = traverse(system, Lookup.of(email="a@example.se"))
    assert {name: sorted(result.keys(name)) for name in result.found} == {
        "customers": [(1,)],
        "accounts": [(7,)],
        "orders": [(10,), (11,)],
        "lines": [(100,), (101,), (103,), (104,), (106,), (107,)],
    }
    # customer 2 (partner, a cycle 1 <-> 2) and customer 3 (uses account 7) are other
    # people: mentioned, never the subject's rows, and traversal stops at them
    assert sorted((m.key, m.column) for m in result.mentions["customers"]) == [
        ((2,), "partner_id"),
        ((3,), "account_id"),
    ]
    assert (12,) not in result.keys("orders")


def test_traverse_searches_each_value_once_in_batches_per_level() -> None:
    system = shop()
    traverse(system, Lookup.of(email="a@example.se"))
    assert sorted(system.finds) == sorted(
        [
            ("customers", "email", 1),
            ("accounts", "owner_id", 1),
            ("customers", "partner_id", 1),
            ("orders", "customer_id", 1),
            ("customers", "account_id", 1),
            ("lines", "order_id", 2),
        ]
    )


def test_a_subject_found_by_two_identifiers_is_one_row() -> None:
    system = shop()
    result = traverse(system, Lookup.of(email=["a@example.se", "b@example.se"]))
    assert sorted(result.keys("customers")) == [(1,), (2,)]
    # both are the subject's rows, so customer 2's partner_id is no mention of customer 1
    assert [(m.key, m.column) for m in result.mentions["customers"]] == [((3,), "account_id")]


def test_nothing_found_for_an_unknown_subject() -> None:
    result = traverse(shop(), Lookup.of(email="nobody@example.se"))
    assert (result.rows, dict(result.mentions)) == (0, {})


def test_erasure_order_puts_rows_that_point_before_what_they_point_at() -> None:
    order = erasure_order(SPEC)
    assert order.index("lines") < order.index("orders") < order.index("customers")
    assert set(order) == set(SPEC.collections)
