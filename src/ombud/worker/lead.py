"""Which of the Ombud processes on one database runs the background work.

Several ``ombud serve`` processes (``--workers N``, or several machines) may
share one PostgreSQL database. Every one serves requests, but only one runs
the background work: requests queued for an automatic run, the runs a crash
left behind, consent webhooks. Two processes resuming the same request would
run its steps twice. The lead is the process that holds a PostgreSQL advisory
lock (one per database and schema) on a connection kept for that purpose; the
others try again every :data:`RETRY_SECONDS` and take over when the lead's
process ends, which releases the lock with its connection. A SQLite database
has one server process, which always leads.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

__all__ = ["RETRY_SECONDS", "Leadership"]

#: How often a process that does not lead tries to take over.
RETRY_SECONDS = 15.0

# One lock per database and schema: hashtext() of a fixed name and the schema.
_KEY = "hashtext('ombud lead ' || current_schema())"
_TRY = f"SELECT pg_try_advisory_lock({_KEY})"
_UNLOCK = f"SELECT pg_advisory_unlock({_KEY})"


class Leadership:
    """This process's claim to run the background work on ``engine``'s database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None

    @property
    def is_lead(self) -> bool:
        return self._engine.dialect.name != "postgresql" or self._connection is not None

    def try_acquire(self) -> bool:
        """Lead if no other process does; True when this process leads (now or already)."""
        if self.is_lead:
            return True
        connection = self._engine.connect()
        try:
            taken = bool(connection.exec_driver_sql(_TRY).scalar())
            connection.commit()  # the lock is the session's: it outlives the transaction
        except BaseException:
            connection.invalidate()
            raise
        if taken:
            self._connection = connection
        else:
            connection.close()
        return taken

    def release(self) -> None:
        """Stop leading: the lock is released and its connection closed for good."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            # Unlocked at once: closing alone releases it only when the server notices.
            connection.exec_driver_sql(_UNLOCK)
            connection.commit()
        except SQLAlchemyError:
            pass  # the connection is gone, and the lock with it
        finally:
            # Not back to the pool either way: a pooled connection would keep a lock.
            connection.invalidate()
            connection.close()
