"""The sql connector: any database SQLAlchemy reaches, through Core and reflected tables.

Set-based throughout (STYLE habit 5): every method issues one statement per
collection and batch of keys, never one per row. A column erasure reads the
batch's values (``SELECT ... WHERE pk IN (...) FOR UPDATE``), computes hashes
and truncated addresses in Python, and writes them back in one ``UPDATE ...
SET col = CASE WHEN pk = ... THEN ... END WHERE pk IN (...)`` — one round trip
on every driver, which ``executemany`` is not (PyMySQL sends an UPDATE per
parameter set). Only the declared collections' tables are reflected, once per
connector.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Collection as Values
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    MetaData,
    Table,
    and_,
    case,
    create_engine,
    delete,
    event,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    NoSuchTableError,
    OperationalError,
    SQLAlchemyError,
)

from ombud.connectors.base import (
    REDACTED,
    Counts,
    Erasure,
    Found,
    InvalidSpec,
    Key,
    Rejected,
    SchemaMismatch,
    Strategy,
    SystemSpec,
    Timeout,
    Unreachable,
    Value,
)
from ombud.connectors.masking import HASH_LENGTH, mask
from ombud.connectors.retry import RetryPolicy

__all__ = ["BATCH_SIZE", "SqlConnector"]

T = TypeVar("T")

#: Keys per statement: small enough for every driver's parameter limit (SQLite: 32,766)
#: with a few hashed columns, large enough that 100,000 rows take 200 statements.
BATCH_SIZE = 500
#: Seconds to wait for a connection before the server counts as unreachable.
CONNECT_TIMEOUT = 10

# Error codes that mean "took too long": PostgreSQL query_canceled and lock_not_available,
# MySQL/MariaDB lock wait timeout and max_execution_time; SQLite's busy database.
_TIMEOUT_CODES = frozenset({"57014", "55P03", 1205, 3024, "SQLITE_BUSY", "SQLITE_LOCKED"})


class _ConnectFailed(Exception):  # noqa: N818  internal, never leaves this module
    """No connection could be had; carries the driver's error for the message."""

    def __init__(self, cause: DBAPIError) -> None:
        self.cause = cause
        super().__init__(str(cause.orig).strip().splitlines()[0] if cause.orig else "")


