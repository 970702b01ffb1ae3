"""Whose rows are these? Narrowing a traversal to the person, or asking a handler.

Two people may share an e-mail address or a phone (a family, a shared office
line). Rows that carry a *strong* identifier — a personnummer or a customer
number — tell them apart: a row whose strong identifier is known and differs
from the request's belongs to someone else and is dropped, with the rows that
hang from it. When the request has no strong identifier and the rows carry
several, the match is ambiguous: nothing is shown or changed until a handler
chooses the rows (``decided``: collection -> primary keys).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ombud.connectors import Found, Lookup, Mention, SystemSpec, Traversal
from ombud.discovery import InvalidIdentifierError, normalise

#: Identifier kinds that belong to one person only.
STRONG_KINDS = ("personnummer", "customer_id")


@dataclass(frozen=True)
class Match:
    """The person's rows in one system, the mentions to clear, and any ambiguity."""

    rows: list[Found]
    mentions: Mapping[str, list[Mention]] = field(default_factory=dict)
    #: collection -> keys of the rows that could be the person's: a handler decides.
    ambiguous: Mapping[str, list[list[object]]] = field(default_factory=dict)


def narrow(
    traversal: Traversal,
    spec: SystemSpec,
    lookup: Lookup,
    decided: Mapping[str, Sequence[Sequence[object]]] | None = None,
) -> Match:
    """The rows of ``traversal`` that are the person's (see the module)."""
    rows = [row for found in traversal.found.values() for row in found]
    dropped: list[Found] = []
    ambiguous: dict[str, list[list[object]]] = {}
    for name, collection in spec.collections.items():
        in_collection = [r for r in rows if r.collection == name]
        if decided is not None and name in decided:
            chosen = {tuple(k) for k in decided[name]}
            dropped += [r for r in in_collection if r.key not in chosen]
            continue
        strong = {k: c for k, c in collection.identity.items() if k in STRONG_KINDS}
        known = [k for k in strong if lookup.identifiers.get(k)]
        for kind in known:
            values = lookup.identifiers[kind]
            dropped += [
                r
                for r in in_collection
                if (v := _canonical(kind, r.values.get(strong[kind]))) is not None
                and v not in values
            ]
        if known:
            continue  # what is left agrees with the request's own strong identifier
        for kind, column in strong.items():
            distinct = {_canonical(kind, r.values.get(column)) for r in in_collection} - {None}
            if len(distinct) > 1:
                ambiguous[name] = [list(r.key) for r in in_collection]
    if ambiguous:
        return Match([], {}, ambiguous)
    if not dropped:
        return Match(rows, traversal.mentions)
    kept = _without(rows, dropped, spec)
    return Match(kept, _mentions_of(traversal.mentions, kept, spec))


def _mentions_of(
    mentions: Mapping[str, list[Mention]], kept: list[Found], spec: SystemSpec
) -> dict[str, list[Mention]]:
    """The mentions that point at rows still the person's (not at dropped ones)."""
    result: dict[str, list[Mention]] = {}
    for collection, found in mentions.items():
        for mention in found:
            target = spec.collections[collection].references[mention.column]
            if any(
                row.collection == target.collection
                and row.values.get(target.column) == mention.value
                for row in kept
            ):
                result.setdefault(collection, []).append(mention)
    return result


def _without(rows: list[Found], dropped: list[Found], spec: SystemSpec) -> list[Found]:
    """``rows`` without ``dropped`` and without the rows that hang from dropped rows only."""
    gone = {(r.collection, r.key) for r in dropped}
    changed = True
    while changed:
        changed = False
        alive = [r for r in rows if (r.collection, r.key) not in gone]
        dead = [r for r in rows if (r.collection, r.key) in gone]
        for row in alive:
            pointers = [
                (ref.collection, ref.column, row.values[column])
                for column, ref in spec.collections[row.collection].references.items()
                if row.values.get(column) is not None
            ]
            if _points_at(pointers, dead) and not _points_at(pointers, alive):
                gone.add((row.collection, row.key))
                changed = True
    return [r for r in rows if (r.collection, r.key) not in gone]


def _points_at(pointers: list[tuple[str, str, object]], rows: list[Found]) -> bool:
    return any(
        r.collection == collection and r.values.get(column) == value
        for collection, column, value in pointers
        for r in rows
    )


def _canonical(kind: str, value: object) -> str | None:
    if value is None or value == "":
        return None
    try:
        return normalise(kind, str(value), today=dt.datetime.now(dt.UTC).date())
    except InvalidIdentifierError:
        return str(value).strip()


def learned_identifiers(match: Match, spec: SystemSpec, lookup: Lookup) -> set[tuple[str, str]]:
    """The strong identifiers on the person's rows that the lookup does not have yet,
    normalised: (kind, value).
    """
    learned: set[tuple[str, str]] = set()
    for row in match.rows:
        for kind, column in spec.collections[row.collection].identity.items():
            if kind not in STRONG_KINDS:
                continue
            value = _canonical(kind, row.values.get(column))
            if value is not None and value not in lookup.identifiers.get(kind, ()):
                learned.add((kind, value))
    return learned
