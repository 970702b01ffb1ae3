"""Bulk loading: the demo's rows into SQLite, PostgreSQL or MariaDB, fast.

SQLAlchemy Core creates the tables; the rows go in through the driver itself,
one statement per batch: ``executemany`` of plain tuples on SQLite and MariaDB
(PyMySQL folds it into multi-row ``INSERT``\\s), ``COPY ... FROM STDIN`` on
PostgreSQL. Indexes are built after the rows are in, which is faster than
maintaining them row by row. Going through SQLAlchemy's ``insert()`` with
dictionaries costs several times more per row (``bench/demo_generate.py``
measures against a raw ``executemany``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

from sqlalchemy import Connection, Dialect, Engine, MetaData, Table, event, update
from sqlalchemy.schema import AddConstraint, CreateIndex, CreateTable

__all__ = ["Progress", "create_tables", "finish_tables", "insert_rows", "insert_sql"]

Row = tuple[object, ...]


class Progress:
    """A one-line progress bar on ``stream`` (standard error by default), or nothing.

    Redrawn at most five times a second, so that drawing costs nothing next to
    the work it reports.
    """

    def __init__(self, total: int, stream: TextIO | None = None, *, enabled: bool = True) -> None:
        self.total = max(1, total)
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.started = time.perf_counter()
        self._drawn = 0.0

    def advance(self, label: str, count: int) -> None:
        self.done += count
        now = time.perf_counter()
        if self.enabled and now - self._drawn >= 0.2:
            self._drawn = now
            self._draw(label, now)

    def finish(self, label: str = "done") -> None:
        """Draw the bar full (the total was an estimate) and end its line."""
        if self.enabled:
            self.total = self.done
            self._draw(label, time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, label: str, now: float) -> None:
        share = min(1.0, self.done / self.total)
        bar = "#" * int(share * 30)
        rate = self.done / max(now - self.started, 1e-9)
        self.stream.write(
            f"\r[{bar:<30}] {share:4.0%} {self.done:>12,} rows {rate:>10,.0f}/s  {label:<24}"
        )
        self.stream.flush()


def tune_sqlite(engine: Engine) -> None:
    """Make ``engine``'s SQLite connections fast for a one-off build: no journal, no syncs.

    A crash leaves a broken file, which the next build replaces anyway.
    """

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            "cache_size = -262144",
            "temp_store = MEMORY",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()


def _late_foreign_keys(connection: Connection) -> bool:
    # PostgreSQL checks a foreign key row by row during COPY, but validates one added
    # afterwards in a single join; SQLite cannot add one to an existing table
    return connection.dialect.name == "postgresql"


def create_tables(connection: Connection, metadata: MetaData) -> None:
    """Create the tables without their indexes (see :func:`finish_tables`).

    On PostgreSQL the foreign keys wait too; on MariaDB they are not checked
    while loading (the rows satisfy them by construction).
    """
    late = _late_foreign_keys(connection)
    if connection.dialect.name == "mysql":
        connection.exec_driver_sql("SET SESSION foreign_key_checks = 0")
    for table in metadata.sorted_tables:
        connection.execute(CreateTable(table, include_foreign_key_constraints=[] if late else None))


def finish_tables(connection: Connection, metadata: MetaData) -> None:
    """Build the indexes, and the foreign keys :func:`create_tables` left out."""
    for table in metadata.sorted_tables:
        for index in sorted(table.indexes, key=lambda ix: str(ix.name)):
            connection.execute(CreateIndex(index))
    if _late_foreign_keys(connection):
        for table in metadata.sorted_tables:
            for constraint in table.foreign_key_constraints:
                connection.execute(AddConstraint(constraint))
    if connection.dialect.name == "mysql":
        connection.exec_driver_sql("SET SESSION foreign_key_checks = 1")


def insert_sql(dialect: Dialect, table: Table) -> str:
    """``INSERT INTO t (c1, ...) VALUES (?, ...)`` in the driver's own parameter style."""
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(c.name) for c in table.columns)
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join([mark] * len(table.columns))
    # names from the demo's own metadata, quoted; the values are parameters
    return f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})"  # noqa: S608


def _copy_sql(dialect: Dialect, table: Table) -> str:
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(c.name) for c in table.columns)
    return f"COPY {quote(table.name)} ({columns}) FROM STDIN"


def insert_rows(
    connection: Connection,
    table: Table,
    batches: Iterable[list[Row]],
    progress: Progress | None = None,
) -> int:
    """Insert every batch into ``table`` inside ``connection``'s transaction; return the count.

    Each row is a tuple in the order of ``table.columns``.
    """
    dialect = connection.dialect
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    count = 0
    try:
        if dialect.name == "postgresql":
            sql = _copy_sql(dialect, table)
            for batch in batches:
                with cursor.copy(sql) as copy:
                    write = copy.write_row
                    for row in batch:
                        write(row)
                count += len(batch)
                if progress is not None:
                    progress.advance(table.name, len(batch))
        else:
            sql = insert_sql(dialect, table)
            for batch in batches:
                cursor.executemany(sql, batch)
                count += len(batch)
                if progress is not None:
                    progress.advance(table.name, len(batch))
    finally:
        cursor.close()
    return count


def apply_updates(
    connection: Connection, tables: dict[str, Table], updates: list[tuple[str, str, int, int]]
) -> None:
    """Set ``(table, column, id, value)`` after the rows are in."""
    for table_name, column, row_id, value in updates:
        table = tables[table_name]
        connection.execute(update(table).where(table.c.id == row_id).values({column: value}))


def reset_sequences(connection: Connection, metadata: MetaData) -> None:
    """On PostgreSQL, move each ``id`` sequence past the ids the demo inserted, so that
    later inserts without an id do not collide.
    """
    if connection.dialect.name != "postgresql":
        return  # SQLite and MariaDB continue after the largest id by themselves
    for table in metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
            name = table.name  # from the demo's own metadata
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                f"coalesce((SELECT max(id) FROM {name}), 0) + 1, false)"
            )
