"""The Connector protocol, the plain dataclasses it takes and returns, and its errors.

A connector reaches one system of the register (DESIGN §3 ``systems:``) and does
five things, each set-based over one collection: :meth:`Connector.find` rows
whose column holds one of many values, :meth:`Connector.erase` rows by primary
key with a strategy, :meth:`Connector.restrict` them, :meth:`Connector.rectify`
one row, and :meth:`Connector.check` that the system answers and has the
declared columns. It takes a :class:`SystemSpec` (built from the register by
:func:`ombud.connectors.spec_from_register`) and nothing else: no ORM rows, no
settings, so each connector is testable alone and a new one needs no change
elsewhere.

Errors::

    Exception
     └── ConnectorError        a system could not do what was asked; names the system
          ├── InvalidSpec      the register's description of the system cannot be used
          ├── Unreachable      no connection, or the system kept failing (5xx, 429)
          ├── Timeout          the system did not answer in time
          ├── Rejected         the system refused the request (4xx, constraint, bad column)
          └── SchemaMismatch   a declared table, file or column is missing or unfit

Messages name the system, the collection and the column, never a value: values
are personal data, and messages end up in logs and the audit trail. Passwords in
URLs are hidden.
"""

from __future__ import annotations

from collections.abc import Collection as Values
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

__all__ = [
    "REDACTED",
    "CollectionSpec",
    "Connector",
    "ConnectorError",
    "Counts",
    "Erasure",
    "Found",
    "InvalidSpec",
    "Key",
    "Lookup",
    "Outcome",
    "Reference",
    "Rejected",
    "SchemaMismatch",
    "Strategy",
    "SystemSpec",
    "Timeout",
    "Unreachable",
    "Value",
]

#: A column value as the system returns it: text, number, bool, date, None, ...
Value: TypeAlias = Any
#: A row's primary key: its values in the order of ``CollectionSpec.primary_key``.
Key: TypeAlias = tuple[Value, ...]

#: What the redact strategy writes instead of the value.
REDACTED = "[redacted]"


class Strategy(StrEnum):
    """How one column is erased (DESIGN §3 ``erasure: {column: strategy}``)."""

    NULL = "null"
    REDACT = "redact"
    HASH = "hash"  # keyed HMAC-SHA256, lower-case hex: a pseudonym that still joins
    TRUNCATE_IP = "truncate_ip"  # IPv4 to its /24, IPv6 to its /48


#: ``"delete"`` removes whole rows; a mapping changes the named columns in place.
Erasure: TypeAlias = Literal["delete"] | Mapping[str, Strategy]


# --- errors -----------------------------------------------------------------------------------
# The subclasses are named for what happened (as httpx's ConnectError and Timeout are): the
# planner reads `except Unreachable`; the base's name says they are all errors (hence N818).


class ConnectorError(Exception):
    """A system could not do what was asked.

    ``system`` and ``collection`` say where; the message says what and how to fix it.
    """

    def __init__(self, system: str, message: str, *, collection: str | None = None) -> None:
        self.system = system
        self.collection = collection
        where = f"system `{system}`" + (f", collection `{collection}`" if collection else "")
        super().__init__(f"{where}: {message}")


class InvalidSpec(ConnectorError):  # noqa: N818
    """The register's description of the system cannot be used (bad reference, no url)."""


class Unreachable(ConnectorError):  # noqa: N818
    """No connection could be made, or the system kept failing until the retries ran out."""


class Timeout(ConnectorError):  # noqa: N818
    """The system did not answer in time."""


class Rejected(ConnectorError):  # noqa: N818
    """The system refused the request: a 4xx answer, a constraint, an undeclared column."""


class SchemaMismatch(ConnectorError):  # noqa: N818
    """A declared table, file or column is missing from the real system, or cannot take the
    erasure strategy (a 64-character hash in a 20-character column, NULL in a NOT NULL one).

    ``column`` names the column when one is to blame.
    """

    def __init__(
        self, system: str, message: str, *, collection: str | None = None, column: str | None = None
    ) -> None:
        self.column = column
        super().__init__(system, message, collection=collection)


# --- what a system holds ----------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """``collection.column`` that a column points at (``references: {person_id: persons.id}``)."""

    collection: str
    column: str

    @classmethod
    def parse(cls, text: str) -> Reference:
        """``"persons.id"`` -> ``Reference("persons", "id")``; raises ValueError without a dot."""
        collection, dot, column = text.rpartition(".")
        if not dot or not collection or not column:
            raise ValueError(f"{text!r} is not of the form collection.column")
        return cls(collection, column)

    def __str__(self) -> str:
        return f"{self.collection}.{self.column}"


