"""Submission limits in the database (ombud.store.limits), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, func, select

from loops import run
from ombud.store import make_engine, transaction
from ombud.store.crypto import Keys
from ombud.store.limits import Admission, SubmissionHit, SubmissionLimit, give_back, take
from ombud.web.forms import SubmissionLimiter

KEYS = Keys.from_secret("a test secret that is long enough for ombud!")
REQUESTS = SubmissionLimit("requests", limit=5, window=dt.timedelta(minutes=10))
T0 = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)


def take_at(
    engine: Engine, client: str | None, at: dt.datetime, limit: SubmissionLimit = REQUESTS
) -> Admission:
    with transaction(engine) as session:
        return take(session, KEYS, limit, client, now=at)


def rows(engine: Engine) -> list[SubmissionHit]:
    with transaction(engine) as session:
        return list(session.scalars(select(SubmissionHit)))


def test_the_sixth_submission_in_the_window_waits_until_the_oldest_lapses(engine: Engine) -> None:
    admitted = [take_at(engine, "198.51.100.7", T0 + dt.timedelta(minutes=i)) for i in range(5)]
    assert all(a.wait == 0 and a.hit is not None for a in admitted)
    refused = take_at(engine, "198.51.100.7", T0 + dt.timedelta(minutes=5))
    # The oldest (T0) lapses at T0 + 10 min: five minutes from now, rounded up.
    assert refused == Admission(wait=301, hit=None)
    # Another address, and the same address for another scope, are counted apart.
    assert take_at(engine, "198.51.100.8", T0 + dt.timedelta(minutes=5)).wait == 0
    signups = SubmissionLimit("signups")
    assert take_at(engine, "198.51.100.7", T0 + dt.timedelta(minutes=5), signups).wait == 0
    # Once the oldest has lapsed, the address may submit again.
    assert take_at(engine, "198.51.100.7", T0 + dt.timedelta(minutes=10, seconds=1)).wait == 0


def test_the_address_is_stored_only_as_a_keyed_hash_and_only_for_the_window(
    engine: Engine,
) -> None:
    take_at(engine, "198.51.100.7", T0)
    take_at(engine, None, T0)  # no address known: counted under the empty one
    stored = rows(engine)
    assert len(stored) == 2
    assert all(len(r.key) == 64 and "198.51" not in r.key for r in stored)
    assert KEYS.identifier("submission-requests", "198.51.100.7") in {r.key for r in stored}
    # Any later take deletes every row older than the window, whoever's it was.
    take_at(engine, "203.0.113.1", T0 + dt.timedelta(minutes=10))
    assert [r.submitted_at for r in rows(engine)] == [T0 + dt.timedelta(minutes=10)]


def test_a_submission_given_back_does_not_count(engine: Engine) -> None:
    for _ in range(5):
        admission = take_at(engine, "198.51.100.7", T0)
        with transaction(engine) as session:
            give_back(session, admission)
    assert rows(engine) == []
    assert take_at(engine, "198.51.100.7", T0).wait == 0
    with transaction(engine) as session:
        give_back(session, Admission(wait=30))  # a refusal has nothing to give back


def test_simultaneous_submissions_cannot_pass_the_limit_together(engine: Engine) -> None:
    # Twenty posts from one address at the same moment, on separate connections.
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda _: take_at(engine, "198.51.100.7", T0), range(20)))
    assert sum(1 for a in outcomes if a.wait == 0) == 5
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(SubmissionHit)) == 5


def test_limiters_of_two_server_processes_share_the_count(database_url: str) -> None:
    # Two apps (two processes of `ombud serve --workers 2`) on one database.
    engines = [make_engine(database_url), make_engine(database_url)]
    clock = iter(T0 + dt.timedelta(seconds=i) for i in range(100))
    limiters = [
        SubmissionLimiter(engine, KEYS, REQUESTS, clock=lambda: next(clock)) for engine in engines
    ]

    def submit(which: int) -> Admission:
        return run(limiters[which].admit("198.51.100.7"))

    try:
        outcomes = [submit(i % 2) for i in range(6)]
        assert [a.wait == 0 for a in outcomes] == [True] * 5 + [False]
        run(limiters[1].give_back(outcomes[0]))
        assert submit(0).wait == 0
    finally:
        for engine in engines:
            engine.dispose()


def test_a_limit_admits_at_least_one_in_a_real_window() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SubmissionLimit("x", limit=0)
    with pytest.raises(ValueError, match="longer than 0"):
        SubmissionLimit("x", window=dt.timedelta(0))
