"""Group commit for consent choices: many POSTs, one transaction, one audit entry.

Every banner choice used to be its own transaction, and the audit chain head
is locked from the append to the commit, so choices committed one at a time
(about 100-200 a second). :class:`ConsentWriter` puts a queue in front of the
ledger: the web handler checks a choice (:func:`ombud.consent.ledger.prepare_choice`),
hands it over and awaits it; one thread takes whatever is queued (up to
``max_batch`` choices; what arrives while a batch commits makes the next one),
writes it all with :func:`ombud.consent.ledger.record_batch` in one
transaction, commits, and only then resolves each choice. So:

- a choice is answered (201) only after the commit that stored it;
- a batch that fails (a database error) fails every choice in it, and, being
  one transaction, stores nothing of any; the handler answers 503 and the
  banner sends the choice again;
- one bad choice cannot fail the others: choices are checked before they are
  queued, and nothing a person sends reaches the batch unchecked.

One writer per app, started with it and closed (the queue drained) when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from ombud.consent.ledger import Choice, PendingChoice, record_batch

__all__ = ["MAX_BATCH", "MAX_WAIT", "ConsentWriter", "WriteFailedError"]

log = logging.getLogger(__name__)

#: The most choices one transaction writes (one event per purpose each).
MAX_BATCH = 500
#: How long the oldest choice queued waits for others to share its transaction, in
#: seconds. No wait by default: the choices that arrive while a batch commits make the
#: next one, so batches grow with the load, and waiting would only idle the database.
MAX_WAIT = 0.0


class WriteFailedError(RuntimeError):
    """The choice was not recorded and nothing of it is stored: its batch failed, or the
    writer was closed. The cause (a database error) is ``__cause__``; send it again."""


#: A choice recorded, or why it was not.
_Outcome = Choice | WriteFailedError


class _Queued(NamedTuple):
    pending: PendingChoice
    future: asyncio.Future[Choice]
    loop: asyncio.AbstractEventLoop
    queued_at: float


class ConsentWriter:
    """Writes prepared choices in batches on one thread (see the module's promises).

    ``actor`` is the audit entries' actor. The thread starts with the first
    choice and keeps one connection; :meth:`close` writes what is queued and
    stops it.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = MAX_BATCH,
        max_wait: float = MAX_WAIT,
        actor: str = "subject",
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._engine = engine
        self._max_batch = max_batch
        self._max_wait = max_wait
        self._actor = actor
        self._queue: queue.SimpleQueue[_Queued | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._connection: Connection | None = None

    async def record(self, pending: PendingChoice) -> Choice:
        """Queue ``pending`` and return it once committed.

        Raises :class:`WriteFailedError` when its batch fails, or at once when the
        writer is closed; nothing of the choice is stored then.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Choice] = loop.create_future()
        with self._lock:
            if self._closed:
                raise WriteFailedError("the server is stopping; the choice was not recorded")
            if self._thread is None:
                # A daemon: a process that exits without closing the writer loses only
                # choices that were never answered.
                self._thread = threading.Thread(
                    target=self._run, name="ombud-consent-writer", daemon=True
                )
                self._thread.start()
            self._queue.put(_Queued(pending, future, loop, time.monotonic()))
        return await future

    def close(self, timeout: float | None = 60.0) -> None:
        """Take no more choices, write every one queued, and wait for the thread to end."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            self._queue.put(None)  # after every choice queued: FIFO
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        try:
            while True:
                batch, stopping = self._take()
                if batch:
                    self._write(batch)
                if stopping:
                    return
        finally:
            if self._connection is not None:
                self._connection.close()

    def _take(self) -> tuple[list[_Queued], bool]:
        """The next batch, and whether the writer is closing after it."""
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        deadline = first.queued_at + self._max_wait
        while len(batch) < self._max_batch:
            try:
                remaining = deadline - time.monotonic()
                # Under load the queue is full already: take it without waiting.
                item = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _write(self, batch: list[_Queued]) -> None:
        try:
            # One connection kept between batches: no pool checkout (and ping) per batch.
            if self._connection is None:
                self._connection = self._engine.connect()
                if self._connection.dialect.name == "postgresql":
                    # There a batch is a SELECT and one statement that writes everything
                    # (record_batch): atomic by itself, so no BEGIN and COMMIT round trips.
                    self._connection.execution_options(isolation_level="AUTOCOMMIT")
            with Session(bind=self._connection) as session, session.begin():
                outcomes: Sequence[_Outcome] = record_batch(
                    session, [item.pending for item in batch], actor=self._actor
                )
        except Exception as exc:  # noqa: BLE001 - whatever failed, each choice of the batch is told
            # Not the traceback: the statement's parameters (digests, addresses) would follow it.
            log.error(  # noqa: TRY400 - see above
                "a batch of %d consent choices was not recorded: %s", len(batch), _first_line(exc)
            )
            if self._connection is not None:
                self._connection.invalidate()  # whatever state it is in, start afresh
                self._connection = None
            outcomes = [_failed(exc) for _ in batch]
        # One wake-up of each event loop per batch, not one per choice.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Choice], _Outcome]]] = {}
        for item, outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(item.loop, []).append((item.future, outcome))
        for loop, answers in by_loop.items():
            # A closed loop has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, answers)


def _failed(cause: Exception) -> WriteFailedError:
    error = WriteFailedError(
        "the database did not record the batch this choice was in; nothing of it was stored"
    )
    error.__cause__ = cause
    return error


def _resolve(outcomes: list[tuple[asyncio.Future[Choice], _Outcome]]) -> None:
    for future, outcome in outcomes:
        if future.done():
            continue  # its request was cancelled (the client hung up)
        if isinstance(outcome, WriteFailedError):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


def _first_line(exc: BaseException) -> str:
    """The error's class and first line: the database's message without the values."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"