@dataclass(frozen=True)
class CollectionSpec:
    """One table, file or remote collection and what the register says about its columns."""

    name: str
    primary_key: tuple[str, ...] = ()
    #: identifier kind -> column (``{email: email, personnummer: personal_number}``)
    identity: Mapping[str, str] = field(default_factory=dict)
    #: column -> the collection column it points at
    references: Mapping[str, Reference] = field(default_factory=dict)
    #: column -> category of personal data
    fields: Mapping[str, str] = field(default_factory=dict)
    erasure: Erasure = "delete"
    #: The boolean column that is true while processing is restricted, if any.
    restrict: str | None = None
    #: The activity (legal obligation) that holds the rows: never erased, restricted instead.
    legal_hold: str | None = None
    #: For the files connector: the file (absolute; the last part may be a glob pattern).
    path: Path | None = None
    format: Literal["csv", "jsonl", "log"] | None = None

    @property
    def held(self) -> bool:
        """Whether a legal hold keeps the rows from erasure."""
        return self.legal_hold is not None

    @property
    def erased_columns(self) -> tuple[str, ...]:
        return () if isinstance(self.erasure, str) else tuple(self.erasure)

    @property
    def declared_columns(self) -> tuple[str, ...]:
        """Every column the register names for this collection, in a stable order."""
        names = [
            *self.primary_key,
            *self.identity.values(),
            *self.references,
            *self.fields,
            *self.erased_columns,
            *([self.restrict] if self.restrict else []),
        ]
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class SystemSpec:
    """One system of the register with its ``env:`` references resolved."""

    id: str
    connector: Literal["sql", "files", "http", "manual"]
    collections: Mapping[str, CollectionSpec] = field(default_factory=dict)
    #: SQLAlchemy URL (sql) or base URL (http); hidden from repr, it may carry a password.
    url: str | None = field(default=None, repr=False)
    #: Shared secret that signs requests (http).
    secret: str | None = field(default=None, repr=False)
    #: Who does the work for a manual system.
    owner: str | None = None
    #: language -> instructions for a manual system; the first is the register's language.
    instructions: Mapping[str, str] = field(default_factory=dict)

    def collection(self, name: str) -> CollectionSpec:
        """The declared collection ``name``; raises :class:`Rejected` for an undeclared one."""
        try:
            return self.collections[name]
        except KeyError:
            raise Rejected(
                self.id,
                f"no collection `{name}` is declared; declared: "
                f"{', '.join(sorted(self.collections)) or 'none'}",
            ) from None

    def columns(self, name: str) -> tuple[str, ...]:
        """The columns a connector reads from collection ``name``: the declared ones and
        those that other collections' references point at (needed to follow them).
        """
        targets = [
            ref.column
            for other in self.collections.values()
            for ref in other.references.values()
            if ref.collection == name
        ]
        return tuple(dict.fromkeys([*self.collection(name).declared_columns, *targets]))


# --- what a connector returns -----------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """What to search for: identifier kind -> normalised values (see
    :func:`ombud.discovery.normalise`), and optionally collection -> column -> values
    known in advance (a customer number in one table).
    """

    identifiers: Mapping[str, frozenset[str]] = field(default_factory=dict)
    columns: Mapping[str, Mapping[str, frozenset[Value]]] = field(default_factory=dict)

    @classmethod
    def of(cls, **identifiers: str | Values[str]) -> Lookup:
        """``Lookup.of(email="a@example.se", phone=["+46701234567"])``."""
        return cls(
            {
                kind: frozenset([values] if isinstance(values, str) else values)
                for kind, values in identifiers.items()
            }
        )


@dataclass(frozen=True)
class Found:
    """One row of a collection: its primary key and the values of the columns read."""

    collection: str
    key: Key
    values: Mapping[str, Value]


@dataclass(frozen=True)
class Counts:
    """What one call did to one collection. ``restricted`` counts rows whose restriction
    flag changed (either way); ``held`` rows a legal hold kept from erasure.
    """

    collection: str
    matched: int = 0
    deleted: int = 0
    updated: int = 0
    restricted: int = 0
    held: int = 0

    def __add__(self, other: Counts) -> Counts:
        if other.collection != self.collection:
            raise ValueError(f"cannot add counts of {other.collection} to {self.collection}")
        return Counts(
            self.collection,
            *(
                getattr(self, f.name) + getattr(other, f.name)
                for f in fields(self)
                if f.name != "collection"
            ),
        )

    @property
    def changed(self) -> int:
        """Rows changed in any way: the figure that is 0 when a call is repeated."""
        return self.deleted + self.updated + self.restricted


@dataclass(frozen=True)
class Outcome:
    """What a run did to one system: counts per collection (the erasure result)."""

    system: str
    counts: Mapping[str, Counts] = field(default_factory=dict)

    def add(self, counts: Counts) -> Outcome:
        """A new outcome with ``counts`` added to its collection's."""
        merged = dict(self.counts)
        previous = merged.get(counts.collection)
        merged[counts.collection] = counts if previous is None else previous + counts
        return Outcome(self.system, merged)

    @property
    def total(self) -> Counts:
        total = Counts("*")
        for counts in self.counts.values():
            total += replace(counts, collection="*")
        return total


# --- the protocol -----------------------------------------------------------------------------


@runtime_checkable
class Connector(Protocol):
    """One system, reached set-based: every method handles many rows in few statements.

    Every method raises :class:`ConnectorError` subclasses only, and names the
    collection it was working on.
    """

    @property
    def spec(self) -> SystemSpec:
        """The system this connector reaches."""
        ...

    def check(self) -> None:
        """Connect, and compare the declared collections with the real ones.

        Raises :class:`Unreachable`, :class:`Timeout` or :class:`SchemaMismatch` (naming
        the missing table or column).
        """
        ...

    def find(self, collection: str, column: str, values: Values[Value]) -> list[Found]:
        """The rows of ``collection`` whose ``column`` equals one of ``values`` (exactly)."""
        ...

    def erase(
        self, collection: str, keys: Sequence[Key], strategy: Erasure, *, hash_key: bytes
    ) -> Counts:
        """Delete the rows with these primary keys, or change their columns per ``strategy``.

        One transaction per call; idempotent: a second call changes nothing (``changed ==
        0``). A collection under legal hold is not erased: its rows are restricted
        instead (when it declares a restrict column) and counted as ``held``.
        ``hash_key`` keys the HMAC of the hash strategy.
        """
        ...

    def restrict(self, collection: str, keys: Sequence[Key], *, on: bool) -> Counts:
        """Set (or clear) the declared restrict column of these rows."""
        ...

    def rectify(self, collection: str, key: Key, changes: Mapping[str, Value]) -> Counts:
        """Change declared field columns of one row, by primary key."""
        ...

    def close(self) -> None:
        """Release connections; the connector may not be used afterwards."""
        ...
