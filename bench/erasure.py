"""Erasure requests in the demo systems against hand-written SQL for the same people, one run.

The demo's SQL systems (CRM, newsletter, survey, accounting, telemarketing) are
filled with ``--size`` synthetic people in one database. Ombud erases
``--requests`` people, each through a whole request (plan, traversal from their
e-mail, personnummer and phone, erasure per collection, the verification pass,
the suppression list, the audit entries), timed from ``run`` to its end. The
baseline erases as many other people with the SQL a DBA would write by hand for
this schema (find the person ids, then one statement per table), one
transaction per person. The ratio is Ombud's time per person over the
baseline's.

    .venv/bin/python bench/erasure.py --size 100000 --requests 25
    .venv/bin/python bench/erasure.py --backend sqlite --size 50000

PostgreSQL: a scratch database on the local server is created and dropped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Connection, create_engine, text

from ombud import store
from ombud.demo import build_database, demo_register
from ombud.register import loads
from ombud.rights.execution import Runtime, run
from ombud.rights.intake import NewRequest, create_request
from ombud.rights.models import Channel
from ombud.store.crypto import Keys

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
SQL_SYSTEMS = ("crm", "newsletter", "survey", "accounting", "telemarketing")
KEYS = Keys.from_secret("benchmark secret key, not a real one")

BASELINE = [
    (
        "CREATE TEMPORARY TABLE gone AS SELECT id FROM persons "
        "WHERE email = :email OR personal_number = :pnr OR phone = :phone"
    ),
    "DELETE FROM company_contacts WHERE person_id IN (SELECT id FROM gone)",
    "DELETE FROM meetings WHERE person_id IN (SELECT id FROM gone)",
    "DELETE FROM cases WHERE person_id IN (SELECT id FROM gone)",
    "DELETE FROM network_members WHERE person_id IN (SELECT id FROM gone) OR email = :email",
    "UPDATE companies SET owner_person_id = NULL WHERE owner_person_id IN (SELECT id FROM gone)",
    (
        "UPDATE persons SET referred_by_person_id = NULL "
        "WHERE referred_by_person_id IN (SELECT id FROM gone)"
    ),
    "DELETE FROM persons WHERE id IN (SELECT id FROM gone)",
    "DELETE FROM newsletter_subscribers WHERE email = :email",
    (
        "UPDATE survey_answers SET person_id = NULL, email = NULL, comment = '[redacted]' "
        "WHERE email = :email OR person_id IN (SELECT id FROM gone)"
    ),
    (
        "UPDATE invoices SET restricted = TRUE "
        "WHERE personal_number = :pnr OR person_id IN (SELECT id FROM gone)"
    ),
    "DELETE FROM call_list WHERE phone = :phone",
    "DROP TABLE gone",
]


@contextmanager
def scratch(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ombud-bench-") as directory:
            yield f"sqlite:///{Path(directory) / 'systems.db'}"
        return
    name = f"ombud_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def people(connection: Connection, count: int) -> list[tuple[str, str, str]]:
    """Distinct people with an e-mail, personnummer and phone, spread over the table."""
    rows = connection.execute(
        text(
            "SELECT email, personal_number, phone FROM persons WHERE email IS NOT NULL "
            "AND personal_number IS NOT NULL AND phone IS NOT NULL ORDER BY id"
        )
    ).all()
    step = max(1, len(rows) // count)
    chosen: list[tuple[str, str, str]] = []
    emails: set[str] = set()
    for email, pnr, phone in rows[::step]:
        if email not in emails:
            emails.add(email)
            chosen.append((email, pnr, phone))
    return chosen[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=25)
    args = parser.parse_args()

    with scratch(args.backend) as url, tempfile.TemporaryDirectory() as work:
        started = time.perf_counter()
        build_database(url, size=args.size, seed=7)
        print(
            f"built {args.size:,} people on {args.backend} in {time.perf_counter() - started:.1f} s"
        )
        register_text = demo_register(dict.fromkeys(SQL_SYSTEMS, url))
        # Only the SQL systems: the files and manual systems are not what is measured.
        loaded = loads(register_text, "bench.yaml").register
        register = loaded.model_copy(
            update={"systems": [s for s in loaded.systems if s.id in SQL_SYSTEMS]}
        )
        store_url = f"sqlite:///{Path(work) / 'ombud.db'}"
        store.upgrade(store_url)
        engine = store.make_engine(store_url)
        systems = create_engine(url)
        with systems.connect() as connection:
            chosen = people(connection, 2 * args.requests)
        ours, theirs = chosen[: args.requests], chosen[args.requests :]
        runtime = Runtime(register=register, register_dir=Path(work), keys=KEYS)

        ombud_times: list[float] = []
        for email, pnr, phone in ours:
            now = dt.datetime.now(dt.UTC)
            with store.transaction(engine) as session:
                request_id = create_request(
                    session,
                    NewRequest(
                        type="erasure",
                        identifiers=[("email", email), ("personnummer", pnr), ("phone", phone)],
                        channel=Channel.HANDLER,
                        verified_note="benchmark",
                    ),
                    register=register,
                    register_version="b" * 64,
                    keys=KEYS,
                    actor="bench",
                    now=now,
                ).id
            started = time.perf_counter()
            request = run(engine, request_id, runtime)
            ombud_times.append(time.perf_counter() - started)
            assert request.state == "completed", [
                (s.system_id, s.state, s.error) for s in request.steps
            ]

        baseline_times: list[float] = []
        for email, pnr, phone in theirs:
            started = time.perf_counter()
            with systems.begin() as connection:
                for statement in BASELINE:
                    connection.execute(
                        text(statement), {"email": email, "pnr": pnr, "phone": phone}
                    )
            baseline_times.append(time.perf_counter() - started)
        systems.dispose()
        engine.dispose()

    ours_ms = statistics.median(ombud_times) * 1000
    base_ms = statistics.median(baseline_times) * 1000
    print(f"people in the systems   {args.size:,}")
    print(
        f"erasure requests        {len(ombud_times)} (Ombud) and {len(baseline_times)} "
        "(hand-written SQL)"
    )
    print(
        f"Ombud, whole request    {ours_ms:8.1f} ms median per person "
        f"(p90 {sorted(ombud_times)[int(0.9 * len(ombud_times))] * 1000:.1f} ms)"
    )
    print(f"hand-written SQL        {base_ms:8.1f} ms median per person")
    print(f"ratio                   {ours_ms / base_ms:8.1f} x the hand-written SQL")


if __name__ == "__main__":
    main()
