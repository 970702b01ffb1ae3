"""Build the demo: synthetic people in SQLite files and log files, and the register for them.

:func:`build_demo` is what ``ombud demo`` runs; :func:`build_database` fills
one SQL server database (PostgreSQL, MariaDB) with all the demo's tables, for
tests of connectors and of the rights engine on real servers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine, MetaData, create_engine
from sqlalchemy.pool import NullPool

from ombud.demo import load, rows, weblogs
from ombud.demo.identities import phone_written
from ombud.demo.people import Population, make_population
from ombud.demo.pools import seeded
from ombud.demo.register import EXAMPLE, demo_register
from ombud.demo.schema import METADATA, SYSTEM_FILES

__all__ = ["MANIFEST", "build_database", "build_demo"]

#: What :func:`build_demo` built, for people and tests: row counts and the edge cases.
MANIFEST = "demo.json"


def _today() -> date:
    return datetime.now(UTC).date()


def build_demo(
    directory: Path,
    *,
    size: int,
    seed: int = 1,
    today: date | None = None,
    progress: TextIO | None = None,
    example: Path = EXAMPLE,
) -> Path:
    """Build the demo in ``directory`` and return the path of its register, ``ombud.yaml``.

    ``directory`` gets one SQLite file per SQL system (``crm.db``, ``newsletter.db``,
    ``survey.db``, ``accounting.db``, ``telemarketing.db``), the website's logs
    (``logs/``), ``ombud.yaml`` (the Almi register with those systems, referenced by
    paths relative to it) and ``demo.json`` (row counts and where the edge cases are).
    Files of an earlier demo are replaced; other files are left alone.

    ``size`` is the number of persons; the other tables scale with it. The same
    ``size``, ``seed`` and ``today`` (default: the current UTC date, from which all
    dates count back) give the same data. ``progress``, if given, is a stream
    (standard error) for a progress bar. Raises :class:`ValueError` for a size below
    :data:`~ombud.demo.MIN_SIZE` and :class:`FileNotFoundError` without the example.
    """
    for name in ("ombud.yaml", "systems.yaml"):
        if not (example / name).is_file():
            raise FileNotFoundError(
                f"the Almi example has no {name} at {example}; build from a source checkout "
                "or pass example= the directory holding ombud.yaml and systems.yaml"
            )
    directory.mkdir(parents=True, exist_ok=True)
    lines = weblogs.planned_lines(size)
    bar = _progress(size, progress, extra=sum(lines.values()))
    bar.advance("people", 0)
    people = make_population(size, seed, today or _today())
    engines: dict[str, Engine] = {}
    for system, file in SYSTEM_FILES.items():
        path = directory / file
        path.unlink(missing_ok=True)
        engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
        load.tune_sqlite(engine)
        engines[system] = engine
    try:
        counts = _fill(people, engines, bar)
    finally:
        for engine in engines.values():
            engine.dispose()
    for old in (directory / "logs").glob("access.log*"):
        old.unlink()
    access = weblogs.write_access_logs(people, directory, seeded(seed, "access_log"))
    bar.advance("access logs", lines["access_log"])
    events = weblogs.write_events(people, directory, seeded(seed, "events"))
    bar.advance("events", lines["events"])
    register = directory / "ombud.yaml"
    register.write_text(
        demo_register(
            {system: f"sqlite:///{file}" for system, file in SYSTEM_FILES.items()}, example=example
        ),
        encoding="utf-8",
    )
    manifest = _manifest(people, counts)
    manifest["files"] = {
        "access_log": [p.relative_to(directory).as_posix() for p in access],
        "events": events.relative_to(directory).as_posix(),
    }
    (directory / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    bar.finish(f"built {directory}")
    return register


def build_database(
    url: str,
    *,
    size: int,
    seed: int = 1,
    today: date | None = None,
    progress: TextIO | None = None,
) -> dict[str, int]:
    """Fill the database at ``url`` with every SQL table of the demo; return the row counts.

    All systems go into the one database (no two share a table name). Demo
    tables already there are dropped first; no other table is touched. The same
    ``size``, ``seed`` and ``today`` give the same rows as :func:`build_demo`.
    """
    bar = _progress(size, progress)
    bar.advance("people", 0)
    people = make_population(size, seed, today or _today())
    engine = create_engine(url, poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        load.tune_sqlite(engine)
    try:
        everything = MetaData()
        for metadata in METADATA.values():
            for table in metadata.sorted_tables:
                table.to_metadata(everything)
        everything.drop_all(engine)
        counts = _fill(people, dict.fromkeys(METADATA, engine), bar)
    finally:
        engine.dispose()
    bar.finish("built")
    return counts


def _progress(size: int, stream: TextIO | None, *, extra: int = 0) -> load.Progress:
    total = sum(rows.planned_counts(size).values()) + extra
    return load.Progress(total, stream, enabled=stream is not None)


def _fill(people: Population, engines: Mapping[str, Engine], bar: load.Progress) -> dict[str, int]:
    """Create each system's tables on its engine and load its rows; return the counts."""
    counts: dict[str, int] = {}
    updates = rows.deferred_updates(people)
    for system, shared in METADATA.items():
        # a private copy: adding a foreign key later (PostgreSQL) marks the constraint
        # as not part of CREATE TABLE, which must not leak into the next build
        metadata = MetaData()
        for table in shared.sorted_tables:
            table.to_metadata(metadata)
        with engines[system].begin() as connection:
            load.create_tables(connection, metadata)
            for table in metadata.sorted_tables:
                counts[table.name] = load.insert_rows(
                    connection,
                    table,
                    rows.ROWS[table.name](people, seeded(people.seed, table.name)),
                    bar,
                )
            tables = dict(metadata.tables)
            load.apply_updates(connection, tables, [u for u in updates if u[0] in tables])
            bar.advance("indexes", 0)
            load.finish_tables(connection, metadata)
            load.reset_sequences(connection, metadata)
    return counts


def _manifest(people: Population, counts: dict[str, int]) -> dict[str, Any]:
    edge = people.edge
    shared = edge.shared_email[0] - 1
    sole = edge.sole_trader - 1
    coordination = edge.coordination_number - 1
    e = edge.everywhere - 1
    return {
        "size": people.size,
        "seed": people.seed,
        "today": people.today.isoformat(),
        "rows": counts,
        "edge_cases": {
            "shared_email": {"person_ids": list(edge.shared_email), "email": people.email[shared]},
            "phone_forms": {
                "person_id": edge.phone_forms,
                "crm": people.phone[edge.phone_forms - 1],
                "telemarketing": phone_written(people.phone[edge.phone_forms - 1], 1),
            },
            "sole_trader": {
                "person_id": edge.sole_trader,
                "company_id": 1,
                "orgnr": people.personal_number[sole],
            },
            "protected_identity": {
                "person_id": edge.protected_identity,
                "count": sum(people.protected),
            },
            "referral_cycle": {"person_ids": list(edge.referral_cycle)},
            "coordination_number": {
                "person_id": edge.coordination_number,
                "personal_number": people.personal_number[coordination],
            },
            "everywhere": {
                "person_id": edge.everywhere,
                "email": people.email[e],
                "phone": people.phone[e],
                "personal_number": people.personal_number[e],
                "visitor_id": people.visitor[e],
                "ip": people.ip[e],
            },
            "ip_only": {"ip": edge.ip_only},
        },
    }
