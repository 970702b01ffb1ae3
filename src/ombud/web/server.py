"""``ombud serve --workers N``: N server processes on one port, the kernel spreading connections.

Each process binds its own listening socket with ``SO_REUSEPORT``, so the
kernel hands every new connection to one of them by its address hash: with a
shared socket instead, the process that happens to be awake accepts most
connections and the others idle (seen with uvicorn's own ``--workers`` in
bench/consent_ingest.py). Each process builds its app from the ``OMBUD_*``
environment; one of them runs the background work (ombud.worker.lead). The
parent only watches: SIGTERM or SIGINT stops every process gracefully (each
drains its consent writer), and a process that dies stops the others, so that
a supervisor (systemd, Kubernetes) restarts the whole server.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
from types import FrameType

import uvicorn

from ombud.settings import Settings
from ombud.web.app import LOG_FORMAT, create_app

__all__ = ["serve_processes"]

log = logging.getLogger(__name__)

#: How long a process may take to stop gracefully before it is killed.
STOP_SECONDS = 30.0


def serve_processes(host: str, port: int, workers: int) -> int:
    """Run ``workers`` server processes on ``host:port`` until a signal; the exit status."""
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_serve_one, args=(host, port), name=f"ombud-serve-{n}")
        for n in range(workers)
    ]
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping %d server processes (%s)", workers, signal.Signals(signum).name)
        stopping.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    status = 0
    try:
        for process in processes:
            process.start()
        while not stopping.wait(0.5):
            ended = [p for p in processes if not p.is_alive()]
            if ended:
                log.error(
                    "server process %s ended (exit code %s); stopping the others",
                    ended[0].name,
                    ended[0].exitcode,
                )
                status = 1
                break
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes what it serves, then stops
        for process in processes:
            process.join(STOP_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return status


def _serve_one(host: str, port: int) -> None:
    """One server process: its own app, its own listening socket on the shared port."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    app = create_app(Settings())
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(address)
    # Uvicorn's access log prints client addresses (personal data); Ombud's own does not.
    config = uvicorn.Config(app, log_level="info", access_log=False)
    uvicorn.Server(config).run(sockets=[listener])