class SqlConnector:
    """A SQL database reached through SQLAlchemy Core (see the module docstring).

    ``engine`` replaces the one built from ``spec.url`` (the caller then disposes of
    it); ``policy`` says how transient failures (a dropped connection, a deadlock)
    are retried.
    """

    def __init__(
        self,
        spec: SystemSpec,
        *,
        engine: Engine | None = None,
        batch_size: int = BATCH_SIZE,
        policy: RetryPolicy | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._spec = spec
        self._owns_engine = engine is None
        self._engine = engine if engine is not None else _make_engine(spec)
        self._batch_size = batch_size
        self._policy = policy if policy is not None else RetryPolicy()
        self._tables: dict[str, Table] | None = None
        self._keys: dict[str, tuple[Column[Any], ...]] = {}
        self._lock = threading.Lock()

    @property
    def spec(self) -> SystemSpec:
        return self._spec

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        if self._owns_engine:
            self._engine.dispose()

    # --- the protocol -------------------------------------------------------------------------

    def check(self) -> None:
        tables = self._transaction(None, self._reflect)
        for name, collection in self._spec.collections.items():
            if not isinstance(collection.erasure, str) and not collection.held:
                self._fit_strategies(tables[name], name, collection.erasure)

    def find(self, collection: str, column: str, values: Values[Value]) -> list[Found]:
        self._declared(collection, column)
        wanted = list(dict.fromkeys(values))
        if not wanted:
            return []

        def work(connection: Connection) -> list[Found]:
            table = self._reflect(connection)[collection]
            target = table.c[column]
            keys = self._keys[collection]
            names = tuple(
                dict.fromkeys([*self._spec.columns(collection), *(key.name for key in keys)])
            )
            columns = [table.c[name] for name in names]
            key_at = [names.index(key.name) for key in keys]
            restrict = self._spec.collections[collection].restrict
            found: list[Found] = []
            for batch in _batches(_coerce(target, wanted), self._batch_size):
                for row in connection.execute(select(*columns).where(target.in_(batch))):
                    values = dict(zip(names, row, strict=True))
                    if restrict is not None and values[restrict] is not None:
                        values[restrict] = bool(values[restrict])  # MySQL: TINYINT 0/1
                    found.append(Found(collection, tuple(row[i] for i in key_at), values))
            return found

        return self._transaction(collection, work)

    def erase(
        self, collection: str, keys: Sequence[Key], strategy: Erasure, *, hash_key: bytes
    ) -> Counts:
        spec = self._spec.collection(collection)
        wanted = _unique_keys(keys)
        if not wanted:
            return Counts(collection)
        if spec.held:
            return self._transaction(collection, lambda c: self._hold(c, collection, wanted))
        if isinstance(strategy, str):
            if strategy != "delete":
                raise Rejected(
                    self._spec.id,
                    f"unknown erasure {strategy!r}; use delete or a column -> strategy map",
                    collection=collection,
                )
            return self._transaction(collection, lambda c: self._delete(c, collection, wanted))
        strategies = {column: Strategy(s) for column, s in strategy.items()}

        def work(connection: Connection) -> Counts:
            table = self._reflect(connection)[collection]
            self._fit_strategies(table, collection, strategies)
            return self._mask(
                connection, table, collection, wanted, strategies=strategies, hash_key=hash_key
            )

        return self._transaction(collection, work)

    def restrict(self, collection: str, keys: Sequence[Key], *, on: bool) -> Counts:
        spec = self._spec.collection(collection)
        if spec.restrict is None:
            raise Rejected(
                self._spec.id,
                "no restrict column is declared; add `restrict: {column: ...}` to the collection",
                collection=collection,
            )
        wanted = _unique_keys(keys)
        if not wanted:
            return Counts(collection)
        return self._transaction(collection, lambda c: self._set_flag(c, collection, wanted, on=on))

    def rectify(self, collection: str, key: Key, changes: Mapping[str, Value]) -> Counts:
        spec = self._spec.collection(collection)
        for column in changes:
            if column not in spec.fields:
                raise Rejected(
                    self._spec.id,
                    f"column `{column}` is not a declared field; rectification changes only "
                    f"the columns under `fields:` ({', '.join(spec.fields) or 'none'})",
                    collection=collection,
                )
        if not changes:
            return Counts(collection)

        def work(connection: Connection) -> Counts:
            table = self._reflect(connection)[collection]
            pk = self._keys[collection]
            if len(key) != len(pk):
                raise Rejected(
                    self._spec.id,
                    f"a key has {len(pk)} part(s) ({', '.join(c.name for c in pk)}), "
                    f"not {len(key)}",
                    collection=collection,
                )
            columns = [table.c[column] for column in changes]
            row = connection.execute(
                select(*columns).where(_key_is(pk, key)).with_for_update()
            ).first()
            if row is None:
                return Counts(collection)
            if all(_same(old, changes[c.name]) for old, c in zip(row, columns, strict=True)):
                return Counts(collection, matched=1)
            connection.execute(update(table).where(_key_is(pk, key)).values(dict(changes)))
            return Counts(collection, matched=1, updated=1)

        return self._transaction(collection, work)

    # --- the work -----------------------------------------------------------------------------

    def _delete(self, connection: Connection, collection: str, keys: list[Key]) -> Counts:
        table = self._reflect(connection)[collection]
        pk = self._keys[collection]
        deleted = 0
        for batch in _batches(keys, self._batch_size):
            deleted += connection.execute(delete(table).where(_key_in(pk, batch))).rowcount
        return Counts(collection, matched=deleted, deleted=deleted)

    def _mask(
        self,
        connection: Connection,
        table: Table,
        collection: str,
        keys: list[Key],
        *,
        strategies: Mapping[str, Strategy],
        hash_key: bytes,
    ) -> Counts:
        pk = self._keys[collection]
        columns = [table.c[column] for column in strategies]
        matched = updated = 0
        for batch in _batches(keys, self._batch_size):
            rows = connection.execute(
                select(*pk, *columns).where(_key_in(pk, batch)).with_for_update()
            ).all()
            matched += len(rows)
            changed: list[tuple[Key, dict[str, Value]]] = []
            for row in rows:
                key, old = tuple(row[: len(pk)]), row[len(pk) :]
                new = {
                    c.name: mask(s, value, hash_key=hash_key)
                    for c, s, value in zip(columns, strategies.values(), old, strict=True)
                }
                if not all(_same(o, new[c.name]) for o, c in zip(old, columns, strict=True)):
                    changed.append((key, new))
            if changed:
                connection.execute(
                    update(table)
                    .where(_key_in(pk, [key for key, _ in changed]))
                    .values(_assignments(table, pk, strategies, changed))
                )
                updated += len(changed)
        return Counts(collection, matched=matched, updated=updated)

    def _hold(self, connection: Connection, collection: str, keys: list[Key]) -> Counts:
        """Legal hold: count the rows, and restrict them where a restrict column is declared."""
        self._reflect(connection)
        pk = self._keys[collection]
        held = 0
        for batch in _batches(keys, self._batch_size):
            held += len(connection.execute(select(*pk).where(_key_in(pk, batch))).all())
        restricted = 0
        if self._spec.collections[collection].restrict is not None:
            restricted = self._set_flag(connection, collection, keys, on=True).restricted
        return Counts(collection, matched=held, restricted=restricted, held=held)

    def _set_flag(
        self, connection: Connection, collection: str, keys: list[Key], *, on: bool
    ) -> Counts:
        table = self._reflect(connection)[collection]
        pk = self._keys[collection]
        column = self._spec.collections[collection].restrict
        assert column is not None
        flag = table.c[column]
        changed = 0
        for batch in _batches(keys, self._batch_size):
            statement = (
                update(table)
                .where(_key_in(pk, batch), or_(flag.is_(None), flag != on))
                .values({flag: on})
            )
            changed += connection.execute(statement).rowcount
        return Counts(collection, restricted=changed)

    # --- schema -------------------------------------------------------------------------------

    def _reflect(self, connection: Connection) -> dict[str, Table]:
        """The declared collections' tables, reflected on first use and then kept."""
        with self._lock:
            if self._tables is not None:
                return self._tables
            metadata = MetaData()
            tables: dict[str, Table] = {}
            for name, collection in self._spec.collections.items():
                try:
                    table = Table(name, metadata, autoload_with=connection)
                except NoSuchTableError:
                    raise SchemaMismatch(
                        self._spec.id,
                        f"table `{name}` does not exist in {_display(self._engine.url)}; "
                        "create it, or correct the collection's name in the register",
                        collection=name,
                    ) from None
                for column in self._spec.columns(name):
                    if column not in table.c:
                        raise SchemaMismatch(
                            self._spec.id,
                            f"column `{column}` is declared but table `{name}` has no such "
                            "column; correct the register or the table",
                            collection=name,
                            column=column,
                        )
                if collection.primary_key:
                    self._keys[name] = tuple(table.c[c] for c in collection.primary_key)
                elif table.primary_key.columns:
                    self._keys[name] = tuple(table.primary_key.columns)
                else:
                    raise SchemaMismatch(
                        self._spec.id,
                        f"table `{name}` has no primary key; declare `primary_key:` for it",
                        collection=name,
                    )
                tables[name] = table
            self._tables = tables
            return tables

    def _declared(self, collection: str, column: str) -> None:
        if column not in self._spec.columns(collection):
            raise Rejected(
                self._spec.id,
                f"column `{column}` is not declared; search only declared identity, key and "
                "reference columns",
                collection=collection,
            )

    def _fit_strategies(
        self, table: Table, collection: str, strategies: Mapping[str, Strategy]
    ) -> None:
        """Raise SchemaMismatch for a strategy the column cannot take."""
        keys = {c.name for c in self._keys[collection]}
        for name, strategy in strategies.items():
            if name not in table.c:
                raise SchemaMismatch(
                    self._spec.id,
                    f"column `{name}` is to be erased but table `{collection}` has no such "
                    "column; correct `erasure:` or the table",
                    collection=collection,
                    column=name,
                )
            column = table.c[name]
            if name in keys:
                raise Rejected(
                    self._spec.id,
                    f"column `{name}` is part of the primary key and cannot be erased in place; "
                    "use `erasure: delete`",
                    collection=collection,
                )
            problem = _unfit(column, strategy)
            if problem:
                raise SchemaMismatch(
                    self._spec.id,
                    f"column `{name}` cannot take the {strategy} strategy: {problem}",
                    collection=collection,
                    column=name,
                )

    # --- transactions and errors --------------------------------------------------------------

    def _transaction(self, collection: str | None, work: Callable[[Connection], T]) -> T:
        """``work`` in one transaction, retried whole on a transient failure."""

        def attempt() -> T:
            try:
                connection = self._engine.connect()
            except DBAPIError as exc:
                raise _ConnectFailed(exc) from exc
            with connection, connection.begin():
                return work(connection)

        try:
            return self._policy.call(attempt, retry_on=_transient)
        except _ConnectFailed as exc:
            raise Unreachable(
                self._spec.id,
                f"cannot connect to {_display(self._engine.url)} ({exc}); check that the "
                "server runs and that the url is right",
                collection=collection,
            ) from None
        except DBAPIError as exc:
            raise self._refused(exc, collection) from None
        except SQLAlchemyError as exc:
            raise Rejected(
                self._spec.id,
                f"SQLAlchemy refused the work ({type(exc).__name__})",
                collection=collection,
            ) from None

    def _refused(self, exc: DBAPIError, collection: str | None) -> Exception:
        # Never the driver's message: it may quote values (MySQL: "Duplicate entry 'x'").
        code = _code(exc)
        label = f"{type(exc.orig).__name__}" + (f" {code}" if code is not None else "")
        if code in _TIMEOUT_CODES:
            return Timeout(
                self._spec.id,
                f"the database gave up waiting ({label}); retry when it is less busy",
                collection=collection,
            )
        if isinstance(exc, OperationalError) and exc.connection_invalidated:
            return Unreachable(
                self._spec.id,
                f"the connection to {_display(self._engine.url)} was lost ({label})",
                collection=collection,
            )
        hint = (
            "; rows of another collection still point at these rows: erase those first "
            "(see ombud.connectors.erasure_order), or give the foreign key ON DELETE SET NULL"
            if isinstance(exc, IntegrityError)
            else ""
        )
        return Rejected(
            self._spec.id,
            f"the database refused the statement ({label}){hint}",
            collection=collection,
        )


# --- statements -------------------------------------------------------------------------------


def _key_in(pk: Sequence[Column[Any]], keys: Sequence[Key]) -> ColumnElement[bool]:
    if len(pk) == 1:
        return pk[0].in_([key[0] for key in keys])
    return tuple_(*pk).in_([tuple(key) for key in keys])


def _key_is(pk: Sequence[Column[Any]], key: Key) -> ColumnElement[bool]:
    return and_(*(column == value for column, value in zip(pk, key, strict=True)))


def _assignments(
    table: Table,
    pk: Sequence[Column[Any]],
    strategies: Mapping[str, Strategy],
    changed: Sequence[tuple[Key, Mapping[str, Value]]],
) -> dict[str, Any]:
    """SET clauses: a constant for null and redact, a CASE over the keys for values that
    differ per row (hash, truncate_ip).
    """
    values: dict[str, Any] = {}
    for name, strategy in strategies.items():
        column = table.c[name]
        if strategy is Strategy.NULL:
            values[name] = None
        elif strategy is Strategy.REDACT:
            values[name] = literal(REDACTED, column.type)
        else:
            whens = [(_key_is(pk, key), literal(new[name], column.type)) for key, new in changed]
            values[name] = case(*whens, else_=column)
    return values


def _unfit(column: Column[Any], strategy: Strategy) -> str | None:
    """Why the column cannot hold what ``strategy`` writes, or None."""
    kind = column.type
    if strategy is Strategy.NULL:
        return None if column.nullable else "it is NOT NULL; use redact, or erasure: delete"
    textual = isinstance(kind, sqltypes.String)
    if strategy is Strategy.TRUNCATE_IP and type(kind).__name__ in ("INET", "CIDR"):
        return None
    if not textual:
        return f"it is {kind!r}, not text; use null"
    length = getattr(kind, "length", None)
    needed = {Strategy.REDACT: len(REDACTED), Strategy.HASH: HASH_LENGTH}.get(strategy, 0)
    if length is not None and length < needed:
        return f"it holds {length} characters and the strategy writes {needed}; use null"
    return None


def _coerce(column: Column[Any], values: Sequence[Value]) -> list[Value]:
    """The values in the column's Python type; text that cannot be a number is left out of a
    search in a numeric column (PostgreSQL would refuse the whole statement).
    """
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return list(values)
    if python_type is int:
        return [v for v in (_int(value) for value in values) if v is not None]
    if python_type is str:
        return [value if isinstance(value, str) else str(value) for value in values]
    return list(values)


def _int(value: Value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _same(old: Value, new: Value) -> bool:
    """Equal, or equal as text (PostgreSQL returns inet as ipaddress objects)."""
    return old == new or (old is not None and new is not None and str(old) == str(new))


def _unique_keys(keys: Sequence[Key]) -> list[Key]:
    return list(dict.fromkeys(tuple(key) for key in keys))


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _transient(exc: Exception) -> bool:
    """Worth another try: no connection, a lost one, a deadlock or a busy database."""
    if isinstance(exc, _ConnectFailed):
        return True
    if not isinstance(exc, OperationalError):
        return False
    return "no such" not in str(exc.orig)  # SQLite reports unknown tables this way


def _code(exc: DBAPIError) -> str | int | None:
    orig = exc.orig
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):  # PyMySQL: (errno, message)
        return args[0]
    for attribute in ("sqlstate", "sqlite_errorname"):
        code = getattr(orig, attribute, None)
        if isinstance(code, str):
            return code
    return None


# --- engines ----------------------------------------------------------------------------------


def _display(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _make_engine(spec: SystemSpec) -> Engine:
    if not spec.url:
        raise InvalidSpec(spec.id, "a sql system needs `url:` (a SQLAlchemy database URL)")
    try:
        url = make_url(spec.url)
    except ArgumentError:
        raise InvalidSpec(
            spec.id, "`url:` is not a SQLAlchemy database URL (e.g. postgresql+psycopg://host/db)"
        ) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    backend = url.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend in ("postgresql", "mysql", "mariadb") and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    try:
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise InvalidSpec(
            spec.id,
            f"cannot use {_display(url)}: {exc}; install the database driver it names",
        ) from None
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_foreign_keys)
    return engine


def _sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    # Enforce the schema's foreign keys (and their ON DELETE actions) like the servers do.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
