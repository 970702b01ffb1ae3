"""The processing gate for the largest batch, against the bare lookups it needs, one run.

10,000 subjects (half with a phone as well as an e-mail) x 3 activities, with a
tenth of them suppressed. Ombud's answer normalises every identifier, HMACs it,
looks the digests up set-based and decides per activity. The baseline runs only
the two lookups (suppressions, restrictions) for the same precomputed digests.

    .venv/bin/python bench/gate_check.py [--url sqlite:///... | postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from ombud import store
from ombud.gate import check
from ombud.register import load
from ombud.rights.models import Restriction, Suppression
from ombud.store.crypto import Keys

ALMI = Path(__file__).resolve().parents[1] / "examples" / "almi" / "ombud.yaml"
KEYS = Keys.from_secret("benchmark secret key, not a real one")
SIZE = 10_000
ACTIVITIES = ["direct-marketing", "customer-service", "newsletter"]


def measure(url: str) -> None:
    store.upgrade(url)
    engine = store.make_engine(url)
    register = load(ALMI).register
    now = dt.datetime.now(dt.UTC)
    subjects = [
        {"email": f"person{i}@example.se", "phone": f"070-{1_000_000 + i}"}
        if i % 2
        else {"email": f"person{i}@example.se"}
        for i in range(SIZE)
    ]
    with store.transaction(engine) as session:
        session.add_all(
            Suppression(
                digest=KEYS.identifier("email", f"person{i}@example.se"),
                kind="email",
                reason="objection",
                activity="",
                created_at=now,
            )
            for i in range(0, SIZE, 10)
        )
    digests = [KEYS.identifier("email", f"person{i}@example.se") for i in range(SIZE)]

    started = time.perf_counter()
    with store.transaction(engine) as session:
        decisions = check(
            session, KEYS, register, activities=ACTIVITIES, subjects=subjects, now=now
        )
    ours = time.perf_counter() - started
    assert len(decisions) == SIZE * len(ACTIVITIES)

    started = time.perf_counter()
    with store.transaction(engine) as session:
        for start in range(0, SIZE, 1_000):
            chunk = digests[start : start + 1_000]
            session.execute(select(Suppression).where(Suppression.digest.in_(chunk))).all()
            session.execute(select(Restriction).where(Restriction.digest.in_(chunk))).all()
    baseline = time.perf_counter() - started
    engine.dispose()
    print(f"database             {engine.dialect.name}")
    print(f"gate, whole batch    {ours * 1000:8.1f} ms for {SIZE:,} subjects x 3 activities")
    print(f"bare lookups         {baseline * 1000:8.1f} ms for the same digests")
    print(f"ratio                {ours / baseline:8.1f} x the bare lookups")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="Ombud's database (default: a temporary SQLite file)")
    args = parser.parse_args()
    if args.url:
        measure(args.url)
        return
    with tempfile.TemporaryDirectory() as directory:
        measure(f"sqlite:///{Path(directory) / 'ombud.db'}")


if __name__ == "__main__":
    main()
