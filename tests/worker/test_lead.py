"""One process on a database runs the background work; the others take over when it ends."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine

from ombud import store
from ombud.register import load
from ombud.rights.intake import NewRequest, create_request, get_request
from ombud.rights.models import Channel, RequestState
from ombud.rights.states import move
from ombud.settings import Settings
from ombud.store.crypto import Keys
from ombud.web import app as web_app
from ombud.web import create_app
from ombud.worker.lead import Leadership

ALMI = Path(__file__).resolve().parents[2] / "examples" / "almi" / "ombud.yaml"
SECRET = "test-secret-key-of-enough-length"


@pytest.mark.postgres
def test_one_process_leads_per_database_and_schema(
    postgres_schema_url: str, postgres_url: str
) -> None:
    engines = [store.make_engine(postgres_schema_url) for _ in range(2)]
    other_schema = store.make_engine(postgres_url)
    first, second = (Leadership(e) for e in engines)
    try:
        assert first.try_acquire()
        assert first.try_acquire()  # leading already
        assert not second.try_acquire()
        assert not second.is_lead
        # Another schema is another Ombud: it has a lead of its own.
        elsewhere = Leadership(other_schema)
        assert elsewhere.try_acquire()
        elsewhere.release()
        first.release()
        assert not first.is_lead
        assert second.try_acquire()
        # The lock went with its connection: the pool kept none that holds it.
        assert not first.try_acquire()
    finally:
        second.release()
        for engine in (*engines, other_schema):
            engine.dispose()


def test_sqlite_has_one_process_which_leads(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'o.db'}")
    assert Leadership(engine).is_lead
    assert Leadership(engine).try_acquire()


def _verified(engine: Engine, kind: str, *, by: str) -> str:
    """A request verified ``by`` "handler" or through the portal ("email_link")."""
    now = dt.datetime.now(dt.UTC)
    new = NewRequest(
        type=kind,
        identifiers=[("email", "anna.andersson@example.se")],
        channel=Channel.HANDLER if by == "handler" else Channel.PORTAL,
        verified_note="called back on the number in the CRM" if by == "handler" else None,
    )
    with store.transaction(engine) as session:
        request = create_request(
            session,
            new,
            register=load(ALMI).register,
            register_version="a" * 64,
            keys=Keys.from_secret(SECRET),
            actor="user:1",
            now=now,
        )
        if by != "handler":
            # What the portal's verification does (rights.verification), in one step.
            request.verification = by
            request.verified_at = now
            move(session, request, RequestState.VERIFIED, actor="subject", now=now)
        return request.id


def _state(engine: Engine, request_id: str) -> RequestState:
    with store.transaction(engine) as session:
        return get_request(session, request_id).state


@pytest.mark.postgres
def test_two_servers_on_one_database_run_the_background_work_once(
    postgres_schema_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_app, "RETRY_SECONDS", 0.2)
    monkeypatch.setattr(web_app, "PICK_UP_SECONDS", 0.2)
    store.upgrade(postgres_schema_url)
    settings = Settings(
        register_path=ALMI,
        database_url=postgres_schema_url,
        secret_key=SECRET,
        mail_url=f"file:{tmp_path / 'outbox'}",
        worker="inline",
        auto_run=["access"],
    )
    engine = store.make_engine(postgres_schema_url)
    lead, other = create_app(settings), create_app(settings)
    with TestClient(lead):
        with TestClient(other):
            assert lead.state.worker is not None
            # The other hands nothing to a worker: it would run requests beside the lead.
            assert other.state.worker is None
        # A request the portal verified elsewhere is picked up by the lead, if its type runs
        # by itself (OMBUD_AUTO_RUN).
        # A handler's verified request waits for the handler, as with one process.
        access = _verified(engine, "access", by="email_link")
        erasure = _verified(engine, "erasure", by="email_link")
        handled = _verified(engine, "access", by="handler")
        deadline = time.monotonic() + 20
        while _state(engine, access) == RequestState.VERIFIED:
            assert time.monotonic() < deadline, "the lead did not pick the request up"
            time.sleep(0.1)
        time.sleep(0.5)  # more rounds of the lead's pick-up
        assert _state(engine, erasure) == RequestState.VERIFIED
        assert _state(engine, handled) == RequestState.VERIFIED

    # When the lead is gone, a server that waited takes over within RETRY_SECONDS.
    blocker = Leadership(engine)
    assert blocker.try_acquire()
    follower = create_app(settings)
    try:
        with TestClient(follower):
            assert follower.state.worker is None
            blocker.release()
            deadline = time.monotonic() + 10
            while follower.state.worker is None:
                assert time.monotonic() < deadline, "nobody took over the background work"
                time.sleep(0.05)
    finally:
        blocker.release()
        engine.dispose()
