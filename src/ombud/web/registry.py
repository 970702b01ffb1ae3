"""The register as served: re-read when its file changes, each version stored once."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ombud import audit, store
from ombud.register import RegisterError, load
from ombud.register.model import Register

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Served:
    """The register being served and the stored version it is."""

    register: Register
    version: str


class RegisterSource:
    """Serves the register at ``path``; a changed file becomes a new stored version.

    A register that no longer loads keeps the last good version served (the
    error is raised once, to the caller that reloads), so a typo in production
    never takes the published notice down.
    """

    def __init__(self, path: Path, engine: Engine) -> None:
        self._path = path
        self._engine = engine
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._served: Served | None = None
        self.current()

    def current(self) -> Served:
        mtime = self._path.stat().st_mtime if self._path.exists() else None
        with self._lock:
            if self._served is None or mtime != self._mtime:
                try:
                    register = load(self._path).register
                except (RegisterError, OSError) as exc:
                    if self._served is None:
                        raise
                    log.warning(
                        "register %s no longer loads, still serving %s: %s",
                        self._path,
                        self._served.version[:12],
                        exc,
                    )
                    self._mtime = mtime
                    return self._served
                with store.transaction(self._engine) as session:
                    version = store.record_served(
                        session, register, on_new=_audit_new_version
                    ).content_hash
                self._served = Served(register, version)
                self._mtime = mtime
            return self._served


def _audit_new_version(session: Session, version: store.RegisterVersion) -> None:
    audit.append(
        session,
        actor="system",
        action="register.version_served",
        object_id=f"register:{version.content_hash}",
    )
