"""The inline worker: a thread pool in the server process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import Engine, select

from ombud import store
from ombud.rights.errors import RightsError
from ombud.rights.execution import Runtime, run
from ombud.rights.models import DataRequest, RequestState

log = logging.getLogger(__name__)


class InlineWorker:
    """Runs verified requests on ``threads`` threads; one run per request at a time."""

    def __init__(self, engine: Engine, runtime: Callable[[], Runtime], *, threads: int = 2) -> None:
        self._engine = engine
        self._runtime = runtime
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ombud-worker")
        self._running: dict[str, Future[None]] = {}
        self._periodic: list[Periodic] = []

    def every(self, seconds: float, task: Callable[[], object], *, name: str) -> Periodic:
        """Run ``task`` now and then every ``seconds`` on a thread of its own, until shutdown.

        An exception is logged and the next round runs as planned. The handle's
        ``wake()`` starts the next round at once (e.g. after new work was queued).
        """
        periodic = Periodic(seconds, task, name=name)
        self._periodic.append(periodic)
        periodic.start()
        return periodic

    def submit(self, request_id: str) -> Future[None]:
        """Run the request soon; a request already queued or running is not queued twice."""
        current = self._running.get(request_id)
        if current is not None and not current.done():
            return current
        future = self._pool.submit(self._run, request_id)
        self._running[request_id] = future
        return future

    def resume(self) -> int:
        """Queue every request a stopped server left running; returns how many."""
        with store.transaction(self._engine) as session:
            ids = session.scalars(
                select(DataRequest.id).where(DataRequest.state == RequestState.RUNNING)
            ).all()
        for request_id in ids:
            self.submit(request_id)
        return len(ids)

    def pick_up(self, types: Collection[str]) -> int:
        """Queue every request of ``types`` (OMBUD_AUTO_RUN) that the person verified through
        the portal or the API; returns how many.

        The lead's round for requests verified in another server process, which
        hands nothing to a worker of its own (ombud.worker.lead). Requests a
        handler verified wait for the handler, as they do in one process.
        """
        with store.transaction(self._engine) as session:
            ids = session.scalars(
                select(DataRequest.id).where(
                    DataRequest.state == RequestState.VERIFIED,
                    DataRequest.type.in_(list(types)),
                    DataRequest.verification.is_distinct_from("handler"),
                )
            ).all()
        for request_id in ids:
            self.submit(request_id)
        return len(ids)

    def shutdown(self) -> None:
        for periodic in self._periodic:
            periodic.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, request_id: str) -> None:
        try:
            request = run(self._engine, request_id, self._runtime())
        except RightsError as exc:
            log.warning("request %s did not run: %s", request_id, exc)
            return
        except Exception:
            log.exception("request %s failed unexpectedly", request_id)
            return
        log.info("request %s is %s", request_id, request.state)


class Periodic:
    """A task run every ``seconds`` on a daemon thread (see :meth:`InlineWorker.every`)."""

    def __init__(self, seconds: float, task: Callable[[], object], *, name: str) -> None:
        self._seconds = seconds
        self._task = task
        self._stopped = threading.Event()
        self._woken = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Run the next round now rather than when its interval ends."""
        self._woken.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the round that is running, waiting at most ``timeout`` seconds for it."""
        self._stopped.set()
        self._woken.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            try:
                self._task()
            except Exception:
                log.exception("periodic task %s failed", self._thread.name)
            self._woken.wait(self._seconds)
            self._woken.clear()
