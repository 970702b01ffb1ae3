"""The demo systems as a test bed for requests: built once, copied for each test."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from ombud import store
from ombud.connectors import Lookup, connect, spec_from_register, traverse
from ombud.mail import MemoryTransport
from ombud.register import load
from ombud.register.model import Register
from ombud.rights.answer import send_link
from ombud.rights.execution import Runtime, run
from ombud.rights.intake import NewRequest, create_request, get_request
from ombud.rights.models import Channel, DataRequest
from ombud.store.crypto import Keys

KEYS = Keys.from_secret("demo systems test secret key")
NOW = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


@dataclass
class Demo:
    """A built demo: its register, Ombud's store, and the people of the manifest."""

    directory: Path
    engine: Engine
    manifest: dict[str, Any]
    mail: MemoryTransport

    @property
    def register_path(self) -> Path:
        return self.directory / "ombud.yaml"

    @property
    def register(self) -> Register:
        return load(self.register_path).register

    def person(self, name: str) -> dict[str, Any]:
        edge: dict[str, Any] = self.manifest["edge_cases"][name]
        return edge

    def runtime(self, **changes: Any) -> Runtime:
        mail = self.mail

        def deliver(session: Any, request: DataRequest) -> None:
            send_link(session, request, keys=KEYS, mail=mail, base_url="https://o.test", now=NOW)

        fields: dict[str, Any] = {
            "register": self.register,
            "register_dir": self.directory,
            "keys": KEYS,
            "environ": {},
            "on_package": deliver,
            "clock": lambda: NOW,
        }
        fields.update(changes)
        return Runtime(**fields)

    def request(self, kind: str, identifiers: list[tuple[str, str]], **extra: Any) -> str:
        with store.transaction(self.engine) as session:
            return create_request(
                session,
                NewRequest(
                    type=kind,
                    identifiers=identifiers,
                    channel=Channel.HANDLER,
                    verified_note="verified in the test",
                    **extra,
                ),
                register=self.register,
                register_version="d" * 64,
                keys=KEYS,
                actor="user:1",
                now=NOW,
            ).id

    def run(self, request_id: str, **changes: Any) -> DataRequest:
        return run(self.engine, request_id, self.runtime(**changes))

    def load(self, request_id: str) -> DataRequest:
        with store.transaction(self.engine) as session:
            return get_request(session, request_id)

    def scan(self, identifiers: Mapping[str, str]) -> dict[str, dict[str, int]]:
        """Rows matching the identifiers in every automated system: system -> collection -> n."""
        found: dict[str, dict[str, int]] = {}
        lookup = Lookup.of(**identifiers)
        for system in self.register.systems:
            if system.connector.value == "manual":
                continue
            spec = spec_from_register(system, environ={}, base_dir=self.directory)
            connector = connect(spec)
            try:
                rows = traverse(connector, lookup).found
            finally:
                connector.close()
            counts = {c: len(r) for c, r in rows.items() if r}
            if counts:
                found[system.id] = counts
        return found

    def sql(self, system_id: str, query: str) -> list[Any]:
        url = next(s.url for s in self.register.systems if s.id == system_id)
        assert url is not None
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            url = f"sqlite:///{self.directory / url.removeprefix('sqlite:///')}"
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(query)))
        finally:
            engine.dispose()


def copy_demo(built: Path, target: Path, store_url: str) -> Demo:
    shutil.copytree(built, target)
    store.upgrade(store_url)
    manifest = json.loads((target / "demo.json").read_text(encoding="utf-8"))
    return Demo(target, store.make_engine(store_url), manifest, MemoryTransport())
