"""The consent tests' helper: a ledger with the Almi register served and its banner texts stored."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from ombud import consent, store
from ombud.register.model import Register
from ombud.store.crypto import Keys
from ombud.store.models import AuditEntry

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Ledger:
    """A migrated database with the Almi register served and its banner texts stored."""

    engine: Engine
    keys: Keys
    register: Register
    version: str
    #: language -> digest of the banner text stored
    texts: Mapping[str, str]

    def choose(
        self,
        visitor: str,
        choices: Mapping[str, bool],
        *,
        at: dt.datetime = NOW,
        method: str = "banner",
        language: str = "sv",
        gpc: bool = False,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> consent.Choice:
        with store.transaction(self.engine) as session:
            return consent.record_choice(
                session,
                keys=self.keys,
                register=self.register,
                register_version=self.version,
                subject=("visitor_id", visitor),
                choices=choices,
                method=method,
                language=language,
                text_digest=self.texts.get(language, self.texts["sv"]),
                gpc=gpc,
                ip=ip,
                user_agent=user_agent,
                now=at,
            )

    def digest(self, visitor: str) -> str:
        return consent.subject_digest(self.keys, "visitor_id", visitor, now=NOW)

    def state(self, visitor: str, *, at: dt.datetime = NOW) -> dict[str, str]:
        digest = self.digest(visitor)
        with store.transaction(self.engine) as session:
            found = consent.current(
                session, {digest}, {"statistics", "marketing", "newsletter"}, now=at
            )
        return dict(found[digest])

    def count(self, table: Any) -> int:
        with store.transaction(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(table)) or 0)

    def audit(self, action: str) -> list[AuditEntry]:
        with store.transaction(self.engine) as session:
            return list(
                session.scalars(
                    select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
                )
            )


def open_ledger(engine: Engine, register: Register, keys: Keys) -> Ledger:
    """Serve ``register`` and store its banner texts in every language."""
    with store.transaction(engine) as session:
        version = store.record_served(session, register).content_hash
        texts = {
            lang: consent.store_text(
                session,
                consent.banner_text(register, lang),
                register_version=version,
                language=lang,
                now=NOW,
            )
            for lang in register.languages
        }
    return Ledger(engine, keys, register, version, texts)


def visitor() -> str:
    return str(uuid.uuid4())
