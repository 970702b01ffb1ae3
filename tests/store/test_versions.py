"""Served register versions: stored once by content hash, listed newest first, loaded back."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, func, select, text

from ombud.register import Register, loads
from ombud.store import (
    RegisterVersion,
    get_version,
    list_versions,
    load_version,
    record_served,
    transaction,
)

REGISTER = """\
version: 1
languages: [sv, en]
organisation:
  name: Exempel AB
  controllers:
    - {id: a, name: A, lead: true}
notice:
  updated: 2024-07-02
"""


def register(updated: str = "2024-07-02", name: str = "Exempel AB") -> Register:
    text = REGISTER.replace("2024-07-02", updated).replace("Exempel AB", name)
    return loads(text).register


def wait_until_blocked(engine: Engine) -> None:
    """Return once another connection waits for a lock (PostgreSQL) or after a moment (SQLite)."""
    if engine.dialect.name != "postgresql":
        time.sleep(0.3)  # SQLite's busy wait cannot be observed from outside
        return
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 10
    with engine.connect() as connection:
        while not connection.execute(waiting).scalar():
            connection.rollback()  # pg_stat_activity is read once per transaction
            assert time.monotonic() < deadline, "no connection ever waited for a lock"
            time.sleep(0.01)


def count_versions(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(RegisterVersion)) or 0


def test_a_version_is_stored_once_however_often_it_is_served(engine: Engine) -> None:
    with transaction(engine) as session:
        first = record_served(session, register())
    with transaction(engine) as session:
        again = record_served(session, register())
    assert again.id == first.id
    assert again.first_served_at == first.first_served_at
    assert count_versions(engine) == 1


def test_the_stored_content_is_canonical_json_named_by_its_hash(engine: Engine) -> None:
    served = register()
    with transaction(engine) as session:
        version = record_served(session, served)
    expected = json.dumps(
        served.model_dump(mode="json", by_alias=True),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert version.content == expected
    assert version.content_hash == hashlib.sha256(expected.encode()).hexdigest()
    assert version.updated == dt.date(2024, 7, 2)
    assert version.first_served_at.tzinfo == dt.UTC
    assert abs(dt.datetime.now(dt.UTC) - version.first_served_at) < dt.timedelta(minutes=1)


def test_versions_are_listed_newest_first(engine: Engine) -> None:
    for updated in ("2024-07-02", "2024-08-01", "2024-09-15"):
        with transaction(engine) as session:
            record_served(session, register(updated))
    with transaction(engine) as session:
        listed = [v.updated.isoformat() for v in list_versions(session)]
    assert listed == ["2024-09-15", "2024-08-01", "2024-07-02"]


def test_a_version_loads_back_as_the_register_that_was_served(engine: Engine) -> None:
    served = register(name="Ändrad Åkeri AB")
    with transaction(engine) as session:
        digest = record_served(session, served).content_hash
    with transaction(engine) as session:
        version = get_version(session, digest)
        assert version is not None
        assert load_version(version) == served
        assert get_version(session, "0" * 64) is None


def test_a_version_recorded_in_a_rolled_back_transaction_is_not_kept(engine: Engine) -> None:
    def serve_then_fail() -> None:
        with transaction(engine) as session:
            record_served(session, register())
            raise RuntimeError("request failed")

    with pytest.raises(RuntimeError, match="request failed"):
        serve_then_fail()
    assert count_versions(engine) == 0


def test_two_writers_storing_the_same_version_at_once_get_the_one_row(engine: Engine) -> None:
    # The first writer has stored the version but not committed when the second
    # one tries: the second must wait and then return the first one's row.
    served = register()

    def second_writer() -> int:
        with transaction(engine) as session:
            return record_served(session, served).id

    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction(engine) as session:
            first = record_served(session, served)
            second = pool.submit(second_writer)
            wait_until_blocked(engine)
            assert not second.done(), "the second writer did not wait for the first"
        assert second.result(timeout=30) == first.id
    assert count_versions(engine) == 1
