"""Finding everything a system holds about one subject: identity, then references, breadth-first.

A pure function over the :class:`Connector` protocol. It starts from the
collections' identity columns, searching every written form of each normalised
identifier (``+46701234567`` is also stored as ``070-123 45 67``), then follows
references *down*: from the rows found in ``persons`` to the ``cases`` whose
``person_id`` points at them, and on from there. Every step is one
:meth:`Connector.find` per collection and column with all the values of that
level, so the statements grow with the depth of the graph and the batches, not
with the rows. Visited sets end cycles (``cases.parent_id -> cases.id``).

Whose rows are they? A row matched through an identity column is the subject's.
A row reached through a reference belongs to the subject too (their cases, their
meetings), unless it identifies another party: it carries a party identifier
(e-mail, phone, personnummer, orgnr, customer id) and none of them is the
subject's (``persons.referred_by -> persons.id``: the people the subject
referred; a company the subject owns, a legal person of its own). Such a row is
returned as a :class:`Mention` — its key, the referencing column and the value it holds — and
traversal does not go on from it, so one subject's request never reaches the
rows of the people linked to them. References are never followed *up* (from a
case to its handler) for the same reason.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import phonenumbers

from ombud.connectors.base import Connector, Found, Key, Lookup, SystemSpec, Value

__all__ = ["Mention", "Traversal", "erasure_order", "traverse", "written_forms"]

#: Identifier kinds that name a party (a person or an organisation), unlike a device or a
#: session (visitor_id, ip): a row reached by reference that carries another party's is theirs.
PARTY_KINDS = frozenset({"email", "phone", "personnummer", "orgnr", "customer_id"})


@dataclass(frozen=True)
class Mention:
    """Another person's row whose ``column`` points at one of the subject's rows: on erasure
    the planner empties that column (when nullable) and leaves the row.
    """

    collection: str
    key: Key
    column: str
    #: What the column holds: the referenced value of one of the subject's rows.
    value: Value = None


@dataclass(frozen=True)
class Traversal:
    """The subject's rows per collection, and the rows of others that mention the subject."""

    found: Mapping[str, list[Found]] = field(default_factory=dict)
    mentions: Mapping[str, list[Mention]] = field(default_factory=dict)

    def keys(self, collection: str) -> list[Key]:
        return [row.key for row in self.found.get(collection, [])]

    @property
    def rows(self) -> int:
        return sum(len(rows) for rows in self.found.values())


def traverse(
    connector: Connector,
    lookup: Lookup,
    *,
    spec: SystemSpec | None = None,
    forms: Callable[[str, str], frozenset[str]] | None = None,
) -> Traversal:
    """Every row of the system that belongs to the subject of ``lookup`` (see the module).

    ``spec`` limits the walk to some collections (default: the connector's whole
    system); ``forms`` gives the written forms to search for each normalised
    identifier (default :func:`written_forms`).
    """
    walk = _Walk(connector, spec if spec is not None else connector.spec)
    level = walk.seeds(lookup, forms if forms is not None else written_forms)
    by_reference = False
    while level:
        level = walk.step(level, by_reference=by_reference)
        by_reference = True
    return walk.result()


#: (collection, column) -> the values to search for in it
_Level = dict[tuple[str, str], set[Value]]


