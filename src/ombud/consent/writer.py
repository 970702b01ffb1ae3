"""Group commit for consent choices: many POSTs, one transaction, one audit entry.

Every banner choice used to be its own transaction, and the audit chain head
is locked from the append to the commit, so choices committed one at a time
(about 100-200 a second). :class:`ConsentWriter` puts a queue in front of the
ledger: the web handler checks a choice (:func:`ombud.consent.ledger.prepare_choice`),
hands it over and awaits it; one thread takes whatever is queued (up to
``max_batch`` choices, waiting at most ``max_wait`` seconds after the oldest
arrived), writes it all with :func:`ombud.consent.ledger.record_batch` in one
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
import logging
import queue
import threading
import time
from concurrent.futures import Future
from typing import NamedTuple

from sqlalchemy import Engine

from ombud import store
from ombud.consent.ledger import Choice, PendingChoice, record_batch

__all__ = ["MAX_BATCH", "MAX_WAIT", "ConsentWriter", "WriteFailedError"]

log = logging.getLogger(__name__)

#: The most choices one transaction writes (two to four events each).
MAX_BATCH = 500
#: How long a choice waits for others to share its transaction, in seconds.
MAX_WAIT = 0.005


class WriteFailedError(RuntimeError):
    """The choice was not recorded and nothing of it is stored: its batch failed, or the
    writer was closed. The cause (a database error) is ``__cause__``; send it again."""


class _Queued(NamedTuple):
    pending: PendingChoice
    future: Future[Choice]
    queued_at: float


class ConsentWriter:
    """Writes prepared choices in batches on one thread (see the module's promises).

    ``actor`` is the audit entries' actor. The thread starts with the first
    choice; :meth:`close` writes what is queued and stops it.
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

    def submit(self, pending: PendingChoice) -> Future[Choice]:
        """Queue ``pending``; the future gets its :class:`Choice` once committed.

        The future fails with :class:`WriteFailedError` when the batch does, or at
        once when the writer is closed. Cancelling it before its batch starts
        keeps the choice out of the database.
        """
        future: Future[Choice] = Future()
        with self._lock:
            if self._closed:
                future.set_exception(
                    WriteFailedError("the server is stopping; the choice was not recorded")
                )
                return future
            if self._thread is None:
                # A daemon: a process that exits without closing the writer loses only
                # choices that were never answered.
                self._thread = threading.Thread(
                    target=self._run, name="ombud-consent-writer", daemon=True
                )
                self._thread.start()
            self._queue.put(_Queued(pending, future, time.monotonic()))
        return future

    async def record(self, pending: PendingChoice) -> Choice:
        """Queue ``pending`` and wait until it is committed; raises :class:`WriteFailedError`."""
        return await asyncio.wrap_future(self.submit(pending))

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
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = first.queued_at + self._max_wait
            stopping = False
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
                    stopping = True
                    break
                batch.append(item)
            self._write(batch)
            if stopping:
                return

    def _write(self, batch: list[_Queued]) -> None:
        live = [item for item in batch if item.future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            with store.transaction(self._engine) as session:
                choices = record_batch(session, [item.pending for item in live], actor=self._actor)
        except Exception as exc:  # noqa: BLE001 - whatever failed, each choice of the batch is told
            # Not the traceback: the statement's parameters (digests, addresses) would follow it.
            log.error(  # noqa: TRY400 - see above
                "a batch of %d consent choices was not recorded: %s",
                len(live),
                _first_line(exc),
            )
            for item in live:
                error = WriteFailedError(
                    "the database did not record the batch this choice was in; nothing of "
                    "it was stored"
                )
                error.__cause__ = exc
                item.future.set_exception(error)
            return
        for item, choice in zip(live, choices, strict=True):
            item.future.set_result(choice)


def _first_line(exc: BaseException) -> str:
    """The error's class and first line: the database's message without the values."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"
