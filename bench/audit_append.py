"""Audit log append rate against a raw INSERT of the same rows, measured in one run.

Each audit entry is written the way Ombud writes it: in its own transaction,
hash-chained to the previous one, with the chain head locked until commit. The
baseline inserts the same rows (seq, time, actor, action, object id, counts,
two 64-character hashes) into a plain table, also one transaction per row, so
the ratio is the price of the chain and its checks.

    .venv/bin/python bench/audit_append.py [--url URL] [--entries N] [--writers W]

Without --url it creates (and drops) a scratch database on the PostgreSQL
server at 127.0.0.1:5432; `--url sqlite:///...` measures SQLite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Engine, text

from ombud import audit, store

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@contextmanager
def scratch_postgres() -> Iterator[str]:
    name = f"ombud_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_threads(writers: int, per_writer: int, write: Callable[[int, int], None]) -> float:
    def work(writer: int) -> None:
        for index in range(per_writer):
            write(writer, index)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def audit_rate(engine: Engine, writers: int, per_writer: int) -> float:
    def write(writer: int, index: int) -> None:
        with store.transaction(engine) as session:
            audit.append(
                session,
                actor=f"user:{writer}",
                action="request.verified",
                object_id=f"request:{writer}-{index}",
                counts={"systems": 3},
            )

    return writers * per_writer / run_threads(writers, per_writer, write)


def raw_rate(engine: Engine, writers: int, per_writer: int) -> float:
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE bench_plain (seq BIGINT, time TIMESTAMP, actor VARCHAR(200), "
                "action VARCHAR(200), object_id VARCHAR(200), counts TEXT, "
                "prev_hash CHAR(64), hash CHAR(64))"
            )
        )
    insert = text(
        "INSERT INTO bench_plain VALUES (:seq, :time, :actor, :action, :object_id, :counts, "
        ":prev_hash, :hash)"
    )

    def write(writer: int, index: int) -> None:
        digest = hashlib.sha256(f"{writer}-{index}".encode()).hexdigest()
        with engine.begin() as connection:
            connection.execute(
                insert,
                {
                    "seq": writer * per_writer + index,
                    "time": dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    "actor": f"user:{writer}",
                    "action": "request.verified",
                    "object_id": f"request:{writer}-{index}",
                    "counts": json.dumps({"systems": 3}),
                    "prev_hash": digest,
                    "hash": digest,
                },
            )

    return writers * per_writer / run_threads(writers, per_writer, write)


def measure(url: str, entries: int, writers: int) -> None:
    store.upgrade(url)
    engine = store.make_engine(url)
    per_writer = entries // writers
    baseline = raw_rate(engine, writers, per_writer)
    chained = audit_rate(engine, writers, per_writer)
    with store.transaction(engine) as session:
        result = audit.verify(session)
    assert result.ok, result.reason
    start = time.perf_counter()
    with store.transaction(engine) as session:
        audit.verify(session)
    verify_rate = result.checked / (time.perf_counter() - start)
    engine.dispose()
    print(f"database            {store.display_url(url).split('@')[-1]}")
    print(f"writers x entries   {writers} x {per_writer}")
    print(f"raw INSERT          {baseline:10.0f} rows/s (one transaction per row)")
    print(f"audit.append        {chained:10.0f} entries/s (one transaction per entry)")
    print(f"ratio               {chained / baseline:10.2f} of the raw INSERT rate")
    print(f"audit.verify        {verify_rate:10.0f} entries/s ({result.checked} entries, intact)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="database URL (default: a scratch PostgreSQL database)")
    parser.add_argument("--entries", type=int, default=4000)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()
    if args.url:
        measure(args.url, args.entries, args.writers)
        return
    with scratch_postgres() as url:
        measure(url, args.entries, args.writers)


if __name__ == "__main__":
    main()
