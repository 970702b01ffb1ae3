"""The inline worker: a thread pool in the server process."""

from __future__ import annotations

import logging
from collections.abc import Callable
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

    def shutdown(self) -> None:
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