class _Walk:
    """The state of one traversal: rows found, mentions, and what was searched already."""

    def __init__(self, connector: Connector, spec: SystemSpec) -> None:
        self.connector = connector
        self.spec = spec
        self.found: dict[str, dict[Key, Found]] = {name: {} for name in spec.collections}
        self.mentions: dict[tuple[str, Key], Mention] = {}
        self.searched: set[tuple[str, str, Value]] = set()
        self.subject: dict[str, frozenset[str]] = {}
        # parent collection -> the (child collection, column, parent column) pointing at it
        self.children: dict[str, list[tuple[str, str, str]]] = {}
        for name, collection in spec.collections.items():
            for column, ref in collection.references.items():
                self.children.setdefault(ref.collection, []).append((name, column, ref.column))

    def seeds(self, lookup: Lookup, forms: Callable[[str, str], frozenset[str]]) -> _Level:
        # Every written form of the subject's identifiers, to recognise their rows.
        self.subject = {
            kind: frozenset(form for value in values for form in forms(kind, value))
            for kind, values in lookup.identifiers.items()
        }
        level: _Level = {}
        for name, collection in self.spec.collections.items():
            for kind, column in collection.identity.items():
                for value in lookup.identifiers.get(kind, ()):
                    level.setdefault((name, column), set()).update(forms(kind, value))
        for name, columns in lookup.columns.items():
            if name in self.spec.collections:
                for column, values in columns.items():
                    level.setdefault((name, column), set()).update(values)
        return level

    def step(self, level: _Level, *, by_reference: bool) -> _Level:
        """Search one level; the next level is the references pointing at the new rows."""
        following: _Level = {}
        for (name, column), values in sorted(level.items()):
            new = [v for v in values if (name, column, v) not in self.searched]
            self.searched.update((name, column, v) for v in new)
            if not new:
                continue
            for row in self.connector.find(name, column, new):
                if by_reference and self._another_party(name, row):
                    self.mentions.setdefault(
                        (name, row.key), Mention(name, row.key, column, row.values.get(column))
                    )
                elif row.key not in self.found[name]:
                    self.found[name][row.key] = row
                    for child, child_column, parent_column in self.children.get(name, ()):
                        value = row.values.get(parent_column)
                        if value is not None:
                            following.setdefault((child, child_column), set()).add(value)
        return following

    def _another_party(self, name: str, row: Found) -> bool:
        """Whether a row reached by reference identifies a party other than the subject:
        it carries a party identifier (e-mail, phone, personnummer, orgnr, customer id)
        and none of its party identifiers is one of the subject's.
        """
        own = [
            (kind, row.values.get(column))
            for kind, column in self.spec.collections[name].identity.items()
            if kind in PARTY_KINDS and row.values.get(column) not in (None, "")
        ]
        return bool(own) and not any(
            str(value) in self.subject.get(kind, frozenset()) for kind, value in own
        )

    def result(self) -> Traversal:
        mentions: dict[str, list[Mention]] = {}
        for (name, key), mention in self.mentions.items():
            if key not in self.found[name]:  # found as the subject's own row too: that wins
                mentions.setdefault(name, []).append(mention)
        found = {name: list(rows.values()) for name, rows in self.found.items() if rows}
        return Traversal(found, mentions)


def erasure_order(spec: SystemSpec) -> list[str]:
    """The collections in an order safe for deleting: rows that point at others come before
    the rows they point at (``cases`` before ``persons``), so foreign keys hold at every
    step. Self-references are left to the database (``ON DELETE SET NULL``); a cycle
    between collections is broken at the alphabetically first collection.
    """
    # edges child -> parent: the child must be erased first
    parents: dict[str, set[str]] = {name: set() for name in spec.collections}
    children: dict[str, set[str]] = {name: set() for name in spec.collections}
    for name, collection in spec.collections.items():
        for ref in collection.references.values():
            if ref.collection != name and ref.collection in parents:
                parents[name].add(ref.collection)
                children[ref.collection].add(name)
    waiting = {name: len(kids) for name, kids in children.items()}
    ready = [name for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while len(order) < len(parents):
        if not ready:  # a cycle: release the first collection still waiting
            ready = [min(name for name in parents if name not in order)]
            waiting[ready[0]] = 0
        name = heapq.heappop(ready)
        if name in order:
            continue
        order.append(name)
        for parent in parents[name]:
            waiting[parent] -= 1
            if waiting[parent] == 0:
                heapq.heappush(ready, parent)
    return order


def written_forms(kind: str, value: str) -> frozenset[str]:
    """The ways systems commonly write a normalised identifier, the canonical one included.

    Phone numbers in E.164, international and (for Swedish numbers) national
    forms; personnummer with and without century and separator; orgnr with and
    without hyphen. Other kinds, e-mail included, are searched as they are: an
    address stored with capitals is found only where the column's collation
    ignores case (MySQL and MariaDB do by default).
    """
    forms = {value}
    if kind == "phone":
        try:
            number = phonenumbers.parse(value, "SE")
        except phonenumbers.NumberParseException:
            return frozenset(forms)
        international = phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        forms |= {e164, international, "00" + e164[1:]}
        if number.country_code == 46:
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            digits = "".join(ch for ch in national if ch.isdigit())
            area, _, rest = national.partition("-")
            forms |= {national, digits, f"{area}-{rest.replace(' ', '')}", f"{area} {rest}"}
    elif kind in ("personnummer", "orgnr") and len(value) == 12:
        date, serial = value[:8], value[8:]
        forms |= {
            f"{date}-{serial}",
            f"{date[2:]}-{serial}",
            f"{date[2:]}+{serial}",
            f"{date[2:]}{serial}",
        }
    elif kind == "orgnr" and len(value) == 10:
        forms |= {f"{value[:6]}-{value[6:]}", f"16{value}"}
    return frozenset(forms)
