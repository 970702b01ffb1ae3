"""How fast the demo generator fills a database, against a raw executemany in the same run.

For each backend it times :func:`ombud.demo.build_database` (people, rows,
bulk load, indexes: everything) and reports rows/s. The baseline is the
fastest a plain DB-API loop can insert: the same number of rows, prebuilt as
tuples before the clock starts (the demo's own ``persons`` rows, the widest
table, renumbered), ``executemany`` into a fresh ``persons`` table in batches of
50,000, one transaction. The ratio is build rate / baseline rate: 1.0 would be
generating and indexing for free.

It also measures why the generator samples pools instead of calling Faker per
field: one ``Faker.first_name()`` against one draw from a pool.

    .venv/bin/python bench/demo_generate.py --size 1000000
    .venv/bin/python bench/demo_generate.py --size 200000 --backend postgresql

PostgreSQL: a scratch database on ``--postgres`` (default: the local server,
user postgres, trust) is created and dropped. The demo loads it with COPY; the
baseline is psycopg's ``executemany``, so the ratio can exceed 1.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from itertools import islice
from pathlib import Path
from random import Random

import psycopg
from faker import Faker
from sqlalchemy import MetaData, create_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateTable

from ombud.demo import build_database
from ombud.demo.load import insert_sql, tune_sqlite
from ombud.demo.people import make_population
from ombud.demo.pools import make_pools, seeded
from ombud.demo.rows import BATCH, persons
from ombud.demo.schema import TABLES

TODAY = date(2025, 6, 30)
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_url(backend: str, postgres: str) -> Iterator[str]:
    """A fresh, empty database for one measurement, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ombud-bench-") as directory:
            yield f"sqlite:///{Path(directory) / 'demo.db'}"
        return
    name = f"ombud_bench_{secrets.token_hex(4)}"
    admin = psycopg.connect(postgres.replace("+psycopg", ""), autocommit=True)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield postgres.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build(url: str, size: int) -> tuple[int, float]:
    """(rows, seconds) of a whole build_database."""
    started = time.perf_counter()
    counts = build_database(url, size=size, today=TODAY, progress=sys.stderr)
    return sum(counts.values()), time.perf_counter() - started


def baseline(url: str, size: int, count: int) -> float:
    """Seconds for a raw executemany of ``count`` prebuilt persons tuples."""
    people = make_population(size, 1, TODAY)
    prebuilt = [row for batch in persons(people, seeded(1, "persons")) for row in batch]
    rows = [
        (k + 1, *prebuilt[k % len(prebuilt)][1:-1], None)  # fresh ids, no referrals
        for k in range(count)
    ]
    del people, prebuilt
    engine = create_engine(url, poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        tune_sqlite(engine)  # the build runs with the same settings
    table = TABLES["persons"].to_metadata(MetaData())
    try:
        with engine.begin() as connection:
            connection.execute(CreateTable(table))
        with engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            cursor = driver.cursor()
            sql = insert_sql(connection.dialect, table)
            started = time.perf_counter()
            iterator = iter(rows)
            while batch := list(islice(iterator, BATCH)):
                cursor.executemany(sql, batch)
            driver.commit()
            return time.perf_counter() - started
    finally:
        engine.dispose()


def faker_ratio(calls: int = 20_000) -> tuple[float, float]:
    """Microseconds for one Faker first_name() and for one draw from a pool."""
    fake = Faker("sv_SE")
    fake.seed_instance(1)
    started = time.perf_counter()
    for _ in range(calls):
        fake.first_name()
    faker = (time.perf_counter() - started) / calls * 1e6
    pool = make_pools(1).female_first_names
    rng = Random(1)
    started = time.perf_counter()
    for _ in range(100):
        rng.choices(pool, k=calls)
    pooled = (time.perf_counter() - started) / (100 * calls) * 1e6
    return faker, pooled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=200_000, help="persons (default 200,000)")
    parser.add_argument(
        "--backend", choices=("sqlite", "postgresql", "all"), default="all", help="default: all"
    )
    parser.add_argument("--postgres", default=POSTGRES, help="the server's postgres database")
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "all" else (args.backend,)

    faker, pooled = faker_ratio()
    print(
        f"Faker first_name(): {faker:.1f} µs; a pool draw: {pooled:.2f} µs; "
        f"pools are {faker / pooled:,.0f}x faster"
    )
    print(f"demo of {args.size:,} persons, seed 1")
    for backend in backends:
        with scratch_url(backend, args.postgres) as url:
            rows, seconds = build(url, args.size)
        with scratch_url(backend, args.postgres) as url:
            raw = baseline(url, args.size, rows)
        rate, raw_rate = rows / seconds, rows / raw
        print(
            f"{backend:<10} build {rows:,} rows in {seconds:.1f} s = {rate:,.0f} rows/s; "
            f"baseline executemany {raw:.1f} s = {raw_rate:,.0f} rows/s; "
            f"ratio {rate / raw_rate:.2f}"
        )


if __name__ == "__main__":
    main()
