"""From the register's ``systems:`` entry to the plain :class:`SystemSpec` connectors take.

This is the only place where ``env:NAME`` references are resolved and where
paths relative to the register become absolute: connectors never see the
register, the environment or the working directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ombud.connectors.base import (
    CollectionSpec,
    Erasure,
    InvalidSpec,
    Reference,
    Strategy,
    SystemSpec,
)
from ombud.register.env import MissingEnvironmentError, resolve
from ombud.register.model import Collection, System

__all__ = ["spec_from_register"]


def spec_from_register(system: System, *, environ: Mapping[str, str], base_dir: Path) -> SystemSpec:
    """The connector's view of ``system``: ``env:`` values resolved from ``environ``,
    files and SQLite databases relative to ``base_dir`` (the register's folder) made
    absolute.

    Raises :class:`InvalidSpec` for an unset variable, a malformed reference, a
    reference to an undeclared collection, or a missing url or path.
    """
    collections = {
        name: _collection(system.id, name, collection, base_dir)
        for name, collection in system.collections.items()
    }
    for name, collection in collections.items():
        for column, ref in collection.references.items():
            if ref.collection not in collections:
                raise InvalidSpec(
                    system.id,
                    f"`references: {{{column}: {ref}}}` points at collection "
                    f"`{ref.collection}`, which the system does not declare; declare it or fix "
                    "the reference",
                    collection=name,
                )
    url = _resolved(system, "url", system.url, environ)
    secret = _resolved(system, "secret", system.secret, environ)
    connector: Literal["sql", "files", "http", "manual"] = system.connector.value
    if connector in ("sql", "http") and not url:
        raise InvalidSpec(
            system.id, f"a {connector} system needs `url:` (e.g. url: env:{_env(system.id)}_URL)"
        )
    if connector == "sql" and url:
        url = _sqlite_relative_to(system.id, url, base_dir)
    return SystemSpec(
        id=system.id,
        connector=connector,
        collections=collections,
        url=url,
        secret=secret,
        owner=system.owner,
        instructions=dict(system.instructions.root) if system.instructions else {},
    )


def _collection(system: str, name: str, collection: Collection, base_dir: Path) -> CollectionSpec:
    pk = collection.primary_key
    references: dict[str, Reference] = {}
    for column, target in collection.references.items():
        try:
            references[column] = Reference.parse(target)
        except ValueError:
            raise InvalidSpec(
                system,
                f"`references: {{{column}: {target}}}` is not of the form collection.column "
                "(e.g. persons.id)",
                collection=name,
            ) from None
    erasure: Erasure = (
        "delete"
        if isinstance(collection.erasure, str)
        else {column: Strategy(strategy.value) for column, strategy in collection.erasure.items()}
    )
    return CollectionSpec(
        name=name,
        primary_key=(pk,) if isinstance(pk, str) else tuple(pk or ()),
        identity=dict(collection.identity),
        references=references,
        fields=dict(collection.fields),
        erasure=erasure,
        restrict=collection.restrict.column if collection.restrict else None,
        legal_hold=collection.legal_hold,
        path=(base_dir / collection.path).resolve() if collection.path else None,
        format=collection.format,
    )


def _resolved(
    system: System, key: str, value: str | None, environ: Mapping[str, str]
) -> str | None:
    if value is None:
        return None
    try:
        return resolve(value, environ, where=f"systems[{system.id}].{key}")
    except MissingEnvironmentError as exc:
        raise InvalidSpec(system.id, str(exc)) from None


def _sqlite_relative_to(system: str, url: str, base_dir: Path) -> str:
    """A SQLite URL with a relative file path made absolute against the register's folder."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidSpec(
            system, "`url:` is not a SQLAlchemy database URL (e.g. postgresql+psycopg://host/db)"
        ) from None
    database = parsed.database
    if (
        parsed.get_backend_name() != "sqlite"
        or not database
        or database == ":memory:"
        or database.startswith("file:")
        or Path(database).is_absolute()
    ):
        return url
    return parsed.set(database=str((base_dir / database).resolve())).render_as_string(
        hide_password=False
    )


def _env(system_id: str) -> str:
    return system_id.upper().replace("-", "_")
